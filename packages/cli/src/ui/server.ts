/**
 * The HTTP server of `modelstore ui` (node:http): the page (packages/cli/ui, plain ES
 * modules, no build step), preact and htm from the CLI's own dependencies, and the JSON
 * API of `api.ts`. Binds 127.0.0.1 unless told otherwise.
 *
 * Protection (see UI-API.md, "Security"):
 * - a foreign `Host` header is refused (403), so a DNS-rebinding page cannot reach the API;
 * - a random per-process token: the printed URL carries it once (`/?token=...`), the server
 *   answers with an HttpOnly, SameSite=Strict cookie for this port and a redirect to `/`;
 *   every API request needs the cookie or the token in `X-Modelstore-Token`
 *   (or `Authorization: Bearer <token>`), else 401;
 * - writes (PUT, DELETE) need the token in a header, `X-Modelstore-Token` or
 *   `Authorization: Bearer` — a cookie alone is not enough — and an `Origin`, when sent, of
 *   this server; read-only unless `allowWrites`;
 * - a wildcard host (`0.0.0.0`, `::`) also accepts Host headers naming any address of this
 *   machine (`os.networkInterfaces()`), never other names.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError, type ModelStore } from '@modelstore/core';
import { ApiError, sendJson, statusOf, UiApi } from './api.js';

/** How to serve a store. */
export interface UiServerOptions {
  store: ModelStore;
  /** The store as the user gave it, for the command lines on the model page; undefined when it came from `MODEL_STORE_*` variables. */
  storeUri?: string | undefined;
  /** The address to bind. Default `127.0.0.1`. A wildcard (`0.0.0.0`, `::`) listens on every address: the URL names 127.0.0.1, and Host headers naming any address of this machine are accepted. */
  host?: string;
  /** The port; 0 (default) takes a free one. */
  port?: number;
  /** Serve the write routes (set/unset states, soft-delete). Default false. */
  allowWrites?: boolean;
  /** The per-process token (default: 32 random bytes, hex). */
  token?: string;
  /** How long a domain's listing is reused between requests, in milliseconds (default 10000). */
  listingTtlMs?: number;
}

/** A running server. */
export interface UiServer {
  /** The address to open: `http://127.0.0.1:<port>/?token=<token>` (127.0.0.1 too when `host` is a wildcard, `0.0.0.0` or `::`). */
  url: string;
  /** `http://<host>:<port>`, without the token. */
  origin: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

/** The front end's folder: `ui/` at the package's root (beside `dist/` and `src/`). */
export const uiFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');

const requireHere = createRequire(import.meta.url);
/** The browser modules served from the CLI's dependencies, by URL. */
const vendor: Record<string, () => string> = {
  '/vendor/preact.mjs': () => requireHere.resolve('preact'),
  '/vendor/preact-hooks.mjs': () => requireHere.resolve('preact/hooks'),
  // htm's `require` entry is dist/htm.js; its ES module is dist/htm.mjs beside it.
  '/vendor/htm.mjs': () => path.join(path.dirname(requireHere.resolve('htm')), 'htm.mjs'),
};
const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Starts the server; resolves once it listens. */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(32).toString('hex');
  const api = new UiApi({ store: options.store, storeUri: options.storeUri, allowWrites: options.allowWrites ?? false, ...(options.listingTtlMs === undefined ? {} : { listingTtlMs: options.listingTtlMs }) });
  let port = 0;
  const cookieName = () => `modelstore-ui-${port}`;
  const tokenBytes = Buffer.from(token);
  const matches = (value: string | undefined) => value !== undefined && value.length === token.length && timingSafeEqual(Buffer.from(value), tokenBytes);
  const hostLabel = host.includes(':') ? `[${host}]` : host;
  const wildcard = isWildcardHost(host);
  // A wildcard host listens on every address: the page opens at 127.0.0.1, and a Host header naming any address of this machine is accepted (names are not: DNS rebinding).
  const urlLabel = wildcard ? '127.0.0.1' : hostLabel;
  const allowedHosts = () => {
    const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${hostLabel}:${port}`]);
    if (wildcard) for (const address of machineAddresses()) allowed.add(`${address.includes(':') ? `[${address}]` : address}:${port}`);
    return allowed;
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const { status, code, message } = statusOf(error);
      sendJson(response, status, { error: { code, message } });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('referrer-policy', 'no-referrer');
    response.setHeader('x-frame-options', 'DENY');
    const hostHeader = (request.headers.host ?? '').toLowerCase();
    if (!allowedHosts().has(hostHeader)) throw new ApiError(403, 'FORBIDDEN_HOST', `The Host header "${request.headers.host ?? ''}" is not this server's: open ${urlLabel}:${port}${wildcard ? " or one of this machine's addresses" : ''}`);
    const url = new URL(request.url ?? '/', `http://${hostHeader}`);
    const method = request.method ?? 'GET';
    const presented = headerToken(request);
    const cookie = cookieValue(request.headers.cookie, cookieName());
    const authenticated = matches(presented) || matches(cookie);

    if (url.pathname.startsWith('/api/')) {
      if (!authenticated) throw new ApiError(401, 'UNAUTHORIZED', 'This request carries no valid token: open the address `modelstore ui` printed, or send the token in X-Modelstore-Token');
      if (method !== 'GET' && method !== 'HEAD') {
        if (!matches(presented)) throw new ApiError(403, 'TOKEN_REQUIRED', 'A write needs the token in the X-Modelstore-Token header or as Authorization: Bearer <token> (a cookie alone is refused, against cross-site requests)');
        const origin = request.headers.origin;
        if (origin !== undefined && origin !== `http://${hostHeader}`) throw new ApiError(403, 'FORBIDDEN_ORIGIN', `A write from ${origin} is refused: only this page may write`);
      }
      let segments: string[];
      try {
        segments = url.pathname.slice('/api/'.length).split('/').filter(Boolean).map(decodeURIComponent);
      } catch {
        throw new ApiError(400, 'USAGE', `The path ${url.pathname} is not valid percent-encoding`);
      }
      await api.handle(request, response, segments, url.searchParams);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'METHOD', `${method} is not served here`);
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204);
      response.end();
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const given = url.searchParams.get('token');
      if (given !== null) {
        if (!matches(given)) throw new ApiError(401, 'UNAUTHORIZED', 'This token is not the one `modelstore ui` printed (each run makes a new one)');
        response.writeHead(303, { location: '/', 'set-cookie': `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`, 'cache-control': 'no-store' });
        response.end();
        return;
      }
      if (!authenticated) {
        const body = '<!doctype html><meta charset="utf-8"><title>modelstore ui</title><p>Open the address that <code>modelstore ui</code> printed: it carries this page\'s token.</p>';
        response.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(body);
        return;
      }
      const nonce = randomUUID();
      const page = (await readFile(path.join(uiFolder, 'index.html'), 'utf8'))
        .replaceAll('{{nonce}}', nonce)
        .replace('{{token}}', token)
        .replace('{{allowWrites}}', options.allowWrites ? 'true' : 'false');
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
      });
      response.end(page);
      return;
    }
    const vendorFile = vendor[url.pathname];
    const file = vendorFile ? vendorFile() : url.pathname.startsWith('/ui/') ? staticFile(url.pathname.slice('/ui/'.length)) : undefined;
    if (!file) throw new ApiError(404, 'NOT_FOUND', `Nothing at ${url.pathname}`);
    const bytes = await readFile(file).catch(() => undefined);
    if (!bytes) throw new ApiError(404, 'NOT_FOUND', `Nothing at ${url.pathname}`);
    response.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-length': String(bytes.length), 'cache-control': 'no-cache' });
    response.end(method === 'HEAD' ? undefined : bytes);
  }

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(listenError(error, host, options.port ?? 0));
    server.once('error', failed);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${urlLabel}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Why the server could not listen, as an `InvalidOptionError` naming `--port` or `--host` and what to do. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') return new InvalidOptionError('--port', `--port ${port}: ${host}:${port} is already in use; choose another port, or --port 0 for a free one`);
  if (error.code === 'EACCES') return new InvalidOptionError('--port', `--port ${port}: not allowed to listen on ${host}:${port} (ports below 1024 need privileges); choose a port above 1023, or --port 0`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return new InvalidOptionError('--host', `--host ${host}: not an address of this machine (${error.code}); leave it out for 127.0.0.1`);
  return new InvalidOptionError('--host', `cannot listen on ${host}:${port}: ${error.message}`);
}

/** Whether `host` is a wildcard address (every interface): `0.0.0.0`, `::` and its long forms. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || /^(?:0{0,4}:){2,7}0{0,4}$/.test(host) || host === '::';
}

/** This machine's own addresses (`os.networkInterfaces()`), lower case, IPv6 link-local ones (which need a zone) left out. */
function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .map((entry) => entry.address.toLowerCase())
    .filter((address) => !address.includes('%') && !address.startsWith('fe80:'));
}

/** A file of the front end's folder by its name there; undefined for anything outside it or of an unknown kind. */
function staticFile(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || !types[path.extname(name)]) return undefined;
  return path.join(uiFolder, name);
}

function headerToken(request: IncomingMessage): string | undefined {
  const header = request.headers['x-modelstore-token'];
  if (typeof header === 'string') return header;
  const authorization = request.headers.authorization;
  return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
