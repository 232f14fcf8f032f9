// Uploads, deletes and labels models on a file system registry in a loop, until killed.
import { ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { FileSystemStorage } from '@modelstore/storage-fs';

const [root, modelFile, seedText] = process.argv.slice(2);
let seed = Number(seedText) >>> 0;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const store = new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [new RawAdapter()] });
await store.createModelState('production');
// One model first, so that every run has something to check.
await store.upload('churn', { model: modelFile });
process.stdout.write('ready\n');
for (;;) {
  const ids = await store.listModels('churn').catch(() => []);
  const pick = () => ids[Math.floor(random() * ids.length)];
  const roll = random();
  if (roll < 0.5 || ids.length === 0) await store.upload('churn', { model: modelFile });
  else if (roll < 0.7) await store.deleteModel('churn', pick());
  else if (roll < 0.9) await store.setModelState('churn', pick(), 'production');
  else await store.removeModelState('churn', pick(), 'production');
}
