// Requests that time out are retried like a reset connection or a 503: the SDK's own
// retry rule leaves out timeouts, so a single stalled answer used to fail the operation.
import { afterEach, describe, expect, it } from '@jest/globals';
import { PreconditionFailedError } from '@modelstore/core';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { server, storageOn } from './server.js';
import { text } from 'node:stream/consumers';

let proxy: FaultProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** A storage whose first request matching `method` and `pattern` is forwarded, but its answer held back past the timeout. */
async function stallFirst(method: string, pattern: RegExp) {
  const info = server();
  let stalled = 0;
  proxy = await startFaultProxy({
    target: info.endpoint,
    stallMs: 3000,
    decide: (request) => (stalled === 0 && request.method === method && pattern.test(decodeURIComponent(request.url)) ? (stalled++, 'stall') : undefined),
  });
  const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { requestTimeoutMs: 500 });
  const direct = storageOn(info, { rootPrefix: faulty.rootPrefix });
  return { faulty, direct, stalled: () => stalled };
}

describe('GcsStorage requests that time out', () => {
  it('retries a small write whose answer never came, and the object is written', async () => {
    const { faulty, direct, stalled } = await stallFirst('POST', /uploadType=multipart.*name=.*doc\.json/);
    const written = await faulty.put('doc.json', '{"v":1}', { contentType: 'application/json' });
    expect(stalled()).toBe(1);
    const stored = await direct.get('doc.json');
    expect(await text(stored!.body)).toBe('{"v":1}');
    expect(stored!.etag).toBe(written.etag);
  }, 30_000);

  it('reports a create-only write applied before its timeout as "exists" on the retry, which the registry recognises as its own', async () => {
    const { faulty, direct, stalled } = await stallFirst('POST', /uploadType=multipart.*name=.*doc\.json/);
    await expect(faulty.put('doc.json', '{"v":1}', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(stalled()).toBe(1);
    expect(await text((await direct.get('doc.json'))!.body)).toBe('{"v":1}');
  }, 30_000);

  it('retries a metadata read whose answer never came', async () => {
    const { faulty, direct, stalled } = await stallFirst('GET', /\/o\/.*doc\.json/);
    await direct.put('doc.json', 'hello');
    expect(await text((await faulty.get('doc.json'))!.body)).toBe('hello');
    expect(stalled()).toBe(1);
  }, 30_000);

  it('retries a listing whose answer never came', async () => {
    const { faulty, direct, stalled } = await stallFirst('GET', /\/o\?/);
    await direct.put('a/one', '1');
    expect((await faulty.list('a/')).objects.map((object) => object.key)).toEqual(['a/one']);
    expect(stalled()).toBe(1);
  }, 30_000);

  it('retries a delete whose answer never came', async () => {
    const { faulty, direct, stalled } = await stallFirst('DELETE', /doc\.json/);
    await direct.put('doc.json', 'bye');
    await faulty.delete('doc.json');
    expect(stalled()).toBe(1);
    expect(await direct.head('doc.json')).toBeUndefined();
  }, 30_000);

  it.each([
    ['a listing (the SDK, node-fetch)', 'GET', /\/o\?/, (storage: ReturnType<typeof storageOn>) => storage.list('a/')],
    ['a resumable chunk (node:http)', 'PUT', /upload_id/, (storage: ReturnType<typeof storageOn>) => storage.put('big.bin', Buffer.alloc(600_000))],
  ] as const)(
    'says what to do when %s never answers, naming the timeout',
    async (_what, method, pattern, call) => {
      const info = server();
      proxy = await startFaultProxy({ target: info.endpoint, stallMs: 5000, decide: (request) => (request.method === method && pattern.test(decodeURIComponent(request.url)) ? 'stall' : undefined) });
      const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { requestTimeoutMs: 300, maxAttempts: 2, resumableThreshold: 0, chunkSize: 256 * 1024 });
      const error = await call(faulty).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toMatchObject({ code: 'STORAGE', retryable: true });
      expect(error!.message).toMatch(/failed \((request-timeout|TimeoutError)\): .*; the server did not answer in time: check the network and the server \(or raise the request timeout\), then try again$/);
    },
    60_000,
  );
});
