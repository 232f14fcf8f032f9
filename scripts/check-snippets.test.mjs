// The README snippet check fails on a snippet that does not compile, pointing at the
// Markdown line, and passes complete snippets and marked fragments.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'check-snippets.mjs');
const folder = mkdtempSync(path.join(tmpdir(), 'check-snippets-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const fence = '```';
const good = [
  '# Good',
  '',
  `${fence}ts`,
  "import { MemoryStorage, ModelStore } from '@modelstore/core';",
  "import { RawAdapter } from '@modelstore/adapter-raw';",
  '',
  'const store = new ModelStore({ storage: new MemoryStorage(), adapters: [new RawAdapter()] });',
  'console.log(await store.listDomains());',
  fence,
  '',
  '<!-- snippet: skip -->',
  `${fence}ts`,
  '{ ok: boolean, checks: [...] }',
  fence,
  '',
].join('\n');

function check(name, text) {
  const file = path.join(folder, name);
  writeFileSync(file, text);
  return spawnSync(process.execPath, [script, '--files', file], { encoding: 'utf8' });
}

test('complete snippets and marked fragments pass', () => {
  const result = check('good.md', good);
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /README snippets: 1 blocks type-check \(1 marked as fragments\)/);
});

test('a snippet using an undefined name or a missing import fails, naming the Markdown line', () => {
  const broken = `${good}\n${fence}ts\nimport { openModelStore } from '@modelstore/core';\n\nconst store = await openModelStore('./models', { adapters: [new RawAdapter()] });\nawait store.getModelInfo('churn', modelId);\n${fence}\n`;
  const result = check('broken.md', broken);
  assert.equal(result.status, 1, `${result.stdout}\n${result.stderr}`);
  const lines = broken.split('\n');
  const adapterLine = lines.findIndex((line) => line.includes('new RawAdapter()]') && line.includes('openModelStore')) + 1;
  const idLine = lines.findIndex((line) => line.includes('modelId);')) + 1;
  assert.match(result.stderr, new RegExp(`broken\\.md:${adapterLine}:\\d+ error TS2304: Cannot find name 'RawAdapter'`));
  assert.match(result.stderr, new RegExp(`broken\\.md:${idLine}:\\d+ error TS2304: Cannot find name 'modelId'`));
});
