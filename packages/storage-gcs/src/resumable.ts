import { CRC32C, type File, type FileMetadata, type Storage as GoogleStorage } from '@google-cloud/storage';
import { StorageError } from '@modelstore/core';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isRetryableError } from '@modelstore/core/storage-kit';
import { gcsErrors } from './errors.js';
import { GcsHttpError, apiRoot, authHeaders, wait } from './media.js';

/**
 * GCS's resumable upload protocol (JSON API), driven here rather than by the
 * SDK's upload stream: that stream, after some failure sequences (a failed chunk, then a failed
 * status query), stops with "The offset is lower than the number of bytes written"
 * and keeps retrying in the background after it has been destroyed, so its late
 * error rejects nowhere (googleapis/nodejs-storage#2193). Here every chunk is
 * acknowledged before the next is read, a failure is followed by a status query,
 * and the upload resumes from the offset the server reports.
 */
export interface ResumableUploadOptions {
  client: GoogleStorage;
  file: File;
  /** Bytes per request (a multiple of 256 KiB); one chunk is held in memory. */
  chunkSize: number;
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** A request that has not completed within this long is abandoned and retried. */
  requestTimeoutMs: number;
  contentType?: string;
  ifGenerationMatch?: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

/**
 * The kit's retry table: HTTP 408, 429 and 5xx answers; timeouts, resets and refused
 * connections (fetch reports them as TypeError with a cause); not a host that does not
 * resolve, and not this upload's own typed errors.
 */
const isRetryable = (error: unknown) => isRetryableError(error, gcsErrors);

/** Exponential backoff with full jitter: about 0.25 s, 0.5 s, 1 s, ... capped at 8 s. */
function backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
  return wait(Math.random() * Math.min(8000, 250 * 2 ** (attempt - 1)), signal);
}

/** `bytes=0-N` → N + 1; no header → 0. */
function persisted(response: Response): number {
  const match = /bytes=0-(\d+)/.exec(response.headers.get('range') ?? '');
  return match ? Number(match[1]) + 1 : 0;
}

/**
 * One request over node:http(s), its body written as it is, answered as a web `Response`
 * (the body read whole: the answers here are small JSON documents or empty). Not `fetch`:
 * fetch copies a Buffer body, and with 8 MiB chunks those copies, garbage once sent,
 * pile up outside the JS heap until a full collection — tens of MiB of peak RSS per
 * upload. An abort rejects with the signal's reason, as fetch does (a `TimeoutError`
 * for the request timeout); a broken connection with Node's error (`ECONNRESET`, ...).
 */
function sendRequest(url: string, init: { method: string; headers: Record<string, string>; body: Buffer | string }, signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const target = new URL(url);
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    const outgoing = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: init.method, headers: { ...init.headers, 'content-length': String(body.length) } });
    let settled = false;
    const finish = (error: unknown, response?: Response) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (response) resolve(response);
      else reject(signal.aborted ? signal.reason : error);
    };
    const onAbort = () => outgoing.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    signal.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error) => finish(error));
    outgoing.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', (error) => finish(error));
      incoming.on('aborted', () => finish(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' })));
      incoming.on('end', () => {
        const status = incoming.statusCode ?? 0;
        if (status < 200 || status > 599) {
          finish(new GcsHttpError(502, `the server answered with HTTP status ${status}`));
          return;
        }
        const headers = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value === undefined) continue;
          for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
        }
        const nullBody = status === 204 || status === 205 || status === 304;
        finish(undefined, new Response(nullBody ? null : Buffer.concat(chunks), { status, headers }));
      });
    });
    outgoing.end(body);
  });
}

export async function resumableUpload(source: AsyncIterable<Buffer>, options: ResumableUploadOptions): Promise<FileMetadata> {
  const { client, file, signal } = options;
  /** One request with the client's timeout and the caller's signal. */
  const request = async (url: string, init: { method: string; headers: Record<string, string>; body: Buffer | string }): Promise<Response> => {
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    return sendRequest(url, { ...init, headers: { ...(await authHeaders(client, url)), ...init.headers } }, signal ? AbortSignal.any([signal, timeout]) : timeout);
  };

  // The session, created here rather than by the SDK, whose session request has no
  // timeout (a stalled one hung the upload for good).
  const query = new URLSearchParams({ uploadType: 'resumable', name: file.name });
  if (options.ifGenerationMatch !== undefined) query.set('ifGenerationMatch', String(options.ifGenerationMatch));
  const sessionUrl = `${apiRoot(client)}/upload/storage/v1/b/${encodeURIComponent(file.bucket.name)}/o?${query.toString()}`;
  let uri: string | undefined;
  for (let attempt = 1; uri === undefined; attempt++) {
    try {
      const response = await request(sessionUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=UTF-8', ...(options.contentType === undefined ? {} : { 'x-upload-content-type': options.contentType }) },
        body: JSON.stringify({ name: file.name, ...(options.contentType === undefined ? {} : { contentType: options.contentType }) }),
      });
      const text = await response.text();
      if (response.status !== 200 && response.status !== 201) throw new GcsHttpError(response.status, `starting a resumable upload answered ${response.status}: ${text.slice(0, 300)}`);
      uri = response.headers.get('location') ?? undefined;
      if (uri === undefined) throw new GcsHttpError(502, 'starting a resumable upload gave no session (no Location header)');
    } catch (error) {
      signal?.throwIfAborted();
      if (!isRetryable(error) || attempt >= options.maxAttempts) throw error;
      await backoff(attempt, signal);
    }
  }
  const session = uri;

  const put = (body: Buffer, contentRange: string) => request(session, { method: 'PUT', headers: { 'content-range': contentRange }, body });

  type Outcome = { done: FileMetadata } | { offset: number };
  const interpret = async (response: Response): Promise<Outcome> => {
    if (response.status === 200 || response.status === 201) return { done: (await response.json()) as FileMetadata };
    const text = await response.text();
    if (response.status === 308) return { offset: persisted(response) };
    // The session is gone (it expired after a week, or a restarted emulator forgot it): no
    // chunk can be sent to it again, but the whole upload can start over.
    if (response.status === 404 || response.status === 410) {
      throw new StorageError(`GCS resumable upload of ${file.name}: the server no longer knows its upload session (HTTP ${response.status}: expired, or the server restarted); nothing was committed, start the upload again`, {
        retryable: true,
      });
    }
    throw new GcsHttpError(response.status, `resumable upload answered ${response.status}: ${text.slice(0, 300)}`);
  };

  /** Sends `chunk` (which starts at byte `start`) until the server holds all of it, asking it where to resume after each failure. */
  const send = async (chunk: Buffer, start: number, total: number | undefined): Promise<Outcome> => {
    const end = start + chunk.length;
    let offset = start;
    for (let attempt = 1; ; attempt++) {
      try {
        const range = chunk.length === 0 ? `bytes */${total ?? '*'}` : `bytes ${offset}-${end - 1}/${total ?? '*'}`;
        const outcome = await interpret(await put(chunk.subarray(offset - start), range));
        if ('done' in outcome) return outcome;
        if (outcome.offset >= end) return outcome;
        // Part of the chunk persisted: send the rest straight away (no progress counts as a failure).
        if (outcome.offset <= offset) throw new GcsHttpError(503, `resumable upload made no progress at byte ${offset}`);
        offset = outcome.offset;
        continue;
      } catch (error) {
        signal?.throwIfAborted();
        if (!isRetryable(error) || attempt >= options.maxAttempts) throw error;
      }
      // Ask the server how much it has before sending again (the status query is retried too).
      for (let query = 1; ; query++) {
        await backoff(attempt + query - 1, signal);
        try {
          const outcome = await interpret(await put(Buffer.alloc(0), `bytes */${total ?? '*'}`));
          if ('done' in outcome) return outcome;
          if (outcome.offset < start) throw new StorageError(`GCS resumable upload of ${file.name}: the server reports ${outcome.offset} bytes, fewer than it had acknowledged (${start}); upload the model again`, { retryable: true });
          if (outcome.offset >= end) return outcome;
          offset = outcome.offset;
          break;
        } catch (error) {
          signal?.throwIfAborted();
          if (!isRetryable(error) || query >= options.maxAttempts) throw error;
        }
      }
    }
  };

  const iterator = source[Symbol.asyncIterator]();
  try {
    return await sendAll(iterator, send, options, file);
  } finally {
    // Stops the source when the upload ended early (a failure, an abort).
    await iterator.return?.();
  }
}

async function sendAll(
  iterator: AsyncIterator<Buffer>,
  send: (chunk: Buffer, start: number, total: number | undefined) => Promise<{ done: FileMetadata } | { offset: number }>,
  options: ResumableUploadOptions,
  file: File,
): Promise<FileMetadata> {
  // One buffer for every chunk: a chunk is complete on the server before the next is
  // read into it, so an upload holds one chunk however large the model.
  const buffer = Buffer.allocUnsafe(options.chunkSize);
  let carry: Buffer | undefined;
  let ended = false;
  const crc = new CRC32C();
  let offset = 0;
  /** The next non-empty piece of the source, or `undefined` at its end. */
  const nextPiece = async (): Promise<Buffer | undefined> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return undefined;
      if (next.value.length > 0) return next.value;
    }
  };
  for (;;) {
    let filled = 0;
    while (filled < options.chunkSize && !ended) {
      const piece = carry ?? (await nextPiece());
      if (piece === undefined) {
        ended = true;
        break;
      }
      const copied = piece.copy(buffer, filled);
      filled += copied;
      carry = copied < piece.length ? piece.subarray(copied) : undefined;
    }
    // Look one piece ahead, to know whether this chunk is the last.
    if (!ended && carry === undefined) {
      carry = await nextPiece();
      if (carry === undefined) ended = true;
    }
    const chunk = buffer.subarray(0, filled);
    const last = ended && carry === undefined;
    crc.update(chunk);
    const outcome = await send(chunk, offset, last ? offset + chunk.length : undefined);
    offset += chunk.length;
    options.onProgress?.(offset);
    if ('done' in outcome) {
      if (!last) throw new StorageError(`GCS resumable upload of ${file.name} was finalised by the server before all bytes were sent; upload the model again`, { retryable: true });
      const stored = outcome.done;
      if (stored.crc32c !== undefined && stored.crc32c !== crc.toString()) {
        // The bytes stored are not the bytes sent: remove them, so no reader ever sees them.
        await file.delete({ ifGenerationMatch: Number(stored.generation) }).catch(() => undefined);
        throw new StorageError(`GCS resumable upload of ${file.name} arrived damaged (crc32c ${stored.crc32c}, sent ${crc.toString()}) and was removed; upload the model again`, { retryable: true });
      }
      return stored;
    }
    if (last) throw new StorageError(`GCS resumable upload of ${file.name}: the server did not finalise the upload after its last chunk`, { retryable: true });
  }
}
