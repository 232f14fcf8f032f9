// A process that downloads (or loads) a model from a file system registry into a
// destination, reporting each step on stdout as one JSON line; with `mount`, run inside
// `unshare -rm` after a tmpfs was mounted at the destination (see destinations.test.ts).
import { ModelStore, ModelStoreError } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [root, cacheDir, command, to] = process.argv.slice(2);
const store = new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [new RawAdapter()], cacheDir });
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const outcome = (promise) =>
  promise.then(
    () => 'ok',
    (error) => ({ code: error.code, errno: error.errno, typed: ModelStoreError.isInstance(error), message: error.message }),
  );

if (command === 'download') {
  // Slowed down so that the parent can kill it while the staging folder fills.
  say({ started: true });
  await store.download('big', { to, onProgress: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2) });
  say({ done: true });
} else if (command === 'load') {
  say({ started: true });
  await store.load('big', { onProgress: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2) });
  say({ done: true });
} else if (command === 'mount') {
  const list = () => readdirSync(to).sort();
  const out = { mountedDevice: statSync(to).dev !== statSync(path.dirname(to)).dev };
  out.first = await outcome(store.download('small', { to }));
  out.afterFirst = list();
  out.bytes = readFileSync(path.join(to, 'model.bin'), 'utf8');
  out.refused = await outcome(store.download('small', { to }));
  writeFileSync(path.join(to, 'stale.txt'), 'old');
  out.second = await outcome(store.download('small', { to, overwrite: true }));
  out.afterSecond = list();
  // Bigger than the volume: the disk fills up.
  out.full = await outcome(store.download('big', { to, overwrite: true }));
  out.afterFull = list();
  say(out);
}
