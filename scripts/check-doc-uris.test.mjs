// Every store URI the docs show (`--store <uri>` in any README or docs page, and each
// `s3://`, `gs://`, `azure://`, `file://` URI in backticks on the From Python page) is
// accepted by the backend it names: the scheme is known and every query option is one of
// the backend's, with a value of the right type. Placeholders such as `<account-id>` are
// filled in first. Runs on the built packages.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (name) => pathToFileURL(path.join(root, 'packages', name.replace('@modelstore/', ''), 'dist', 'index.js')).href;
const { parseStoreUri } = await import(dist('@modelstore/core'));

const files = [
  'README.md',
  ...readdirSync(path.join(root, 'packages')).map((name) => `packages/${name}/README.md`),
  ...readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
].filter((file) => existsSync(path.join(root, file)));

const uris = new Map(); // uri → where
for (const file of files) {
  const text = readFileSync(path.join(root, file), 'utf8');
  for (const match of text.matchAll(/--store '?((?:s3|gs|gcs|azure|file):\/\/[^\s'`)]+)/g)) uris.set(match[1], file);
  if (file === 'docs/from-python.md') {
    for (const match of text.matchAll(/`((?:s3|gs|gcs|azure|file):\/\/[^`\s]+)`/g)) uris.set(match[1], file);
  }
}

test('the docs show store URIs for every backend', () => {
  const schemes = new Set([...uris.keys()].map((uri) => uri.split('://')[0]));
  for (const scheme of ['s3', 'gs', 'azure', 'file']) assert.ok(schemes.has(scheme), `no ${scheme}:// URI found in the docs`);
  assert.ok(uris.size >= 10, `only ${uris.size} URIs found`);
});

for (const [uri, file] of uris) {
  test(`${file}: ${uri}`, async () => {
    const filled = uri.replace(/<([a-z-]+)>/g, (_, name) => name.replace(/[^a-z0-9]/g, ''));
    const target = parseStoreUri(filled);
    const backend = await import(dist(target.package));
    const options = backend.fromStoreUri(target.uri);
    assert.equal(typeof options, 'object');
    if (/minio=true/.test(uri)) assert.equal(options.minio, true);
    if (/backblaze=true/.test(uri)) assert.equal(options.backblaze, true);
    if (/account=/.test(uri)) assert.equal(typeof options.account, 'string');
  });
}
