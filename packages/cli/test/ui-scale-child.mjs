// `modelstore ui`'s server over a file system registry whose storage counts its requests
// (from the server's start): prints the URL, then answers the parent's IPC messages `reset` and `count` with
// `{ count, requests }` (each request as `method key`).
import { ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { startUiServer } from '../dist/ui/server.js';

const [root] = process.argv.slice(2);
const inner = new FileSystemStorage({ root });
let requests = [];
const counting = { specificationVersion: 'v1', capabilities: inner.capabilities, describe: (key) => inner.describe(key) };
for (const method of ['put', 'get', 'head', 'list', 'delete']) {
  counting[method] = (...args) => {
    requests.push(`${method} ${args[0]}`);
    return inner[method](...args);
  };
}
const ui = await startUiServer({ store: new ModelStore({ storage: counting }), storeUri: root });
process.stdout.write(`${ui.url}\n`);
process.on('message', (message) => {
  if (message === 'reset') requests = [];
  process.send({ count: requests.length, requests });
});
process.on('disconnect', () => ui.close().then(() => process.exit(0)));
