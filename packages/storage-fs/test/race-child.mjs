// A separate process racing on one key of a FileSystemStorage; prints its outcome as JSON.
import { PreconditionFailedError } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { text } from 'node:stream/consumers';

const [root, id, startAt, increments] = process.argv.slice(2);
const storage = new FileSystemStorage({ root });
const readText = async (key) => {
  const object = await storage.get(key);
  return { text: await text(object.body), etag: object.etag };
};

while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));

let created = false;
try {
  await storage.put('race/create-only', `writer-${id}`, { ifNoneMatch: '*' });
  created = true;
} catch (error) {
  if (!PreconditionFailedError.isInstance(error)) throw error;
}

let conflicts = 0;
for (let done = 0; done < Number(increments); ) {
  const { text, etag } = await readText('race/counter');
  try {
    await storage.put('race/counter', String(Number(text) + 1), { ifMatch: etag });
    done++;
  } catch (error) {
    if (!PreconditionFailedError.isInstance(error)) throw error;
    conflicts++;
  }
}
process.stdout.write(JSON.stringify({ id, created, conflicts }));
