// The CLI as users meet it, each case as a child process with its exact exit code and --json
// output: arguments checked before any I/O, metadata kept as typed, errors in the CLI's words,
// stores that hold no registry, usage errors as JSON, the rm prompt, ls/info/state output,
// cp's progress and "already there", and the help text.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ensurePythonEnv } from '@modelstore/test-servers';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bin, modelstore, stores, type Result } from './helpers.js';

const run = promisify(execFile);

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-users-'));
  writeFileSync(path.join(work, 'model.bin'), randomBytes(20_000));
  writeFileSync(path.join(work, 'README.md'), '# churn\n');
  mkdirSync(path.join(work, 'notes'));
  writeFileSync(path.join(work, 'notes', 'a.txt'), 'a');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const cli = (...args: string[]) => modelstore(['--store', './models', ...args], { cwd: work });
/** The --json error document of a failed run (one line on stdout, the same message on stderr). */
function jsonError(result: Result): { code: string; message: string; argument?: string } {
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string; argument?: string } };
  if (result.stderr.startsWith('modelstore:')) expect(result.stderr).toBe(`modelstore: ${error.message}\n`);
  return error;
}
const registry = () => path.join(work, 'models', 'operatorai-model-store');

describe('1. every argument is checked before any I/O', () => {
  it('upload --state xy, a bad --meta, --meta-json, --id, a missing path: exit 2 and nothing written', async () => {
    for (const args of [
      ['upload', 'churn', 'model.bin', '--state', 'xy'],
      ['upload', 'churn', 'model.bin', '--meta', 'novalue'],
      ['upload', 'churn', 'model.bin', '--meta-json', 'v=not json'],
      ['upload', 'churn', 'model.bin', '--meta-json', 'v=NaN'],
      ['upload', 'churn', 'model.bin', '--meta', 'v=1', '--meta-json', 'v=2'],
      ['upload', 'churn', 'model.bin', '--id', 'bad id'],
      ['upload', 'churn', 'model.bin', '--extra', 'notes'],
      ['upload', 'churn', 'model.bin', '--extra', 'nothing-here'],
      ['upload', 'versions', 'model.bin'],
      ['upload', 'churn', 'no-such-file'],
    ]) {
      const result = await cli('--json', ...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(['USAGE', 'INVALID_NAME']).toContain(jsonError(result).code);
      expect(existsSync(path.join(work, 'models'))).toBe(false);
    }
    const state = jsonError(await cli('--json', 'upload', 'churn', 'model.bin', '--state', 'xy'));
    expect(state).toEqual({ code: 'INVALID_NAME', message: 'Invalid state "xy": must be at least 3 characters long' });
  });

  it('every other command: a bad name is exit 2 before the store is read (a store that does not exist would be exit 3)', async () => {
    for (const args of [
      ['download', 'churn', 'bad id'],
      ['download', 'churn', '--state', 'xy'],
      ['ls', 'versions'],
      ['ls', 'churn', '--state', 'xy'],
      ['info', 'churn', 'bad id'],
      ['state', 'create', 'xy'],
      ['state', 'rm', 'xy'],
      ['state', 'set', 'churn', 'm1', 'xy'],
      ['state', 'unset', 'churn', 'bad id', 'production'],
      ['rm', 'churn', 'bad id', '--yes'],
      ['cp', 'churn', 'bad id', '--to', './other'],
      ['cp', 'churn', 'm1', '--to', './other', '--state', 'xy'],
      ['cp', 'churn', 'm1', '--to', 'ftp://x/y'],
      ['gc', '--older-than', 'soon'],
      ['gc', '--older-than', '5m'],
    ]) {
      const result = await modelstore(['--json', '--store', './not-there', ...args], { cwd: work });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(['USAGE', 'INVALID_NAME', 'INVALID_ARGUMENT']).toContain(jsonError(result).code);
    }
    expect(readdirSync(work).sort()).toEqual(['README.md', 'model.bin', 'notes']);
  });
});

describe('2. --meta values stay strings; --meta-json for typed values', () => {
  it('stores git_sha=4e81234, v=2.0, version=1.10 and commit=1e5 as typed, and typed values only from --meta-json', async () => {
    const result = await cli(
      '--json',
      'upload',
      'churn',
      'model.bin',
      ...['--meta', 'git_sha=4e81234', '--meta', 'v=2.0', '--meta', 'version=1.10', '--meta', 'commit=1e5', '--meta', 'empty=', '--meta', 'eq=a=b'],
      ...['--meta-json', 'accuracy=0.93', '--meta-json', 'tags=["a","b"]', '--meta-json', 'none=null', '--meta-json', 'ok=true', '--meta-json', 'name="text"'],
    );
    expect(result.code).toBe(0);
    const { extra } = JSON.parse(result.stdout);
    expect(extra).toEqual({ git_sha: '4e81234', v: '2.0', version: '1.10', commit: '1e5', empty: '', eq: 'a=b', accuracy: 0.93, tags: ['a', 'b'], none: null, ok: true, name: 'text' });
    const stored = JSON.parse(readFileSync(path.join(registry(), 'churn', 'versions', `${JSON.parse(result.stdout).model.model_id}.json`), 'utf8'));
    expect(stored.extra.git_sha).toBe('4e81234');
  });

  it('refuses NaN and Infinity in --meta-json as core refuses them, and says how to give a string', async () => {
    const nan = await cli('--json', 'upload', 'churn', 'model.bin', '--meta-json', 'loss=NaN');
    expect(nan.code).toBe(2);
    expect(jsonError(nan)).toEqual({ code: 'USAGE', argument: '--meta-json', message: expect.stringMatching(/loss is NaN: JSON cannot hold NaN or Infinity/) });
    const word = await cli('--json', 'upload', 'churn', 'model.bin', '--meta-json', 'owner=ml-team');
    expect(word.code).toBe(2);
    expect(jsonError(word).message).toMatch(/^--meta-json owner: "ml-team" is not JSON .*--meta-json 'owner="text"', or use --meta owner=text$/);
  });
});

describe('4. errors in the CLI words', () => {
  it('names the command to run, never the JavaScript API', async () => {
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(0);
    expect((await cli('download', 'churn', 'm1', '--to', 'out')).code).toBe(0);
    const cases: Array<[string[], number, string, string]> = [
      [['info', 'churn', 'nope'], 3, 'MODEL_NOT_FOUND', 'Model "nope" does not exist in domain "churn": list its models with `modelstore ls churn`'],
      [['ls', 'fraud'], 3, 'DOMAIN_NOT_FOUND', 'Domain "fraud" does not exist: list the domains with `modelstore ls`, or upload a model to create it'],
      [['ls', 'churn', '--state', 'nosuchstate'], 3, 'STATE_NOT_FOUND', 'Model state "nosuchstate" does not exist: create it with `modelstore state create nosuchstate`, or list the states with `modelstore state ls`'],
      [['state', 'rm', 'nosuchstate'], 3, 'STATE_NOT_FOUND', 'Model state "nosuchstate" does not exist: list the states with `modelstore state ls`'],
      [['upload', 'churn', 'model.bin', '--id', 'm1'], 4, 'MODEL_EXISTS', 'Model "m1" already exists in domain "churn": model ids are never reused, choose another --id or leave it out'],
      [['download', 'churn', 'm1', '--to', 'out'], 4, 'DESTINATION_EXISTS', `Download destination ${JSON.stringify(path.join(work, 'out'))} exists and is not empty: choose another --to or pass --overwrite`],
    ];
    for (const [args, code, errorCode, message] of cases) {
      const result = await cli('--json', ...args);
      expect({ args, code: result.code, error: jsonError(result) }).toEqual({ args, code, error: { code: errorCode, message } });
      expect(result.stderr).not.toMatch(/listModels|createModelState|overwrite: true|create it first/);
    }
    // The id of a deleted model is not reused, and the message says it was deleted.
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'gone')).code).toBe(0);
    expect((await cli('rm', 'churn', 'gone', '--yes')).code).toBe(0);
    const again = await cli('--json', 'upload', 'churn', 'model.bin', '--id', 'gone');
    expect({ code: again.code, error: jsonError(again) }).toEqual({
      code: 4,
      error: { code: 'MODEL_EXISTS', message: 'Model "gone" of domain "churn" was deleted, and model ids are never reused: choose another --id or leave it out' },
    });
  });
});

describe('5. a store that holds no registry', () => {
  it('a missing folder, the inner operatorai-model-store folder, a file, an empty folder: errors that say what is there', async () => {
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(0);
    mkdirSync(path.join(work, 'empty'));
    const cases: Array<[string, number, Record<string, unknown>]> = [
      ['./does-not-exist', 3, { code: 'REGISTRY_NOT_FOUND', message: '--store ./does-not-exist: no such folder. Check the path; a first `modelstore upload` there creates a registry' }],
      [
        './models/operatorai-model-store',
        2,
        {
          code: 'USAGE',
          argument: '--store',
          message: '--store ./models/operatorai-model-store points inside a registry (its operatorai-model-store folder): give the folder or prefix that holds operatorai-model-store, e.g. --store ./models',
        },
      ],
      ['./models/operatorai-model-store/churn', 2, { code: 'USAGE', argument: '--store' }],
      ['./model.bin', 2, { code: 'USAGE', argument: '--store', message: '--store ./model.bin is a file, not a registry folder: give the folder that holds operatorai-model-store' }],
      ['./empty', 3, { code: 'REGISTRY_NOT_FOUND', message: 'No modelstore registry at ./empty: it holds no operatorai-model-store/ folder. Check the path; a first `modelstore upload` there creates a registry' }],
    ];
    for (const [store, code, error] of cases) {
      const result = await modelstore(['--json', '--store', store, 'ls'], { cwd: work });
      expect({ store, code: result.code, error: jsonError(result) }).toEqual({ store, code, error: expect.objectContaining(error) });
    }
    // The inner folder opened as a registry of its own (a copy moved elsewhere): named as such.
    const copy = path.join(work, 'copy');
    mkdirSync(copy);
    for (const name of ['domains', 'model_states']) mkdirSync(path.join(copy, name));
    writeFileSync(path.join(copy, 'domains', 'churn.json'), '{}');
    const inner = await modelstore(['--json', '--store', './copy', 'ls'], { cwd: work });
    expect({ code: inner.code, error: jsonError(inner) }).toEqual({ code: 2, error: { code: 'USAGE', argument: '--store', message: expect.stringMatching(/is the inside of a registry .*give the folder or prefix above it/) } });
    expect(readdirSync(work).sort()).toEqual(['README.md', 'copy', 'empty', 'model.bin', 'models', 'notes']);
  });

  it('a first upload creates a registry and says so; later uploads do not', async () => {
    const first = await modelstore(['--store', './new-registry', 'upload', 'churn', 'model.bin', '--id', 'm1'], { cwd: work });
    expect(first).toEqual({ code: 0, stdout: 'm1\n', stderr: 'modelstore: created a new registry at ./new-registry\n' });
    const second = await modelstore(['--store', './new-registry', 'upload', 'churn', 'model.bin', '--id', 'm2'], { cwd: work });
    expect(second).toEqual({ code: 0, stdout: 'm2\n', stderr: '' });
  });

  it('on S3: an empty prefix is REGISTRY_NOT_FOUND (exit 3), a prefix inside a registry is a usage error, an upload creates one and says so', async () => {
    const { s3, env } = stores();
    const empty = await modelstore(['--json', '--store', s3, 'ls'], { cwd: work, env });
    expect({ code: empty.code, error: jsonError(empty) }).toEqual({ code: 3, error: { code: 'REGISTRY_NOT_FOUND', message: expect.stringMatching(/^No modelstore registry at s3:\/\/.*: it holds no operatorai-model-store\/ folder/) } });
    const inside = await modelstore(['--json', '--store', s3.replace('?', '/operatorai-model-store?'), 'ls'], { cwd: work, env });
    expect({ code: inside.code, error: jsonError(inside) }).toEqual({ code: 2, error: expect.objectContaining({ code: 'USAGE', argument: '--store' }) });
    const upload = await modelstore(['--store', s3, 'upload', 'churn', 'model.bin', '--id', 'm1'], { cwd: work, env });
    expect(upload).toEqual({ code: 0, stdout: 'm1\n', stderr: `modelstore: created a new registry at ${s3}\n` });
    expect(JSON.parse((await modelstore(['--json', '--store', s3, 'ls', 'churn'], { cwd: work, env })).stdout)[0].modelId).toBe('m1');
  }, 60_000);
});

describe('6. --extra with a directory, download --to a file', () => {
  it('are usage errors before any I/O', async () => {
    const extra = await cli('--json', 'upload', 'churn', 'model.bin', '--extra', 'notes');
    expect({ code: extra.code, error: jsonError(extra) }).toEqual({
      code: 2,
      error: { code: 'USAGE', argument: '--extra', message: '--extra notes is a directory: --extra takes files (give each file with its own --extra, or upload the directory as part of the model)' },
    });
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(0);
    const to = await cli('--json', 'download', 'churn', 'm1', '--to', 'README.md');
    expect({ code: to.code, error: jsonError(to) }).toEqual({ code: 2, error: { code: 'USAGE', argument: '--to', message: '--to README.md is a file: give a directory to create (or an empty one)' } });
  });
});

describe('8. usage errors in --json, and the exit code of every path', () => {
  it('an unknown command, a missing argument, an unknown option: {"error": {"code": "USAGE", ...}} on stdout, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['--json', 'uplaod'], "unknown command 'uplaod' (Did you mean upload?)"],
      [['--json', 'upload'], "missing required argument 'domain'"],
      [['--json', 'upload', 'churn'], "missing required argument 'paths'"],
      [['--json', 'ls', '--bogus'], "unknown option '--bogus'"],
      [['--json', 'cp', 'churn', 'm1'], "required option '--to <uri>' not specified"],
      [['--json', 'state', 'set', 'churn'], "missing required argument 'modelId'"],
    ];
    for (const [args, message] of cases) {
      const result = await modelstore(args, { cwd: work });
      expect({ args, code: result.code, stdout: JSON.parse(result.stdout) }).toEqual({ args, code: 2, stdout: { error: { code: 'USAGE', message } } });
    }
    // Without --json, nothing on stdout.
    expect(await modelstore(['uplaod'], { cwd: work })).toEqual({ code: 2, stdout: '', stderr: expect.stringContaining("unknown command 'uplaod'") });
  });

  it('the rm prompt: "n" exits 0 with "not deleted" and keeps the model, "y" deletes it, no terminal needs --yes (exit 2)', async () => {
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(0);
    // `script` runs the command in a pseudo-terminal; the answer is typed on its stdin.
    const prompt = async (answer: string, ...extra: string[]) => {
      const child = execFile('script', ['-qec', `${process.execPath} ${bin} --store ./models ${extra.join(' ')} rm churn m1`, '/dev/null'], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, TERM: 'dumb' } });
      let screen = '';
      child.stdout?.on('data', (data: Buffer) => (screen += data.toString()));
      child.stdin?.end(`${answer}\n`);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, screen };
    };
    const no = await prompt('n');
    expect(no.code).toBe(0);
    expect(no.screen).toContain('Delete model m1 from churn? [y/N]');
    expect(no.screen).toContain('not deleted: churn/m1 is unchanged');
    expect(JSON.parse((await cli('--json', 'ls', 'churn')).stdout).map((row: { modelId: string }) => row.modelId)).toEqual(['m1']);
    const noJson = await prompt('', '--json');
    expect(noJson.code).toBe(0);
    expect(noJson.screen).toMatch(/"deleted": false/);
    const unconfirmed = await cli('--json', 'rm', 'churn', 'm1');
    expect({ code: unconfirmed.code, error: jsonError(unconfirmed) }).toEqual({ code: 2, error: { code: 'USAGE', argument: '--yes', message: 'Deleting churn/m1 needs confirmation: pass --yes' } });
    const yes = await prompt('y');
    expect(yes.code).toBe(0);
    expect(yes.screen).toContain('deleted churn/m1');
    expect((await cli('info', 'churn', 'm1')).code).toBe(3);
  }, 60_000);

  it('exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 already exists, as the README table says', async () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    for (const row of ['| 0 |', '| 1 |', '| 2 |', '| 3 |', '| 4 |']) expect(readme).toContain(row);
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(0);
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(4);
    expect((await cli('info', 'churn', 'm2')).code).toBe(3);
    expect((await cli('info', 'churn', 'bad id')).code).toBe(2);
    // A metadata document cut short: the store holds something this library cannot read (1).
    writeFileSync(path.join(registry(), 'churn', 'versions', 'm1.json'), '{"model": {"dom');
    const broken = await cli('--json', 'info', 'churn', 'm1');
    expect({ code: broken.code, error: jsonError(broken).code }).toEqual({ code: 1, error: 'INTEGRITY' });
  });
});

describe('10. ls, info and state as users read them', () => {
  let python: string;
  beforeAll(async () => {
    ({ python } = await ensurePythonEnv());
  }, 20 * 60_000);

  it(
    'ls <domain>: STATES, sizes of Python-written models from their archive, CREATED in ISO 8601 UTC',
    async () => {
      const started = Date.now();
      // Python writes its stamp in local time: a zone 5h30 east of UTC must not shift the listed time.
      await run(python, [path.join(__dirname, 'python', 'fs_registry.py'), path.join(work, 'models'), 'churn', path.join(work, 'model.bin'), 'py-1', 'production'], {
        env: { PATH: process.env.PATH ?? '', HOME: work, TZ: 'Asia/Kolkata' },
        timeout: 120_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await cli('upload', 'churn', 'model.bin', '--id', 'node-1', '--state', 'staging')).code).toBe(0);
      const rows = JSON.parse((await cli('--json', 'ls', 'churn')).stdout) as Array<{ modelId: string; created: string; library: string; size: number; states: string[] }>;
      expect(rows.map((row) => [row.modelId, row.library, row.states])).toEqual([
        ['node-1', 'model_file', ['staging']],
        ['py-1', 'model_file', ['production']],
      ]);
      const archive = readdirSync(path.join(registry(), 'churn')).flatMap((folder) => (existsSync(path.join(registry(), 'churn', folder, 'py-1')) ? [path.join(registry(), 'churn', folder, 'py-1', 'artifacts.tar.gz')] : []));
      expect(rows[1]!.size).toBe(readFileSync(archive[0]!).length);
      for (const row of rows) {
        expect(row.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(Date.parse(row.created)).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 - 1000);
        expect(Date.parse(row.created)).toBeLessThanOrEqual(Date.now());
      }
      const text = (await cli('ls', 'churn')).stdout.split('\n');
      expect(text[0]).toMatch(/^MODEL ID\s+CREATED\s+LIBRARY\s+SIZE\s+STATES$/);
      expect(text[2]).toMatch(/^py-1\s+\d{4}-\d{2}-\d{2}T[\d:.]+Z\s+model_file\s+[\d.]+ K?i?B\s+production$/);
      const domains = JSON.parse((await cli('--json', 'ls')).stdout);
      expect(domains).toEqual([{ domain: 'churn', latest: 'node-1', created: rows[0]!.created }]);

      const info = await cli('info', 'churn', 'py-1');
      expect(info.code).toBe(0);
      expect(info.stdout).toMatch(/^domain: +churn\nmodel id: +py-1\ncreated: +\d{4}-.*Z\nlibrary: +model_file\nsize: +[\d.]+ K?i?B archive\nstates: +production\nwritten by: +modelstore 0\.0\.82, python:3\.11/);
      const document = JSON.parse((await cli('--json', 'info', 'churn', 'py-1')).stdout);
      expect(document).toMatchObject({ model: { model_id: 'py-1' }, modelstore: '0.0.82', states: ['production'] });
    },
    20 * 60_000,
  );

  it('state create/set/unset/rm and rm confirm what they did; --json state create says whether it was created; state set and upload --state both create a missing state', async () => {
    expect((await cli('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(0);
    expect(await cli('state', 'create', 'staging')).toEqual({ code: 0, stdout: 'created state staging\n', stderr: '' });
    expect(await cli('state', 'create', 'staging')).toEqual({ code: 0, stdout: 'state staging already exists\n', stderr: '' });
    expect(JSON.parse((await cli('--json', 'state', 'create', 'staging')).stdout)).toEqual({ state: 'staging', created: false });
    expect(JSON.parse((await cli('--json', 'state', 'create', 'archive')).stdout)).toEqual({ state: 'archive', created: true });
    expect(await cli('state', 'set', 'churn', 'm1', 'staging')).toEqual({ code: 0, stdout: 'churn/m1 is in state staging\n', stderr: '' });
    expect(JSON.parse((await cli('--json', 'state', 'set', 'churn', 'm1', 'production')).stdout)).toEqual({ domain: 'churn', modelId: 'm1', state: 'production', set: true, stateCreated: true });
    const upload = await cli('upload', 'churn', 'model.bin', '--id', 'm2', '--state', 'canary');
    expect(upload).toEqual({ code: 0, stdout: 'm2\n', stderr: 'modelstore: churn/m2 is in state canary (state canary created)\n' });
    // A missing model creates no state.
    expect((await cli('state', 'set', 'churn', 'nope', 'shadow')).code).toBe(3);
    expect(JSON.parse((await cli('--json', 'state', 'ls')).stdout)).toEqual(['archive', 'canary', 'production', 'staging']);
    expect(await cli('state', 'unset', 'churn', 'm1', 'staging')).toEqual({ code: 0, stdout: 'churn/m1 is no longer in state staging\n', stderr: '' });
    expect(JSON.parse((await cli('--json', 'state', 'unset', 'churn', 'm1', 'staging')).stdout)).toEqual({ domain: 'churn', modelId: 'm1', state: 'staging', set: false, wasSet: false });
    expect(await cli('state', 'rm', 'archive')).toEqual({ code: 0, stdout: 'removed state archive\n', stderr: '' });
    expect(await cli('rm', 'churn', 'm2', '--yes')).toEqual({ code: 0, stdout: 'deleted churn/m2\n', stderr: '' });
    expect(JSON.parse((await cli('--json', 'rm', 'churn', 'm1', '--yes')).stdout)).toEqual({ domain: 'churn', modelId: 'm1', deleted: true });
  });
});

describe('11. cp', () => {
  it('copying a model the target already has with the same digests succeeds as "already there"; different contents under that id is exit 4', async () => {
    const { s3, env } = stores();
    const run = (...args: string[]) => modelstore(['--store', './models', ...args], { cwd: work, env });
    expect((await run('upload', 'churn', 'model.bin', '--id', 'm1')).code).toBe(0);
    const first = await run('cp', 'churn', 'm1', '--to', s3);
    expect(first).toEqual({ code: 0, stdout: 'm1\n', stderr: `modelstore: created a new registry at ${s3}\n` });
    const again = await run('--json', 'cp', 'churn', 'm1', '--to', s3, '--state', 'production');
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`modelstore: churn/m1 is already there in ${s3} (same archive sha256); nothing copied\n`);
    expect(JSON.parse(again.stdout)).toMatchObject({ model: { model_id: 'm1' }, storage: { type: 'aws:s3' } });
    expect(JSON.parse((await modelstore(['--json', '--store', s3, 'ls', 'churn'], { cwd: work, env })).stdout)).toEqual([expect.objectContaining({ modelId: 'm1', states: ['production'] })]);

    writeFileSync(path.join(work, 'other.bin'), randomBytes(1000));
    expect((await modelstore(['--store', './elsewhere', 'upload', 'churn', 'other.bin', '--id', 'm1'], { cwd: work })).code).toBe(0);
    const clash = await modelstore(['--json', '--store', './elsewhere', 'cp', 'churn', 'm1', '--to', s3], { cwd: work, env });
    expect({ code: clash.code, error: jsonError(clash) }).toEqual({
      code: 4,
      error: { code: 'MODEL_EXISTS', message: expect.stringMatching(/^Model "m1" already exists in domain "churn" of s3:\/\/.* with different contents \(archive sha256 [0-9a-f]{64}, this one [0-9a-f]{64}\)/) },
    });
  }, 60_000);

  it('shows a progress bar on a terminal', async () => {
    writeFileSync(path.join(work, 'big.bin'), randomBytes(12 * 1024 * 1024));
    expect((await cli('upload', 'big', 'big.bin', '--id', 'b1')).code).toBe(0);
    const { stdout: screen } = await run('script', ['-qfec', `${process.execPath} ${bin} --store ./models cp big b1 --to ./target`, '/dev/null'], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '', HOME: work, TERM: 'xterm' },
      timeout: 120_000,
    });
    expect(screen).toMatch(/copy .*100% \| [\d.]+ \w+\/12\.0 MiB/);
    expect(screen).toContain('b1');
  }, 120_000);
});

describe('15. help', () => {
  it('describes every command, shows --store and --json in subcommand help, and no "(default: [])"', async () => {
    const help = (await modelstore(['--help'], { cwd: work })).stdout;
    const commands = help.slice(help.indexOf('Commands:'), help.indexOf('Examples:')).split('\n').slice(1);
    for (const name of ['upload', 'download', 'ls', 'info', 'state', 'rm', 'cp', 'gc', 'doctor']) {
      expect(commands.find((line) => line.trim().startsWith(`${name} `))).toMatch(new RegExp(`^  ${name}\\b.*\\s{2,}\\w`));
    }
    for (const args of [['upload'], ['download'], ['ls'], ['info'], ['state', 'create'], ['state', 'rm'], ['state', 'ls'], ['state', 'set'], ['state', 'unset'], ['rm'], ['cp'], ['gc'], ['doctor']]) {
      const text = (await modelstore([...args, '--help'], { cwd: work })).stdout;
      expect({ args, store: text.includes('--store <uri>'), json: text.includes('--json'), noise: text.includes('(default: [])') }).toEqual({ args, store: true, json: true, noise: false });
      expect(text.split('\n')[2]).toMatch(/\w{3,}/);
    }
    const state = (await modelstore(['state', '--help'], { cwd: work })).stdout;
    for (const name of ['create', 'rm', 'ls', 'set', 'unset']) expect(state).toMatch(new RegExp(`\\n  ${name}\\b.*\\s{2,}\\w`));
  }, 60_000);
});
