// Every public method's failure paths end in a typed error: wrong argument types, a
// registry root that is a file, a cache folder that is a file, a destination under a
// file, sources that are missing. None may reject with a raw Node errno error or a
// TypeError (ModelStoreError.isInstance holds for each), and none may succeed.
import { ModelStore, ModelStoreError } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

let work: string;
let good: ModelStore;
let model: string;
const cases: [string, () => unknown][] = [];
const bad = <T>(value: unknown) => value as T;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-public-errors-'));
  model = path.join(work, 'model.bin');
  writeFileSync(model, 'weights');
  good = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
  await good.upload('d', { model, modelId: 'm1' });
  await good.createModelState('production');
  const file = path.join(work, 'a-file');
  writeFileSync(file, 'x');
  const rootIsFile = new ModelStore({ storage: new FileSystemStorage({ root: file }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache-2') });
  const cacheIsFile = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), adapters: [new RawAdapter()], cacheDir: file });
  const signal = new AbortController().signal;
  cases.push(
    ['new ModelStore()', () => new ModelStore(bad(undefined))],
    ['new ModelStore({ storage: {} })', () => new ModelStore({ storage: bad({}) })],
    ["new ModelStore({ adapters: 'raw' })", () => new ModelStore({ storage: good.storage, adapters: bad('raw') })],
    ['new ModelStore({ compressionLevel: 42 })', () => new ModelStore({ storage: good.storage, compressionLevel: 42 })],
    ['new FileSystemStorage({})', () => new FileSystemStorage(bad({}))],
    ['upload without options', () => good.upload('d', bad(undefined))],
    ['upload with null options', () => good.upload('d', bad(null))],
    ['upload of a missing file, adapter named', () => good.upload('d', { model: path.join(work, 'missing.bin'), adapter: 'model_file' })],
    ['upload with a missing extra file', () => good.upload('d', { model, extraFiles: [path.join(work, 'missing.txt')] })],
    ['upload with extraFiles a string', () => good.upload('d', { model, extraFiles: bad('notes.txt') })],
    ['upload with onProgress a number', () => good.upload('d', { model, onProgress: bad(5) })],
    ['upload with a signal that is not one', () => good.upload('d', { model, signal: bad({}) })],
    ['upload with extraMetadata an array', () => good.upload('d', { model, extraMetadata: bad([1]) })],
    ['upload to a root that is a file', () => rootIsFile.upload('d', { model })],
    ['listDomains on a root that is a file', () => rootIsFile.listDomains()],
    ['listModelStates on a root that is a file', () => rootIsFile.listModelStates()],
    ['getModelStates on a root that is a file', () => rootIsFile.getModelStates('d', 'm1')],
    ['collectGarbage on a root that is a file', () => rootIsFile.collectGarbage()],
    ['createModelState on a root that is a file', () => rootIsFile.createModelState('production')],
    ['listModels with null options', () => good.listModels('d', bad(null))],
    ['getLatestModel with null options', () => good.getLatestModel('d', bad(null))],
    ['getModelInfo without a domain', () => good.getModelInfo(bad(undefined), 'm1')],
    ['modelExists with a number id', () => good.modelExists('d', bad(5))],
    ['download without options', () => good.download('d', bad(undefined))],
    ['download to a number', () => good.download('d', { to: bad(5) })],
    ['download to a file', () => good.download('d', { to: model })],
    ['download under a file', () => good.download('d', { to: path.join(model, 'inside') })],
    ['download with overwrite a string', () => good.download('d', { to: path.join(work, 'out'), overwrite: bad('yes') })],
    ['load with null options', () => good.load('d', bad(null))],
    ['load with a cache folder that is a file', () => cacheIsFile.load('d')],
    ['load of an aborted signal', () => good.load('d', { signal: AbortSignal.abort() })],
    ['copyModel without a target', () => good.copyModel('d', 'm1', bad(undefined))],
    ['copyModel to a plain object', () => good.copyModel('d', 'm1', bad({ storage: {} }))],
    ["copyModel with states 'production'", () => good.copyModel('d', 'm1', good, { states: bad('production') })],
    ['collectGarbage with null options', () => good.collectGarbage(bad(null))],
    ["collectGarbage with now 'x'", () => good.collectGarbage({ now: bad('x'), quiesced: true, olderThan: 0 })],
    ["collectGarbage with olderThan '1h'", () => good.collectGarbage({ olderThan: bad('1h') })],
    ['deleteModel of a number', () => good.deleteModel('d', bad(5))],
    ['createModelState of an object', () => good.createModelState(bad({}))],
    ['deleteModelState of a missing state', () => good.deleteModelState('missing')],
    ['setModelState to a number', () => good.setModelState('d', 'm1', bad(5))],
    ['removeModelState of null', () => good.removeModelState('d', 'm1', bad(null))],
    ['getModelStates without a domain', () => good.getModelStates(bad(null), 'm1')],
    ['upload aborted', () => good.upload('d', { model, signal }).then(() => good.upload('d', { model, signal: AbortSignal.abort() }))],
  );
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('failure paths of every public method', () => {
  it("end in typed errors (or the signal's AbortError), never a raw errno error or TypeError", async () => {
    const untyped: string[] = [];
    for (const [name, call] of cases) {
      const outcome = await (async () => call())().then(
        () => 'succeeded',
        (error: unknown) => error,
      );
      const aborted = (outcome as Error)?.name === 'AbortError' && name.includes('abort');
      if (outcome === 'succeeded') untyped.push(`${name}: succeeded`);
      else if (!ModelStoreError.isInstance(outcome) && !aborted) untyped.push(`${name}: ${(outcome as Error)?.constructor?.name} ${(outcome as Error)?.message}`);
    }
    expect(untyped).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(44);
  });
});
