// `pnpm demo <dir>` with a directory that does not exist yet, given relative to where pnpm
// runs: the demo creates it, uploads, downloads, loads and predicts, and a second run in the
// same directory works too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const demo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cwd = mkdtempSync(path.join(tmpdir(), 'modelstore-demo-test-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

function runDemo(directory) {
  // pnpm is how the README runs it; it sets INIT_CWD to the folder it was started in.
  const result = spawnSync('pnpm', ['--dir', demo, 'run', 'demo', directory], { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.error, undefined, `pnpm could not be run (install it: npm i -g pnpm@12.4.2): ${result.error}`);
  return result;
}

test('pnpm demo <dir> creates a directory that does not exist, relative to where pnpm was run', () => {
  const result = runDemo('runs/first');
  const work = path.join(cwd, 'runs', 'first');
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /Done: the model predicts in Node what it predicted in scikit-learn/);
  assert.match(result.stdout, /model\.onnx byte-identical to the original: true/);
  assert.ok(result.stdout.includes(`Everything the demo wrote is under ${work}`));
  assert.deepEqual(readdirSync(work).sort(), ['MODEL_CARD.md', 'cache', 'downloaded', 'registry']);
});

test('a second run in the same directory adds a model and succeeds', () => {
  const result = runDemo('runs/first');
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  const models = /models: (\[[^\]]*\])/.exec(result.stdout)?.[1] ?? '';
  assert.equal((models.match(/'/g) ?? []).length, 4, `two models listed: ${models}`);
  assert.ok(existsSync(path.join(cwd, 'runs', 'first', 'downloaded', 'model.onnx')));
});
