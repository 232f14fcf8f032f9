import { afterEach, describe, expect, it } from '@jest/globals';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { azurite, storageOn } from './server.js';

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

describe('AzureBlobStorage on a connection that stalls', () => {
  it('gives up on a stalled request after idleTimeoutMs and retries it, instead of hanging', async () => {
    const { connectionString } = azurite();
    const target = /BlobEndpoint=(http:\/\/127\.0\.0\.1:\d+)/.exec(connectionString)![1]!;
    let stalls = 1;
    // The first PUT is applied by Azurite, but its answer never comes.
    proxy = await startFaultProxy({ target, stallMs: 30_000, decide: ({ method }) => (method === 'PUT' && stalls-- > 0 ? 'stall' : undefined) });
    const storage = storageOn({ connectionString: connectionString.replace(target, proxy.endpoint), idleTimeoutMs: 500, retryDelayMs: 50 });
    const started = Date.now();
    await storage.put('state.json', '{"a":1}');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(proxy.counts.stall).toBe(1);
    expect((await storage.head('state.json'))?.size).toBe(7);
  }, 30_000);
});
