import { countingInFlight } from './in-flight.js';
import { crc32c } from '@node-rs/crc32';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, unlink } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseByteRange, sendByteRange } from './byte-range.js';
import { listPage, tokenStart } from './list-page.js';
import { splitMultipart } from './multipart-related.js';

interface GcsObject {
  name: string;
  bucket: string;
  file: string;
  size: number;
  generation: string;
  metageneration: number;
  contentType: string;
  md5: Buffer;
  crc32c: number;
  timeCreated: Date;
  metadata?: Record<string, string>;
}

/** A resumable upload session: bytes received so far are appended to its file. */
interface Session {
  bucket: string;
  name: string;
  contentType: string;
  metadata?: Record<string, string>;
  query: URLSearchParams;
  file: string;
  received: number;
  md5: Hash;
  crc32c: number;
  finished?: GcsObject;
  /** Settles when the requests of this session received so far have been applied. */
  busy?: Promise<void>;
}

export interface GcsServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Buckets to create at start. */
  buckets?: string[];
  /**
   * Buckets that behave like a public bucket seen by an anonymous caller: reads
   * succeed, every write is refused with 401, as GCS does without credentials.
   */
  readOnlyBuckets?: string[];
}

export interface GcsServer {
  /** `http://127.0.0.1:<port>`: pass it as the SDK's `apiEndpoint`. */
  endpoint: string;
  port: number;
  /** Requests served so far, as `METHOD path?query` lines. */
  requests: string[];
  /**
   * Requests received and not yet applied and answered (a write still arriving,
   * waiting its turn, or being applied). Also served over HTTP, for test processes
   * that only know the endpoint: `GET /_modelstore/in-flight` answers `{"inFlight": n}`
   * (a path no S3 bucket or GCS API route can take).
   */
  readonly inFlight: number;
  /** Makes `bucket` read-only (a public bucket seen by an anonymous caller), or writable again. */
  setReadOnly(bucket: string, readOnly: boolean): void;
  /**
   * Holds the next request whose `METHOD path?query` (decoded) matches `pattern`
   * before the server applies it — a request received and still in flight — until
   * `release()`. `arrived` settles when it is held.
   */
  holdNext(pattern: RegExp): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

class GcsError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function crcBase64(value: number): string {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer.toString('base64');
}

/**
 * A Google Cloud Storage JSON API server for tests, written from the public JSON
 * API reference: buckets (insert, get), objects (insert by `media`, `multipart` and
 * `resumable` upload, including multi-chunk resumable uploads answered with 308 and
 * `Range`; get metadata; `alt=media` with `Range`; list with prefix, delimiter,
 * maxResults, pageToken; delete), generation and metageneration preconditions
 * (412), md5Hash / crc32c on every object and `x-goog-hash` on downloads (which the
 * SDK validates), and GCS-shaped JSON errors. Bodies stream to files.
 */
export async function startGcsServer(options: GcsServerOptions = {}): Promise<GcsServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modelstore-gcs-server-'));
  const buckets = new Map<string, Map<string, GcsObject>>();
  const readOnly = new Set(options.readOnlyBuckets ?? []);
  const sessions = new Map<string, Session>();
  const requests: string[] = [];
  let lastGeneration = 0n;
  let endpoint = '';
  for (const bucket of [...(options.buckets ?? []), ...readOnly]) buckets.set(bucket, new Map());

  const newFile = () => path.join(dataDir, randomBytes(12).toString('hex'));
  const discard = (file: string) => unlink(file, () => undefined);
  /** Generations are microsecond timestamps, strictly increasing, as in GCS. */
  const nextGeneration = () => {
    const now = BigInt(Date.now()) * 1000n;
    lastGeneration = now > lastGeneration ? now : lastGeneration + 1n;
    return lastGeneration.toString();
  };

  const bucketOf = (name: string) => {
    const bucket = buckets.get(name);
    if (!bucket) throw new GcsError(404, 'notFound', `The specified bucket does not exist.`);
    return bucket;
  };

  const resource = (object: GcsObject) => ({
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${endpoint}/storage/v1/b/${object.bucket}/o/${encodeURIComponent(object.name)}`,
    mediaLink: `${endpoint}/download/storage/v1/b/${object.bucket}/o/${encodeURIComponent(object.name)}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: String(object.metageneration),
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.size),
    md5Hash: object.md5.toString('base64'),
    crc32c: crcBase64(object.crc32c),
    etag: `C${object.generation}`,
    timeCreated: object.timeCreated.toISOString(),
    updated: object.timeCreated.toISOString(),
    timeStorageClassUpdated: object.timeCreated.toISOString(),
    ...(object.metadata ? { metadata: object.metadata } : {}),
  });

  /** Evaluates the generation and metageneration preconditions of `query` against `current`. */
  function checkPreconditions(query: URLSearchParams, current: GcsObject | undefined, prefix = ''): void {
    const fail = () => {
      throw new GcsError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    };
    const ifGenerationMatch = query.get(`${prefix}ifGenerationMatch`);
    const ifGenerationNotMatch = query.get(`${prefix}ifGenerationNotMatch`);
    const ifMetagenerationMatch = query.get(`${prefix}ifMetagenerationMatch`);
    const ifMetagenerationNotMatch = query.get(`${prefix}ifMetagenerationNotMatch`);
    const generation = current?.generation ?? '0';
    if (ifGenerationMatch !== null && ifGenerationMatch !== generation) fail();
    if (ifGenerationNotMatch !== null && ifGenerationNotMatch === generation) fail();
    if (ifMetagenerationMatch !== null && (!current || ifMetagenerationMatch !== String(current.metageneration))) fail();
    if (ifMetagenerationNotMatch !== null && current && ifMetagenerationNotMatch === String(current.metageneration)) fail();
  }

  /** Publishes an object version: precondition check and swap in one synchronous step. */
  function commit(query: URLSearchParams, object: Omit<GcsObject, 'generation' | 'metageneration' | 'timeCreated'>): GcsObject {
    const bucket = bucketOf(object.bucket);
    const current = bucket.get(object.name);
    try {
      checkPreconditions(query, current);
    } catch (error) {
      discard(object.file);
      throw error;
    }
    const stored: GcsObject = { ...object, generation: nextGeneration(), metageneration: 1, timeCreated: new Date() };
    bucket.set(object.name, stored);
    if (current) discard(current.file);
    return stored;
  }

  function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const payload = Buffer.from(JSON.stringify(body));
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': payload.length, ...headers });
    response.end(payload);
  }

  async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 1024 * 1024) throw new GcsError(400, 'invalid', 'Metadata too large.');
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (text === '') return {};
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new GcsError(400, 'parseError', 'Parse Error');
    }
  }

  /**
   * A Writable that appends to `file` and feeds the digests. Bytes are counted
   * once they are written, so after an aborted request `state` describes exactly
   * the bytes on disk, except a write in flight at the abort (the caller truncates).
   */
  function digestingFile(file: string, state: { md5: Hash; crc32c: number; size: number }, flags = 'w'): Writable {
    const out = createWriteStream(file, { flags });
    const writable = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.write(chunk, (error) => {
          if (error) return callback(error);
          state.md5.update(chunk);
          state.crc32c = crc32c(chunk, state.crc32c);
          state.size += chunk.length;
          callback();
        });
      },
      final(callback) {
        out.end(callback);
      },
      destroy(error, callback) {
        // Only once the file is closed is nothing more written to it.
        if (out.closed) return callback(error);
        out.once('close', () => callback(error));
        out.destroy();
      },
    });
    // A write still in flight when an aborted request destroys the file fails; that
    // failure belongs to the request, not to the process.
    out.on('error', (error) => writable.destroy(error));
    return writable;
  }

  /** Checks the client's `x-goog-hash` (crc32c and md5, base64) against what arrived. */
  function checkClientHashes(request: IncomingMessage, md5: Buffer, crc: number): void {
    const header = request.headers['x-goog-hash'];
    if (typeof header !== 'string') return;
    for (const pair of header.split(',')) {
      const at = pair.indexOf('=');
      const [kind, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      if (kind === 'md5' && value !== md5.toString('base64')) throw new GcsError(400, 'invalid', 'Provided MD5 hash does not match calculated MD5 hash.');
      if (kind === 'crc32c' && value !== crcBase64(crc)) throw new GcsError(400, 'invalid', 'Provided CRC32C does not match calculated CRC32C.');
    }
  }

  function writable(bucket: string): void {
    bucketOf(bucket);
    if (readOnly.has(bucket)) throw new GcsError(401, 'required', 'Anonymous caller does not have storage.objects.create access to the Google Cloud Storage object.');
  }

  async function insertMedia(bucket: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const name = query.get('name');
    if (!name) throw new GcsError(400, 'required', 'Required parameter: name');
    checkPreconditions(query, bucketOf(bucket).get(name));
    const file = newFile();
    const state = { md5: createHash('md5'), crc32c: 0, size: 0 };
    try {
      await pipeline(request, digestingFile(file, state));
    } catch (error) {
      discard(file);
      throw error;
    }
    const md5 = state.md5.digest();
    try {
      checkClientHashes(request, md5, state.crc32c);
    } catch (error) {
      discard(file);
      throw error;
    }
    const stored = commit(query, { name, bucket, file, size: state.size, md5, crc32c: state.crc32c, contentType: String(request.headers['content-type'] ?? 'application/octet-stream') });
    sendJson(response, 200, resource(stored));
  }

  async function insertMultipart(bucket: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const contentType = String(request.headers['content-type'] ?? '');
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!/^multipart\/related/i.test(contentType) || !boundary) throw new GcsError(400, 'invalid', 'Multipart uploads need a multipart/related body with a boundary.');
    let part = 0;
    let metadataText = '';
    let mediaType = 'application/octet-stream';
    const file = newFile();
    const state = { md5: createHash('md5'), crc32c: 0, size: 0 };
    let media: Writable | undefined;
    try {
      for await (const event of splitMultipart(request, boundary)) {
        if (event.type === 'part') {
          part++;
          if (part === 2) {
            mediaType = event.headers['content-type'] ?? mediaType;
            media = digestingFile(file, state);
          }
        } else if (event.type === 'data') {
          if (part === 1) {
            metadataText += event.chunk.toString('utf8');
            if (metadataText.length > 1024 * 1024) throw new GcsError(400, 'invalid', 'Metadata too large.');
          } else if (media && !media.write(event.chunk)) {
            await new Promise((resolve) => media!.once('drain', resolve));
          }
        }
      }
      if (!media) throw new GcsError(400, 'invalid', 'A multipart upload needs a metadata part and a media part.');
      await new Promise<void>((resolve, reject) => media!.end((error?: Error | null) => (error ? reject(error) : resolve())));
    } catch (error) {
      media?.destroy();
      discard(file);
      throw error instanceof GcsError ? error : new GcsError(400, 'invalid', `Malformed multipart body: ${(error as Error).message}`);
    }
    let metadata: Record<string, unknown>;
    try {
      metadata = metadataText.trim() === '' ? {} : (JSON.parse(metadataText) as Record<string, unknown>);
    } catch {
      discard(file);
      throw new GcsError(400, 'parseError', 'Parse Error');
    }
    const name = (metadata.name as string | undefined) ?? query.get('name');
    if (!name) {
      discard(file);
      throw new GcsError(400, 'required', 'Required parameter: name');
    }
    const md5 = state.md5.digest();
    for (const [field, computed] of [
      ['md5Hash', md5.toString('base64')],
      ['crc32c', crcBase64(state.crc32c)],
    ] as const) {
      if (typeof metadata[field] === 'string' && metadata[field] !== computed) {
        discard(file);
        throw new GcsError(400, 'invalid', `Provided ${field} does not match the uploaded data.`);
      }
    }
    const stored = commit(query, {
      name,
      bucket,
      file,
      size: state.size,
      md5,
      crc32c: state.crc32c,
      contentType: (metadata.contentType as string | undefined) ?? mediaType,
      ...(metadata.metadata ? { metadata: metadata.metadata as Record<string, string> } : {}),
    });
    sendJson(response, 200, resource(stored));
  }

  async function startResumable(bucket: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const metadata = await readJson(request);
    const name = (metadata.name as string | undefined) ?? query.get('name');
    if (!name) throw new GcsError(400, 'required', 'Required parameter: name');
    // Fail fast; the preconditions are checked again when the upload completes.
    checkPreconditions(query, bucketOf(bucket).get(name));
    const uploadId = randomBytes(16).toString('hex');
    const file = newFile();
    await new Promise<void>((resolve, reject) => createWriteStream(file).end((error?: Error | null) => (error ? reject(error) : resolve())));
    sessions.set(uploadId, {
      bucket,
      name,
      contentType: (metadata.contentType as string | undefined) ?? String(request.headers['x-upload-content-type'] ?? 'application/octet-stream'),
      ...(metadata.metadata ? { metadata: metadata.metadata as Record<string, string> } : {}),
      query,
      file,
      received: 0,
      md5: createHash('md5'),
      crc32c: 0,
    });
    response.writeHead(200, { location: `${endpoint}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${uploadId}`, 'content-length': 0 });
    response.end();
  }

  /** One PUT of a resumable session: a chunk, the last chunk, or a status query. */
  async function resumableChunk(query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const session = sessions.get(query.get('upload_id') ?? '');
    if (!session) throw new GcsError(404, 'notFound', 'No such upload session.');
    // Requests of one session are applied one at a time, as GCS does: a chunk resent
    // while an earlier copy is still arriving (a client that timed out) is then
    // reconciled by offsets instead of both appending to the file at once.
    const previous = session.busy ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    session.busy = previous.then(() => mine);
    await previous;
    try {
      await applyChunk(session, request, response);
    } finally {
      release();
    }
  }

  async function applyChunk(session: Session, request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (session.finished) {
      request.resume();
      return sendJson(response, 200, resource(session.finished));
    }
    const contentRange = String(request.headers['content-range'] ?? `bytes */*`);
    const match = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(contentRange.trim());
    if (!match) throw new GcsError(400, 'invalid', `Malformed Content-Range: ${contentRange}`);
    const start = match[1] === undefined ? undefined : Number(match[1]);
    // "bytes <start>-*/*": this request carries the rest of the object, however long.
    const restOfObject = match[2] === '*';
    let total = match[3] === '*' ? undefined : Number(match[3]);
    if (start !== undefined && start > session.received) throw new GcsError(400, 'invalid', `Chunk starts at ${start} but only ${session.received} bytes were received.`);
    if (start !== undefined) {
      // Bytes the server already has (a retried chunk) are skipped.
      let skip = session.received - start;
      const state = { md5: session.md5, crc32c: session.crc32c, size: session.received };
      async function* fresh(source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          if (skip >= chunk.length) {
            skip -= chunk.length;
            continue;
          }
          yield skip > 0 ? chunk.subarray(skip) : chunk;
          skip = 0;
        }
      }
      try {
        await pipeline(request, fresh, digestingFile(session.file, state, 'a'));
      } catch (error) {
        // A chunk cut off part-way keeps the bytes counted, and only those.
        await truncate(session.file, state.size);
        throw error;
      } finally {
        session.crc32c = state.crc32c;
        session.received = state.size;
      }
    } else {
      request.resume();
    }
    if (restOfObject && total === undefined) total = session.received;
    if (total !== undefined && session.received > total) throw new GcsError(400, 'invalid', 'More bytes were sent than the declared total.');
    if (total === undefined || session.received < total) {
      response.writeHead(308, { ...(session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {}), 'content-length': 0 });
      response.end();
      return;
    }
    const md5 = session.md5.digest();
    checkClientHashes(request, md5, session.crc32c);
    const stored = commit(session.query, {
      name: session.name,
      bucket: session.bucket,
      file: session.file,
      size: session.received,
      md5,
      crc32c: session.crc32c,
      contentType: session.contentType,
      ...(session.metadata ? { metadata: session.metadata } : {}),
    });
    session.finished = stored;
    sendJson(response, 200, resource(stored));
  }

  function getObject(bucket: string, name: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse, media: boolean): void {
    let object = bucketOf(bucket).get(name);
    const generation = query.get('generation');
    if (object && generation !== null && generation !== object.generation) object = undefined;
    if (!object) throw new GcsError(404, 'notFound', `No such object: ${bucket}/${name}`);
    checkPreconditions(query, object);
    if (!media) return sendJson(response, 200, resource(object));
    const headers: Record<string, string | number> = {
      'content-type': object.contentType,
      'x-goog-generation': object.generation,
      'x-goog-metageneration': String(object.metageneration),
      'x-goog-stored-content-encoding': 'identity',
      'x-goog-stored-content-length': String(object.size),
      'x-goog-hash': `crc32c=${crcBase64(object.crc32c)},md5=${object.md5.toString('base64')}`,
      etag: `"${object.md5.toString('hex')}"`,
      'last-modified': object.timeCreated.toUTCString(),
      'accept-ranges': 'bytes',
    };
    const range = parseByteRange(request.headers.range, object.size);
    if (range === 'unsatisfiable') {
      response.writeHead(416, { 'content-range': `bytes */${object.size}`, 'content-length': 0 });
      response.end();
      return;
    }
    sendByteRange(response, object, range, headers);
  }

  function listObjects(bucketName: string, query: URLSearchParams, response: ServerResponse): void {
    const objects = bucketOf(bucketName);
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxResults = Math.max(1, Math.min(1000, Number(query.get('maxResults') ?? 1000) || 1000));
    const pageToken = query.get('pageToken');
    const page = listPage(objects.keys(), { prefix, delimiter, max: maxResults, after: pageToken ? tokenStart(pageToken) : '' });
    const items = page.keys.map((name) => resource(objects.get(name)!));
    sendJson(response, 200, {
      kind: 'storage#objects',
      ...(items.length ? { items } : {}),
      ...(page.prefixes.length ? { prefixes: page.prefixes } : {}),
      ...(page.nextToken ? { nextPageToken: page.nextToken } : {}),
    });
  }

  const holds: Array<{ pattern: RegExp; arrived: () => void; released: Promise<void> }> = [];

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const query = url.searchParams;
    const method = request.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    const line = decodeURIComponent(`${method} ${url.pathname}${url.search}`);
    const hold = holds.findIndex((candidate) => candidate.pattern.test(line));
    if (hold >= 0) {
      const [held] = holds.splice(hold, 1);
      held!.arrived();
      await held!.released;
    }
    let parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    // With STORAGE_EMULATOR_HOST the SDK sends JSON API paths without /storage/v1.
    if (parts[0] === 'b') parts = ['storage', 'v1', ...parts];

    // /upload/storage/v1/b/<bucket>/o
    if (parts[0] === 'upload' && parts[1] === 'storage' && parts[3] === 'b' && parts[5] === 'o' && parts.length === 6) {
      const bucket = parts[4]!;
      if (method === 'PUT' && query.has('upload_id')) return resumableChunk(query, request, response);
      if (method === 'DELETE' && query.has('upload_id')) {
        const session = sessions.get(query.get('upload_id')!);
        if (session) {
          sessions.delete(query.get('upload_id')!);
          if (!session.finished) discard(session.file);
        }
        response.writeHead(499, { 'content-length': 0 });
        response.end();
        return;
      }
      if (method !== 'POST') throw new GcsError(405, 'invalid', `${method} is not allowed on uploads`);
      writable(bucket);
      const uploadType = query.get('uploadType');
      if (uploadType === 'media') return insertMedia(bucket, query, request, response);
      if (uploadType === 'multipart') return insertMultipart(bucket, query, request, response);
      if (uploadType === 'resumable') return startResumable(bucket, query, request, response);
      throw new GcsError(400, 'invalid', `Unknown uploadType ${uploadType}`);
    }

    const base = parts[0] === 'download' ? 1 : 0;
    if (parts[base] !== 'storage' || parts[base + 1] !== 'v1' || parts[base + 2] !== 'b') throw new GcsError(404, 'notFound', `Not Found: ${url.pathname}`);
    const rest = parts.slice(base + 3);
    if (rest.length === 0) {
      if (method === 'POST') {
        const body = await readJson(request);
        const name = body.name as string | undefined;
        if (!name) throw new GcsError(400, 'required', 'Required parameter: name');
        if (buckets.has(name)) throw new GcsError(409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.');
        buckets.set(name, new Map());
        return sendJson(response, 200, { kind: 'storage#bucket', id: name, name, location: 'US', storageClass: 'STANDARD', metageneration: '1', timeCreated: new Date().toISOString() });
      }
      throw new GcsError(405, 'invalid', `${method} is not allowed here`);
    }
    const bucket = rest[0]!;
    if (rest.length === 1) {
      if (method !== 'GET') throw new GcsError(405, 'invalid', `${method} is not allowed on a bucket here`);
      bucketOf(bucket);
      return sendJson(response, 200, { kind: 'storage#bucket', id: bucket, name: bucket, location: 'US', storageClass: 'STANDARD', metageneration: '1' });
    }
    if (rest[1] !== 'o') throw new GcsError(404, 'notFound', `Not Found: ${url.pathname}`);
    if (rest.length === 2) {
      if (method === 'GET') return listObjects(bucket, query, response);
      throw new GcsError(405, 'invalid', `${method} is not allowed on objects here`);
    }
    const name = rest.slice(2).join('/');
    if (method === 'GET') return getObject(bucket, name, query, request, response, query.get('alt') === 'media' || base === 1);
    if (method === 'DELETE') {
      writable(bucket);
      const objects = bucketOf(bucket);
      const current = objects.get(name);
      if (!current) throw new GcsError(404, 'notFound', `No such object: ${bucket}/${name}`);
      checkPreconditions(query, current);
      objects.delete(name);
      discard(current.file);
      response.writeHead(204);
      response.end();
      return;
    }
    throw new GcsError(501, 'notImplemented', `${method} on an object is not implemented by this test server`);
  }

  const counter = countingInFlight(handle, (error, request, response) => {
    const gcsError = error instanceof GcsError ? error : new GcsError(500, 'backendError', `Internal error: ${(error as Error).message}`);
    request.resume();
    sendJson(response, gcsError.status, {
      error: { code: gcsError.status, message: gcsError.message, errors: [{ message: gcsError.message, domain: 'global', reason: gcsError.reason }] },
    });
  });
  const server = createServer(counter.listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    requests,
    get inFlight() {
      return counter.inFlight;
    },
    holdNext(pattern: RegExp) {
      let arrived!: () => void;
      let release!: () => void;
      const arrival = new Promise<void>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({ pattern, arrived, released });
      return { arrived: arrival, release };
    },
    setReadOnly(bucket: string, value: boolean) {
      if (!buckets.has(bucket)) buckets.set(bucket, new Map());
      if (value) readOnly.add(bucket);
      else readOnly.delete(bucket);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
