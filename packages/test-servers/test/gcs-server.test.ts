import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Storage, type File } from '@google-cloud/storage';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startGcsServer, type GcsServer } from '../src/gcs-server.js';

let server: GcsServer;
let storage: Storage;
const bucketName = 'models';

async function readAll(file: File, options: { start?: number; end?: number; validation?: 'crc32c' | 'md5' | false } = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.createReadStream(options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function codeOf(promise: Promise<unknown>): Promise<number | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  // The JSON API paths raise ApiError with `code`; resumable sessions raise GaxiosError with `status`.
  return (error as { code?: number }).code ?? (error as { status?: number }).status;
}

beforeAll(async () => {
  server = await startGcsServer({ readOnlyBuckets: ['public'] });
  storage = new Storage({ apiEndpoint: server.endpoint, projectId: 'test-project', retryOptions: { maxRetries: 0 } });
  await storage.createBucket(bucketName);
});
afterAll(async () => {
  await server.close();
});

describe('GCS test server, through @google-cloud/storage', () => {
  it('creates and gets buckets', async () => {
    const [metadata] = await storage.bucket(bucketName).getMetadata();
    expect(metadata.name).toBe(bucketName);
    expect(await codeOf(storage.bucket('missing').getMetadata())).toBe(404);
    expect(await codeOf(storage.createBucket(bucketName))).toBe(409);
  });

  it('uploads with uploadType=multipart and reads back metadata and media, validated by hash', async () => {
    const file = storage.bucket(bucketName).file('dir/ünï code/a b.json');
    await file.save('{"a":1}', { resumable: false, contentType: 'application/json' });
    const [metadata] = await file.getMetadata();
    expect(metadata.size).toBe('7');
    expect(metadata.md5Hash).toBe(createHash('md5').update('{"a":1}').digest('base64'));
    expect(metadata.contentType).toBe('application/json');
    expect((await readAll(file, { validation: 'crc32c' })).toString()).toBe('{"a":1}');
    expect((await readAll(file, { validation: 'md5' })).toString()).toBe('{"a":1}');
    expect(server.requests.some((line) => line.includes('uploadType=multipart'))).toBe(true);
  });

  it('uploads a 40 MiB object in 8 MiB resumable chunks (308 and Range), validated by hash', async () => {
    const data = randomBytes(40 * 1024 * 1024);
    const file = storage.bucket(bucketName).file('resumable.bin');
    const before = server.requests.length;
    await pipeline(Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)]), file.createWriteStream({ resumable: true, chunkSize: 8 * 1024 * 1024, validation: 'crc32c' }));
    const chunkPuts = server.requests.slice(before).filter((line) => line.startsWith('PUT /upload/'));
    expect(chunkPuts.length).toBe(5);
    const [metadata] = await file.getMetadata();
    expect(Number(metadata.size)).toBe(data.length);
    const back = await readAll(file, { validation: 'crc32c' });
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  }, 60_000);

  it('uploads with uploadType=media when the body is sent raw', async () => {
    const response = await fetch(`${server.endpoint}/upload/storage/v1/b/${bucketName}/o?uploadType=media&name=raw.txt`, { method: 'POST', body: 'raw body', headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { size: string }).size).toBe('8');
    expect((await readAll(storage.bucket(bucketName).file('raw.txt'))).toString()).toBe('raw body');
  });

  it('serves ranges', async () => {
    const file = storage.bucket(bucketName).file('range');
    await file.save('0123456789', { resumable: false });
    expect((await readAll(file, { start: 2, end: 5 })).toString()).toBe('2345');
    expect((await readAll(file, { start: 7 })).toString()).toBe('789');
    expect((await readAll(file, { start: 0, end: 0 })).toString()).toBe('0');
  });

  it('honours ifGenerationMatch, ifGenerationNotMatch and ifMetagenerationMatch with 412', async () => {
    const file = storage.bucket(bucketName).file('cond');
    await file.save('v1', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    expect(await codeOf(file.save('v2', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }))).toBe(412);
    const [first] = await file.getMetadata();
    await file.save('v2', { resumable: false, preconditionOpts: { ifGenerationMatch: Number(first.generation) } });
    expect(await codeOf(file.save('v3', { resumable: false, preconditionOpts: { ifGenerationMatch: Number(first.generation) } }))).toBe(412);
    expect(await codeOf(file.save('v3', { resumable: true, preconditionOpts: { ifGenerationMatch: Number(first.generation) } }))).toBe(412);
    const [second] = await file.getMetadata();
    expect(BigInt(second.generation!)).toBeGreaterThan(BigInt(first.generation!));
    expect(await codeOf(file.getMetadata({ ifGenerationNotMatch: second.generation }))).toBe(412);
    expect(await codeOf(file.getMetadata({ ifMetagenerationMatch: 7 }))).toBe(412);
    expect((await readAll(file)).toString()).toBe('v2');
  });

  it('lists with prefix, delimiter, maxResults and pageToken', async () => {
    const bucket = storage.bucket(bucketName);
    const names = Array.from({ length: 25 }, (_, i) => `list/${String(i).padStart(3, '0')}`);
    await Promise.all(names.map((name) => bucket.file(name).save(name, { resumable: false })));
    await bucket.file('list/sub/deep').save('x', { resumable: false });
    const all: string[] = [];
    let query: { prefix: string; maxResults: number; autoPaginate: false; pageToken?: string } | undefined = { prefix: 'list/', maxResults: 7, autoPaginate: false };
    let pages = 0;
    while (query) {
      const [files, next] = await bucket.getFiles(query);
      all.push(...files.map((file) => file.name));
      query = next as typeof query;
      pages++;
    }
    expect(all).toEqual([...names, 'list/sub/deep']);
    expect(pages).toBe(4);
    const [page, next] = await bucket.getFiles({ prefix: 'list/', maxResults: 10, autoPaginate: false });
    expect(page).toHaveLength(10);
    expect((next as { pageToken?: string }).pageToken).toBeDefined();
    const [, , response] = await bucket.getFiles({ prefix: 'list/', delimiter: '/', autoPaginate: false });
    expect((response as { prefixes?: string[] }).prefixes).toEqual(['list/sub/']);
  });

  it('deletes, and answers GCS-shaped errors for missing objects', async () => {
    const file = storage.bucket(bucketName).file('gone');
    await file.save('x', { resumable: false });
    await file.delete();
    expect(await codeOf(file.delete())).toBe(404);
    expect(await codeOf(file.getMetadata())).toBe(404);
    const response = await fetch(`${server.endpoint}/storage/v1/b/${bucketName}/o/gone`);
    expect(await response.json()).toEqual({ error: { code: 404, message: `No such object: ${bucketName}/gone`, errors: [{ message: `No such object: ${bucketName}/gone`, domain: 'global', reason: 'notFound' }] } });
  });

  it('rejects an upload whose declared hash does not match', async () => {
    const response = await fetch(`${server.endpoint}/upload/storage/v1/b/${bucketName}/o?uploadType=media&name=bad`, { method: 'POST', body: 'data', headers: { 'x-goog-hash': 'md5=AAAAAAAAAAAAAAAAAAAAAA==' } });
    expect(response.status).toBe(400);
    expect(await codeOf(storage.bucket(bucketName).file('bad').getMetadata())).toBe(404);
  });

  it('refuses writes to a read-only (public, anonymous) bucket, and serves its reads', async () => {
    expect(await codeOf(storage.bucket('public').file('x').save('x', { resumable: false }))).toBe(401);
    const [files] = await storage.bucket('public').getFiles();
    expect(files).toEqual([]);
  });
});
