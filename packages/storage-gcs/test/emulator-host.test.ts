// STORAGE_EMULATOR_HOST, as Python modelstore users set it (`http://host:port`, which the
// Python client uses as the API root) and as the Node SDK alone wants it
// (`http://host:port/storage/v1`, its whole base URL): every request reaches the server
// either way, the SDK's and the package's own media reads and resumable uploads.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { GcsStorage } from '../src/index.js';
import { buffer } from 'node:stream/consumers';

const cases = ['MODELSTORE_TEST_GCS', 'MODELSTORE_TEST_FAKE_GCS'].flatMap((server) => [
  [server, ''],
  [server, '/storage/v1'],
]);

describe.each(cases)('GcsStorage configured by STORAGE_EMULATOR_HOST (%s, endpoint + "%s")', (name, suffix) => {
  const saved = process.env.STORAGE_EMULATOR_HOST;
  let storage: GcsStorage;
  beforeAll(() => {
    const { endpoint, bucket } = JSON.parse(process.env[name]!) as { endpoint: string; bucket: string };
    process.env.STORAGE_EMULATOR_HOST = `${endpoint}${suffix}`;
    storage = new GcsStorage({ bucket, rootPrefix: `emulator-host-${randomBytes(4).toString('hex')}`, projectId: 'test', resumableThreshold: 256 * 1024, chunkSize: 256 * 1024 });
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = saved;
  });

  it('writes (single request and resumable), lists and reads back through the emulator', async () => {
    const small = Buffer.from('{"small":true}');
    const large = randomBytes(600 * 1024);
    await storage.put('a/small.json', small, { ifNoneMatch: '*' });
    await storage.put(
      'a/large.bin',
      (async function* () {
        yield large.subarray(0, 300_000);
        yield large.subarray(300_000);
      })(),
      { ifNoneMatch: '*' },
    );
    expect((await storage.list('a/')).objects.map((object) => [object.key, object.size])).toEqual([
      ['a/large.bin', large.length],
      ['a/small.json', small.length],
    ]);
    const read = async (key: string) => {
      const object = await storage.get(key);
      return buffer(object!.body);
    };
    expect(await read('a/small.json')).toEqual(small);
    expect((await read('a/large.bin')).equals(large)).toBe(true);
    expect(await storage.get('a/missing')).toBeUndefined();
  });
});
