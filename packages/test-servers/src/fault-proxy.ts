import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { seededRandom } from './seeded-random.js';

/**
 * The faults the proxy injects:
 * - `500` / `503`: answers with that status without forwarding the request;
 * - `stall`: never answers (half the time the request is not forwarded, half the
 *   time it is forwarded and the server's answer is held back), until the client
 *   gives up or `stallMs` passes;
 * - `reset`: resets the TCP connection in the middle of a body — of the request's
 *   when it has one (the server sees a truncated upload), else of the response's
 *   (the client sees a truncated download, or no answer to an applied request).
 */
/** `'404'` (only by `decide`, never chosen at random: it is not transient) answers Not Found without forwarding, as a server that no longer knows the resource. */
export type Fault = '500' | '503' | '404' | 'stall' | 'reset';

export const allFaults: readonly Fault[] = ['500', '503', 'stall', 'reset'];

export interface FaultProxyOptions {
  /** The server to forward to: `http://127.0.0.1:<port>`. */
  target: string;
  /** Fraction of requests that get a fault, 0 to 1 (default 0: a plain proxy). */
  rate?: number;
  /** Faults to choose from, uniformly (default all of them). */
  faults?: readonly Fault[];
  /** Seed of the pseudo-random choices, so a run can be replayed (default 1). */
  seed?: number;
  /** How long a stalled request is held before the proxy drops its connection (default 30 s). */
  stallMs?: number;
  /**
   * Chooses the fault of each request instead of `rate` (for scripted scenarios):
   * `index` counts requests from 0. Stalls then always forward the request.
   */
  decide?: (request: { index: number; method: string; url: string; headers: IncomingHttpHeaders }) => Fault | undefined;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point the SDK here instead of at the server. */
  endpoint: string;
  /** Requests seen, and faults injected by kind. */
  readonly counts: { requests: number } & Record<Fault, number>;
  /** Requests received and not yet answered or dropped (stalled ones included). */
  readonly inFlight: number;
  /** Changes the fault rate from now on (0 turns faults off). */
  setRate(rate: number): void;
  close(): Promise<void>;
}

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer']);

function forwardHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const result: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!hopByHop.has(name) && value !== undefined) result[name] = value;
  return result;
}

function reset(socket: Socket | null): void {
  if (socket && !socket.destroyed) socket.resetAndDestroy();
}

/**
 * An HTTP proxy on 127.0.0.1 that sits between an SDK and a test server and, for a
 * set fraction of requests, answers 500 or 503, stalls past the client's timeout,
 * or resets the connection in the middle of a body. Everything else passes through
 * unchanged (headers included, so signatures stay valid); `Location` headers that
 * name the server are rewritten to the proxy, so resumable uploads stay behind it.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  let rate = options.rate ?? 0;
  const faults = options.faults ?? allFaults;
  const stallMs = options.stallMs ?? 30_000;
  const random = seededRandom(options.seed ?? 1);
  const counts = { requests: 0, '500': 0, '503': 0, '404': 0, stall: 0, reset: 0 };
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let endpoint = '';
  let inFlight = 0;

  const stall = (request: IncomingMessage, response: ServerResponse, cleanup: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      cleanup();
      reset(request.socket);
    }, stallMs);
    timers.add(timer);
    response.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
      cleanup();
    });
  };

  const forward = (request: IncomingMessage, response: ServerResponse, fault: Fault | undefined) => {
    const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    const upstream = http.request({
      host: target.hostname,
      port: target.port,
      method: request.method,
      path: request.url,
      headers: forwardHeaders(request.headers),
      agent,
    });
    upstream.on('error', () => reset(request.socket));
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    if (fault === 'reset' && hasBody) {
      // Forward part of the request body, then cut both connections.
      const length = Number(request.headers['content-length'] ?? 0);
      const cutoff = Math.max(1, Math.floor((length > 0 ? length : 64 * 1024) * random()));
      let sent = 0;
      request.on('data', (chunk: Buffer) => {
        if (sent >= cutoff) return;
        const part = chunk.subarray(0, cutoff - sent);
        sent += part.length;
        if (sent < cutoff) {
          upstream.write(part);
          return;
        }
        request.pause();
        // Let the part reach the server before cutting both connections.
        upstream.write(part, () =>
          setTimeout(() => {
            upstream.destroy();
            reset(request.socket);
          }, 5),
        );
      });
      request.on('end', () => {
        if (sent < cutoff) {
          upstream.destroy();
          reset(request.socket);
        }
      });
      return;
    }
    request.pipe(upstream);
    upstream.on('response', (answer) => {
      if (fault === 'stall') {
        answer.resume();
        stall(request, response, () => answer.destroy());
        return;
      }
      const headers = forwardHeaders(answer.headers);
      const location = headers.location;
      if (typeof location === 'string' && location.startsWith(target.origin)) headers.location = endpoint + location.slice(target.origin.length);
      if (fault === 'reset') {
        const length = Number(answer.headers['content-length'] ?? 0);
        if (length <= 1 || request.method === 'HEAD') {
          // Nothing to cut in the middle of: the request was applied, the answer is lost.
          answer.destroy();
          reset(request.socket);
          return;
        }
        const cutoff = Math.max(1, Math.floor(length * random()));
        response.writeHead(answer.statusCode ?? 502, headers);
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= cutoff) return;
          const part = chunk.subarray(0, cutoff - sent);
          sent += part.length;
          const last = sent >= cutoff;
          if (!response.write(part) && !last) {
            answer.pause();
            response.once('drain', () => answer.resume());
          }
          if (last) {
            answer.destroy();
            // Let the bytes reach the client before the reset, so the body is cut, not lost.
            response.write('', () => setTimeout(() => reset(request.socket), 5));
          }
        });
        return;
      }
      response.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(response);
    });
  };

  const server = http.createServer((request, response) => {
    const index = counts.requests++;
    inFlight++;
    response.on('close', () => inFlight--);
    const fault = options.decide ? options.decide({ index, method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers }) : rate > 0 && random() < rate ? faults[Math.floor(random() * faults.length)] : undefined;
    if (fault !== undefined) counts[fault]++;
    if (fault === '500' || fault === '503' || fault === '404') {
      request.resume();
      request.on('end', () => {
        const body = fault === '500' ? 'Internal error injected by the fault proxy' : fault === '503' ? 'Service unavailable: fault injected by the fault proxy' : 'Not Found: fault injected by the fault proxy';
        response.writeHead(Number(fault), { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
        response.end(body);
      });
      return;
    }
    if (fault === 'stall' && !options.decide && random() < 0.5) {
      request.resume();
      stall(request, response, () => undefined);
      return;
    }
    forward(request, response, fault);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    counts,
    get inFlight() {
      return inFlight;
    },
    setRate(value: number) {
      rate = value;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
