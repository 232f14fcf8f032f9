// An answer that is not a success (404, 412, a 5xx after the last retry) whose body
// breaks off. The SDK's read stream read such a body for its error message in a
// promise nothing awaited, so the connection's raw `read ECONNRESET` escaped as an
// unhandled rejection (it failed a loaded fault run once, after every operation
// had succeeded). Reads now go through the package's own media request.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { StorageError } from '@modelstore/core';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { server, storageOn } from './server.js';
import { text } from 'node:stream/consumers';

let proxy: FaultProxy | undefined;
const escaped: unknown[] = [];
const record = (error: unknown) => escaped.push(error);

beforeEach(() => {
  escaped.length = 0;
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
});

afterEach(async () => {
  process.off('unhandledRejection', record);
  process.off('uncaughtException', record);
  await proxy?.close();
  proxy = undefined;
});

/** Lets pending socket events and promise jobs run, so that an escaping error is recorded. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

/** A storage behind a proxy that resets every media download's answer in the middle of its body. */
async function resettingReads() {
  const info = server();
  let resets = 0;
  proxy = await startFaultProxy({ target: info.endpoint, decide: (request) => (request.method === 'GET' && request.url.includes('alt=media') ? (resets++, 'reset') : undefined) });
  const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { requestTimeoutMs: 2000, maxAttempts: 2 });
  const direct = storageOn(info, { rootPrefix: faulty.rootPrefix });
  return { faulty, direct, resets: () => resets };
}

describe('GcsStorage reads whose answer breaks off', () => {
  it('reports a missing object as missing when its 404 answer breaks off, and nothing escapes', async () => {
    const { faulty, resets } = await resettingReads();
    expect(await faulty.get('missing/doc.json')).toBeUndefined();
    await settle();
    expect(resets()).toBeGreaterThan(0);
    expect(escaped).toEqual([]);
  }, 30_000);

  it('fails a read of a generation that is gone (412/404 answers broken off) with a typed error, and nothing escapes', async () => {
    const { faulty, direct, resets } = await resettingReads();
    await direct.put('doc.bin', Buffer.alloc(64 * 1024, 1));
    // The body breaks off on every attempt: the read resumes on the same generation,
    // which is replaced meanwhile, so the resumption's answers are errors whose bodies break off too.
    const stored = await faulty.get('doc.bin');
    await direct.put('doc.bin', Buffer.alloc(64 * 1024, 2));
    const error = await text(stored!.body).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(StorageError.isInstance(error)).toBe(true);
    await settle();
    expect(resets()).toBeGreaterThan(1);
    expect(escaped).toEqual([]);
  }, 30_000);

  it('fails with a typed error when every answer to a read breaks off, and nothing escapes', async () => {
    const { faulty, direct } = await resettingReads();
    await direct.put('doc.json', '{"v":1}');
    const error = await faulty
      .get('doc.json')
      .then(
        (stored) => text(stored!.body),
        (caught: unknown) => caught,
      )
      .catch((caught: unknown) => caught);
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as StorageError).retryable).toBe(true);
    await settle();
    expect(escaped).toEqual([]);
  }, 30_000);
});
