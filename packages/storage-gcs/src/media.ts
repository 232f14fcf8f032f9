import { CRC32C, type Storage as GoogleStorage } from '@google-cloud/storage';
import { IntegrityError } from '@modelstore/core';
import { isRetryableError, isRetryableStatus } from '@modelstore/core/storage-kit';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { gcsErrors } from './errors.js';

/**
 * Media downloads (JSON API `GET .../o/<name>?alt=media`), sent here rather than
 * through the SDK's `createReadStream`. That stream, when an answer that is not a
 * success (404, 412, a 5xx after the last retry) lost its connection while the SDK
 * read its body for the error message, rejected a promise nothing awaited: a raw
 * `read ECONNRESET` escaped as an unhandled rejection. It also destroyed the
 * client's whole connection pool whenever a read broke off or was abandoned.
 * Reference: https://cloud.google.com/storage/docs/json_api/v1/objects/get
 * (`alt=media`, `generation`, `Range`; `x-goog-hash`, `x-goog-generation`,
 * `x-goog-stored-content-length` response headers).
 */
export interface MediaReadOptions {
  client: GoogleStorage;
  bucket: string;
  /** The object's full name in the bucket. */
  name: string;
  /** Read exactly this generation (a 404 when it is gone). */
  generation?: string;
  /** Inclusive byte offsets; `end` omitted = to the end. */
  range?: { start: number; end?: number };
  /** Attempts for the request (408, 429, 5xx, timeouts and broken connections are retried). */
  maxAttempts: number;
  /** The answer's headers must arrive within this long (ms); the body's pace is the caller's to watch. */
  requestTimeoutMs: number;
  signal?: AbortSignal;
}

/** An HTTP answer that is not success, shaped like the SDK's errors (`code` is the status). */
export class GcsHttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'GcsHttpError';
  }
}

export interface MediaResponse {
  header(name: string): string | undefined;
  /** The bytes; a whole-object read fails with `IntegrityError` at its end when they do not match the object's CRC32C. */
  body: Readable;
}

type Service = { apiEndpoint: string; customEndpoint?: boolean; useAuthWithCustomEndpoint?: boolean; authClient: { getRequestHeaders(url?: string): Promise<unknown> } };

/**
 * The JSON API's root URL (`https://storage.googleapis.com`, an `apiEndpoint`, an
 * emulator) as the SDK's own requests see it: its `baseUrl` without `/storage/v1`.
 * With STORAGE_EMULATOR_HOST set, the Node SDK takes that variable as its whole base
 * URL (`http://127.0.0.1:4443/storage/v1`) and as `apiEndpoint`, so `apiEndpoint`
 * alone would put `/storage/v1` in the path twice.
 */
export function apiRoot(client: GoogleStorage): string {
  const service = client as unknown as { baseUrl?: string; apiEndpoint: string };
  const base = typeof service.baseUrl === 'string' && /\/storage\/v1\/?$/.test(service.baseUrl) ? service.baseUrl : `${service.apiEndpoint}/storage/v1`;
  return base.replace(/\/storage\/v1\/?$/, '');
}

/** The request headers the SDK would authenticate with (none to a custom endpoint unless asked for). */
export async function authHeaders(client: GoogleStorage, url: string): Promise<Record<string, string>> {
  const service = client as unknown as Service;
  if (service.customEndpoint && service.useAuthWithCustomEndpoint !== true) return {};
  const headers = await service.authClient.getRequestHeaders(url);
  return headers instanceof Headers ? Object.fromEntries(headers.entries()) : (headers as Record<string, string>);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

/** The SDK's backoff between attempts: 1 s, 2 s, 4 s ... (at most 32 s) plus up to 1 s of jitter. */
function backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
  return wait(Math.min(32_000, 1000 * 2 ** (attempt - 1)) + Math.random() * 1000, signal);
}

/** The `message` of a JSON API error body, else the text itself. */
function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // Not JSON.
  }
  return text.slice(0, 300);
}

/**
 * Opens a media download and waits for its answer's headers, retrying what the SDK
 * retries. Throws `GcsHttpError` for an answer that is not 200/206 (after the last
 * attempt for retryable ones), the network error of the last attempt otherwise, or
 * the caller's abort reason.
 */
export async function openMedia(options: MediaReadOptions): Promise<MediaResponse> {
  const service = options.client as unknown as Service;
  const query = new URLSearchParams({ alt: 'media' });
  if (options.generation !== undefined && options.generation !== '') query.set('generation', options.generation);
  const url = `${apiRoot(options.client)}/storage/v1/b/${encodeURIComponent(options.bucket)}/o/${encodeURIComponent(options.name)}?${query.toString()}`;
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'cache-control': 'no-store' };
  if (options.range) headers.range = `bytes=${options.range.start}-${options.range.end ?? ''}`;
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${options.requestTimeoutMs} ms`, 'TimeoutError')), options.requestTimeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { headers: { ...(await authHeaders(options.client, url)), ...headers }, signal: controller.signal });
    } catch (error) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      signal?.throwIfAborted();
      // The kit's retry table: not a host that does not resolve.
      if (attempt >= options.maxAttempts || !isRetryableError(error, gcsErrors)) throw error;
      await backoff(attempt, signal);
      continue;
    } finally {
      clearTimeout(timer);
    }
    if (response.status !== 200 && response.status !== 206) {
      signal?.removeEventListener('abort', onAbort);
      // The error's text, if it arrives: a connection lost meanwhile changes nothing.
      const text = await response.text().catch(() => '');
      if (isRetryableStatus(response.status) && attempt < options.maxAttempts) {
        await backoff(attempt, signal);
        continue;
      }
      throw new GcsHttpError(response.status, `${response.status} ${errorMessage(text)}`);
    }
    const header = (name: string) => response.headers.get(name) ?? undefined;
    const web = response.body as WebReadableStream<Uint8Array> | null;
    let body: Readable = web ? Readable.fromWeb(web) : Readable.from([]);
    // Stop listening to the caller's signal once the body is done (the fetch keeps it otherwise).
    body.once('close', () => signal?.removeEventListener('abort', onAbort));
    const expected = /(?:^|,)\s*crc32c=([^,]+)/.exec(header('x-goog-hash') ?? '')?.[1];
    if (response.status === 200 && options.range === undefined && expected !== undefined && (header('x-goog-stored-content-encoding') ?? 'identity') === 'identity') {
      body = withCrc32c(body, expected, `gs://${options.bucket}/${options.name}`);
    }
    return { header, body };
  }
}

/** Passes bytes through and fails at the end with `IntegrityError` unless their CRC32C is `expected` (base64). */
function withCrc32c(source: Readable, expected: string, what: string): Readable {
  const crc = new CRC32C();
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      crc.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = crc.toString();
      callback(actual === expected ? null : new IntegrityError(`GCS read of ${what} arrived damaged: crc32c ${actual}, the object's is ${expected}`));
    },
  });
  source.on('error', (error) => check.destroy(error));
  check.on('close', () => source.destroy());
  return source.pipe(check);
}
