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
});
