import { countingInFlight } from './in-flight.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, unlink } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { decodeAwsChunked } from './aws-chunked.js';
import { parseByteRange, sendByteRange } from './byte-range.js';
import { listPage, tokenStart } from './list-page.js';
import { verifySigV4 } from './sigv4.js';

/** A stored object version: its bytes live in their own file, never rewritten. */
interface StoredObject {
  file: string;
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string;
}

interface Part {
  file: string;
  size: number;
  etag: string;
  md5: Buffer;
}

interface MultipartUpload {
  bucket: string;
  key: string;
  contentType: string;
  parts: Map<number, Part>;
}

export interface S3ServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Credentials the server accepts (default: one test key pair). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Buckets to create at start. */
  buckets?: string[];
}

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Makes the next `count` requests that carry a body lose their connection part-way through it. */
  dropNextUploads(count: number): void;
  /** Requests served so far, as `METHOD path?query` lines. */
  requests: string[];
  /**
   * Requests received and not yet applied and answered (a write still arriving,
   * waiting its turn, or being applied). Also served over HTTP, for test processes
   * that only know the endpoint: `GET /_modelstore/in-flight` answers `{"inFlight": n}`
   * (a path no S3 bucket or GCS API route can take).
   */
  readonly inFlight: number;
  close(): Promise<void>;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly resource?: string,
  ) {
    super(message);
  }
}

const minimumPartSize = 5 * 1024 * 1024;
const xmlHeader = '<?xml version="1.0" encoding="UTF-8"?>\n';

function xml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function unxml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&amp;/g, '&');
}

/** Strips the quotes of an ETag, so `"abc"` and `abc` compare equal (S3 accepts both). */
function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

function crcBase64(value: number): string {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer.toString('base64');
}

/**
 * An S3 REST server for tests, written from the public S3 API reference for the
 * operations modelstore uses: buckets (create, head), PutObject, multipart uploads,
 * GetObject (Range, conditional), HeadObject, ListObjectsV2, DeleteObject(s), and
 * conditional writes (`If-None-Match: *`, `If-Match`). Path-style addressing only.
 * Requests must carry a valid SigV4 signature. Bodies stream to files in a temporary
 * folder: at most one socket buffer of a body is in memory per request.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const credentials = options.credentials ?? { accessKeyId: 'MODELSTORETESTKEY', secretAccessKey: 'modelstore-test-secret-key' };
  const secrets = new Map([[credentials.accessKeyId, credentials.secretAccessKey]]);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modelstore-s3-server-'));
  const buckets = new Map<string, Map<string, StoredObject>>();
  const uploads = new Map<string, MultipartUpload>();
  const requests: string[] = [];
  let dropUploads = 0;
  for (const bucket of options.buckets ?? []) buckets.set(bucket, new Map());

  const newFile = () => path.join(dataDir, randomBytes(12).toString('hex'));
  const discard = (file: string) => unlink(file, () => undefined);

  const bucketOf = (name: string) => {
    const bucket = buckets.get(name);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', name);
    return bucket;
  };

  /** Streams the request body to a new file, checking every digest the client sent. */
  async function receiveBody(request: IncomingMessage, response: ServerResponse): Promise<{ file: string; size: number; md5: Buffer }> {
    const file = newFile();
    const md5 = createHash('md5');
    const sha256 = createHash('sha256');
    let crc = 0;
    let size = 0;
    const declaredSha = String(request.headers['x-amz-content-sha256'] ?? '');
    const chunked = declaredSha.startsWith('STREAMING-') || String(request.headers['content-encoding'] ?? '').includes('aws-chunked');
    const trailers = new Map<string, string>();
    const drop = dropUploads > 0 ? (dropUploads--, true) : false;
    const source = chunked ? decodeAwsChunked(request, trailers) : request;
    try {
      await pipeline(
        source,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            size += chunk.length;
            md5.update(chunk);
            sha256.update(chunk);
            crc = crc32(chunk, crc);
            if (drop && size > 64 * 1024) {
              // Fault injection: the connection goes away in the middle of the body.
              request.socket.destroy();
              response.destroy();
              callback(new Error('connection dropped by fault injection'));
              return;
            }
            callback(null, chunk);
          },
        }),
        createWriteStream(file),
      );
    } catch (error) {
      discard(file);
      if (chunked && !drop) throw new S3Error(400, 'IncompleteBody', `The request body could not be decoded: ${(error as Error).message}`);
      throw error;
    }
    const fail = (code: string, message: string) => {
      discard(file);
      return new S3Error(400, code, message);
    };
    const declaredLength = request.headers['x-amz-decoded-content-length'] ?? (chunked ? undefined : request.headers['content-length']);
    if (declaredLength !== undefined && Number(declaredLength) !== size) throw fail('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    const md5Digest = md5.digest();
    const contentMd5 = request.headers['content-md5'];
    if (contentMd5 !== undefined && contentMd5 !== md5Digest.toString('base64')) throw fail('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    if (/^[0-9a-f]{64}$/.test(declaredSha) && sha256.digest('hex') !== declaredSha) throw fail('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
    const declaredCrc = request.headers['x-amz-checksum-crc32'] ?? trailers.get('x-amz-checksum-crc32');
    if (declaredCrc !== undefined && declaredCrc !== crcBase64(crc)) throw fail('BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    return { file, size, md5: md5Digest };
  }

  /** Evaluates `If-None-Match` / `If-Match` of a write against the current object. */
  function checkWriteConditions(request: IncomingMessage, current: StoredObject | undefined, key: string): void {
    const ifNoneMatch = request.headers['if-none-match'];
    const ifMatch = request.headers['if-match'];
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch.trim() !== '*') throw new S3Error(501, 'NotImplemented', 'If-None-Match on writes only supports "*"', key);
      if (current) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', key);
    }
    if (ifMatch !== undefined) {
      if (!current) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', key);
      if (ifMatch.trim() !== '*' && bareEtag(ifMatch) !== bareEtag(current.etag)) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', key);
    }
  }

  /** Publishes a new version: condition check and swap happen in one synchronous step. */
  function commit(request: IncomingMessage, bucketName: string, key: string, object: StoredObject): void {
    const bucket = bucketOf(bucketName);
    const current = bucket.get(key);
    try {
      checkWriteConditions(request, current, key);
    } catch (error) {
      discard(object.file);
      throw error;
    }
    bucket.set(key, object);
    if (current) discard(current.file);
  }

  async function readText(request: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 4 * 1024 * 1024) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  function sendXml(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    const payload = Buffer.from(xmlHeader + body);
    response.writeHead(status, { 'content-type': 'application/xml', 'content-length': payload.length, ...headers });
    response.end(payload);
  }

  function objectHeaders(object: StoredObject): Record<string, string | number> {
    return {
      etag: object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'content-type': object.contentType,
      'accept-ranges': 'bytes',
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const query = url.searchParams;
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    const failure = verifySigV4(request, secrets);
    if (failure) throw new S3Error(403, failure.code, failure.message);

    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const bucket = decodeURIComponent(bucketName);
    const key = keyParts.map(decodeURIComponent).join('/');
    const method = request.method ?? 'GET';
    if (bucket === '') throw new S3Error(400, 'InvalidRequest', 'Use path-style requests: /<bucket>/<key>');

    if (key === '') {
      if (method === 'PUT') {
        if (buckets.has(bucket)) throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', bucket);
        buckets.set(bucket, new Map());
        response.writeHead(200, { location: `/${bucket}`, 'content-length': 0 });
        response.end();
        return;
      }
      if (method === 'HEAD') {
        bucketOf(bucket);
        response.writeHead(200, { 'x-amz-bucket-region': 'us-east-1', 'content-length': 0 });
        response.end();
        return;
      }
      if (method === 'GET' && query.get('list-type') === '2') return listObjectsV2(bucket, query, response);
      if (method === 'POST' && query.has('delete')) return deleteObjects(bucket, request, response);
      throw new S3Error(501, 'NotImplemented', `${method} on a bucket is not implemented by this test server`);
    }

    if (method === 'PUT' && query.has('uploadId')) return uploadPart(query, request, response);
    if (method === 'PUT') {
      if (request.headers['x-amz-copy-source']) throw new S3Error(501, 'NotImplemented', 'CopyObject is not implemented by this test server');
      bucketOf(bucket);
      const body = await receiveBody(request, response);
      const etag = `"${body.md5.toString('hex')}"`;
      commit(request, bucket, key, { file: body.file, size: body.size, etag, lastModified: new Date(), contentType: String(request.headers['content-type'] ?? 'binary/octet-stream') });
      const headers: Record<string, string> = { etag, 'content-length': '0' };
      const crc = request.headers['x-amz-checksum-crc32'];
      if (typeof crc === 'string') headers['x-amz-checksum-crc32'] = crc;
      response.writeHead(200, headers);
      response.end();
      return;
    }
    if (method === 'POST' && query.has('uploads')) {
      bucketOf(bucket);
      const uploadId = randomUUID();
      uploads.set(uploadId, { bucket, key, contentType: String(request.headers['content-type'] ?? 'binary/octet-stream'), parts: new Map() });
      const algorithm = request.headers['x-amz-checksum-algorithm'];
      sendXml(
        response,
        200,
        `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
        typeof algorithm === 'string' ? { 'x-amz-checksum-algorithm': algorithm } : {},
      );
      return;
    }
    if (method === 'POST' && query.has('uploadId')) return completeMultipartUpload(bucket, key, query, request, response);
    if (method === 'DELETE' && query.has('uploadId')) {
      const upload = uploads.get(query.get('uploadId')!);
      if (!upload) throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.');
      uploads.delete(query.get('uploadId')!);
      for (const part of upload.parts.values()) discard(part.file);
      response.writeHead(204);
      response.end();
      return;
    }
    if (method === 'GET' || method === 'HEAD') return getObject(method, bucket, key, request, response);
    if (method === 'DELETE') {
      const objects = bucketOf(bucket);
      const current = objects.get(key);
      if (current) {
        objects.delete(key);
        discard(current.file);
      }
      response.writeHead(204);
      response.end();
      return;
    }
    throw new S3Error(501, 'NotImplemented', `${method} is not implemented by this test server`);
  }

  function getObject(method: 'GET' | 'HEAD', bucket: string, key: string, request: IncomingMessage, response: ServerResponse): void {
    const object = bucketOf(bucket).get(key);
    if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', key);
    const ifMatch = request.headers['if-match'];
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifMatch !== undefined && bareEtag(ifMatch) !== bareEtag(object.etag) && ifMatch.trim() !== '*') {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', key);
    }
    if (ifNoneMatch !== undefined && (ifNoneMatch.trim() === '*' || bareEtag(ifNoneMatch) === bareEtag(object.etag))) {
      response.writeHead(304, { etag: object.etag });
      response.end();
      return;
    }
    const range = parseByteRange(request.headers.range, object.size);
    if (range === 'unsatisfiable') throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', key);
    sendByteRange(response, object, range, objectHeaders(object), method === 'HEAD');
  }

  function listObjectsV2(bucketName: string, query: URLSearchParams, response: ServerResponse): void {
    const objects = bucketOf(bucketName);
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? 1000)));
    const token = query.get('continuation-token');
    const startAfter = query.get('start-after') ?? '';
    const encodeUrl = query.get('encoding-type') === 'url';
    const page = listPage(objects.keys(), { prefix, delimiter, max: maxKeys, after: token !== null ? tokenStart(token) : startAfter });
    const text = (value: string) => xml(encodeUrl ? encodeURIComponent(value).replace(/%2F/g, '/') : value);
    const contents = page.keys.map((key) => {
      const object = objects.get(key)!;
      return `<Contents><Key>${text(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${xml(object.etag)}</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    });
    const commonPrefixes = page.prefixes.map((rolledUp) => `<CommonPrefixes><Prefix>${text(rolledUp)}</Prefix></CommonPrefixes>`);
    const truncated = page.nextToken !== undefined;
    const body =
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucketName)}</Name><Prefix>${text(prefix)}</Prefix>` +
      (delimiter ? `<Delimiter>${text(delimiter)}</Delimiter>` : '') +
      `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${contents.length + commonPrefixes.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>` +
      (token !== null ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : '') +
      (truncated ? `<NextContinuationToken>${page.nextToken}</NextContinuationToken>` : '') +
      (startAfter ? `<StartAfter>${text(startAfter)}</StartAfter>` : '') +
      (encodeUrl ? '<EncodingType>url</EncodingType>' : '') +
      contents.join('') +
      commonPrefixes.join('') +
      '</ListBucketResult>';
    sendXml(response, 200, body);
  }

  async function deleteObjects(bucketName: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const objects = bucketOf(bucketName);
    const text = await readText(request);
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/.test(text);
    const deleted: string[] = [];
    for (const match of text.matchAll(/<Object>\s*<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Object>/g)) {
      const key = unxml(match[1]!);
      const current = objects.get(key);
      if (current) {
        objects.delete(key);
        discard(current.file);
      }
      if (!quiet) deleted.push(`<Deleted><Key>${xml(key)}</Key></Deleted>`);
    }
    sendXml(response, 200, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deleted.join('')}</DeleteResult>`);
  }

  async function uploadPart(query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const upload = uploads.get(query.get('uploadId')!);
    if (!upload) throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.');
    const partNumber = Number(query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    const body = await receiveBody(request, response);
    if (!uploads.has(query.get('uploadId')!)) {
      discard(body.file);
      throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.');
    }
    const etag = `"${body.md5.toString('hex')}"`;
    const previous = upload.parts.get(partNumber);
    if (previous) discard(previous.file);
    upload.parts.set(partNumber, { file: body.file, size: body.size, etag, md5: body.md5 });
    const headers: Record<string, string> = { etag, 'content-length': '0' };
    const crc = request.headers['x-amz-checksum-crc32'];
    if (typeof crc === 'string') headers['x-amz-checksum-crc32'] = crc;
    response.writeHead(200, headers);
    response.end();
  }

  async function completeMultipartUpload(bucketName: string, key: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const uploadId = query.get('uploadId')!;
    const upload = uploads.get(uploadId);
    if (!upload || upload.bucket !== bucketName || upload.key !== key) throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.');
    const text = await readText(request);
    const listed = [...text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((match) => ({
      partNumber: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(match[1]!)?.[1]),
      etag: unxml(/<ETag>([\s\S]*?)<\/ETag>/.exec(match[1]!)?.[1] ?? ''),
    }));
    if (listed.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const parts: Part[] = [];
    for (const [index, { partNumber, etag }] of listed.entries()) {
      if (index > 0 && partNumber <= listed[index - 1]!.partNumber) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
      const part = upload.parts.get(partNumber);
      if (!part || bareEtag(part.etag) !== bareEtag(etag)) throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found.');
      if (index < listed.length - 1 && part.size < minimumPartSize) throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      parts.push(part);
    }
    // Fail fast on a condition that already cannot hold; it is checked again at the swap.
    checkWriteConditions(request, bucketOf(bucketName).get(key), key);
    const file = newFile();
    await pipeline(async function* () {
      for (const part of parts) yield* createReadStream(part.file);
    }, createWriteStream(file));
    const etag = `"${createHash('md5')
      .update(Buffer.concat(parts.map((part) => part.md5)))
      .digest('hex')}-${parts.length}"`;
    const size = parts.reduce((sum, part) => sum + part.size, 0);
    commit(request, bucketName, key, { file, size, etag, lastModified: new Date(), contentType: upload.contentType });
    uploads.delete(uploadId);
    for (const part of upload.parts.values()) discard(part.file);
    sendXml(
      response,
      200,
      `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>/${xml(bucketName)}/${xml(key)}</Location><Bucket>${xml(bucketName)}</Bucket><Key>${xml(key)}</Key><ETag>${xml(etag)}</ETag></CompleteMultipartUploadResult>`,
    );
  }

  const counter = countingInFlight(handle, (error, request, response) => {
    const s3Error = error instanceof S3Error ? error : new S3Error(500, 'InternalError', `We encountered an internal error: ${(error as Error).message}`);
    // Drain what the client is still sending before answering, as S3 does.
    request.resume();
    if (request.method === 'HEAD') {
      response.writeHead(s3Error.status, { 'x-amz-error-code': s3Error.code, 'content-length': 0 });
      response.end();
      return;
    }
    sendXml(
      response,
      s3Error.status,
      `<Error><Code>${s3Error.code}</Code><Message>${xml(s3Error.message)}</Message>${s3Error.resource ? `<Resource>${xml(s3Error.resource)}</Resource>` : ''}<RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`,
    );
  });
  const server: Server = createServer(counter.listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    credentials,
    requests,
    get inFlight() {
      return counter.inFlight;
    },
    dropNextUploads(count: number) {
      dropUploads = count;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
