import { afterEach, describe, expect, it } from '@jest/globals';
import { startFaultProxy, type Fault, type FaultProxy } from '@modelstore/test-servers';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { server, storageOn } from './server.js';
import { buffer } from 'node:stream/consumers';

const size = 6 * 1024 * 1024;
const chunkSize = 1024 * 1024;
let proxy: FaultProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Uploads `size` random bytes as a stream through a proxy that breaks the requests `decide` picks. */
async function uploadThrough(decide: (request: { method: string; url: string; range: string }) => Fault | undefined) {
  const info = server();
  proxy = await startFaultProxy({
    target: info.endpoint,
    stallMs: 3000,
    decide: ({ method, url, headers }) => decide({ method, url, range: String(headers['content-range'] ?? '') }),
  });
  const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { resumableThreshold: 0, chunkSize, requestTimeoutMs: 500 });
  const direct = storageOn(info, { rootPrefix: faulty.rootPrefix });
  const bytes = randomBytes(size);
  const info2 = await faulty.put('model.bin', Readable.from([bytes.subarray(0, size / 2), bytes.subarray(size / 2)]), { ifNoneMatch: '*' });
  const stored = await direct.get('model.bin');
  return { bytes, info: info2, stored: await buffer(stored!.body), proxy };
}

describe('GcsStorage resumable uploads through failures', () => {
  it('resumes after a chunk is cut off and the status query that follows fails too', async () => {
    const injected: string[] = [];
    let state = 0;
    const { bytes, stored, info } = await uploadThrough(({ method, range }) => {
      // The third chunk is cut off mid-body, then the first status query answers 503.
      if (state === 0 && method === 'PUT' && range.startsWith(`bytes ${2 * chunkSize}-`)) {
        state = 1;
        injected.push(`reset ${range}`);
        return 'reset';
      }
      if (state === 1 && method === 'PUT' && range.startsWith('bytes */')) {
        state = 2;
        injected.push(`503 ${range}`);
        return '503';
      }
      return undefined;
    });
    expect(injected).toEqual([`reset bytes ${2 * chunkSize}-${3 * chunkSize - 1}/*`, '503 bytes */*']);
    expect(sha(stored)).toBe(sha(bytes));
    expect(info.size).toBe(size);
  }, 60_000);

  it('completes when the answer to the last chunk is lost: the status query finds the object', async () => {
    let stalled = 0;
    const { bytes, stored } = await uploadThrough(({ method, range }) => {
      if (stalled === 0 && method === 'PUT' && range.endsWith(`/${size}`) && !range.startsWith('bytes */')) {
        stalled++;
        return 'stall';
      }
      return undefined;
    });
    expect(stalled).toBe(1);
    expect(sha(stored)).toBe(sha(bytes));
  }, 60_000);

  it('fails with a typed, retryable error when every attempt fails, leaving no object', async () => {
    const info = server();
    proxy = await startFaultProxy({ target: info.endpoint, decide: ({ method, url }) => (method === 'PUT' && url.includes('upload_id') ? '503' : undefined) });
    const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { resumableThreshold: 0, chunkSize, requestTimeoutMs: 500, maxAttempts: 2 });
    const error = await faulty.put('model.bin', Readable.from([randomBytes(size)])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe('STORAGE');
    expect((error as { retryable?: boolean }).retryable).toBe(true);
    expect(await storageOn(info, { rootPrefix: faulty.rootPrefix }).head('model.bin')).toBeUndefined();
  }, 60_000);
});

describe('GcsStorage resumable uploads whose session is lost', () => {
  it.each(['the third chunk', 'the status query after a failed chunk'])(
    'fails at once with a retryable StorageError that says to start again when %s answers 404, leaving no object',
    async (where) => {
      const info = server();
      let puts = 0;
      let failed = false;
      proxy = await startFaultProxy({
        target: info.endpoint,
        stallMs: 3000,
        decide: ({ method, url, headers }) => {
          if (method !== 'PUT' || !url.includes('upload_id')) return undefined;
          const range = String(headers['content-range'] ?? '');
          if (where === 'the third chunk') return ++puts === 3 ? '404' : undefined;
          // The third chunk is reset; the status query that follows finds no session.
          if (!failed && range.startsWith(`bytes ${2 * chunkSize}-`)) {
            failed = true;
            return 'reset';
          }
          return failed && range.startsWith('bytes */') ? '404' : undefined;
        },
      });
      const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { resumableThreshold: 0, chunkSize, requestTimeoutMs: 2000 });
      const started = performance.now();
      const error = await faulty.put('model.bin', Readable.from([randomBytes(size)]), { ifNoneMatch: '*' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'STORAGE', retryable: true, message: expect.stringContaining('start the upload again') });
      expect((error as Error).message).toContain('no longer knows its upload session (HTTP 404');
      // Not retried chunk by chunk: a lost session cannot take a chunk again.
      expect(proxy.counts['404']).toBe(1);
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(await storageOn(info, { rootPrefix: faulty.rootPrefix }).head('model.bin')).toBeUndefined();
    },
    60_000,
  );
});

describe('GcsStorage reads through failures', () => {
  it('reads an object whose first request answered 503 and was retried by the SDK', async () => {
    const info = server();
    const direct = storageOn(info);
    const bytes = randomBytes(300_000);
    await direct.put('model.bin', bytes);
    let failures = 1;
    proxy = await startFaultProxy({ target: info.endpoint, decide: ({ method, url }) => (method === 'GET' && url.includes('alt=media') && failures-- > 0 ? '503' : undefined) });
    const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { rootPrefix: direct.rootPrefix, requestTimeoutMs: 2000 });
    const object = await faulty.get('model.bin');
    expect(sha(await buffer(object!.body))).toBe(sha(bytes));
    expect(proxy.counts['503']).toBe(1);
  }, 30_000);

  it('resumes a read cut off part-way', async () => {
    const info = server();
    const direct = storageOn(info);
    const bytes = randomBytes(3 * 1024 * 1024);
    await direct.put('model.bin', bytes);
    let resets = 2;
    proxy = await startFaultProxy({ target: info.endpoint, decide: ({ method, url }) => (method === 'GET' && url.includes('alt=media') && resets-- > 0 ? 'reset' : undefined) });
    const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { rootPrefix: direct.rootPrefix });
    const object = await faulty.get('model.bin');
    expect(sha(await buffer(object!.body))).toBe(sha(bytes));
    expect(proxy.counts.reset).toBe(2);
  }, 30_000);
});
