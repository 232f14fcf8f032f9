// Registries Python modelstore has written to: its JSON dialect (NaN, Infinity, integers
// of any size), its latest pointer left naming a deleted model, its local-time stamps and
// its re-use of a deleted id. The documents here are written the way Python modelstore
// writes them (json.dumps text, no `created_at`, a local `code.created`); the interop
// package runs the same cases against the real library.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage, ModelStore, createdTime, type ModelMetadata } from '../src/index.js';
import { layout } from '../src/internal.js';
import { mergedEntries, readIndexState } from '../src/registry/index-log.js';
import { bytesAdapter } from './bytes-adapter.js';

let work: string;
let storage: MemoryStorage;
let store: ModelStore;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-python-documents-'));
  storage = new MemoryStorage();
  store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

async function readText(key: string, from = storage): Promise<string | undefined> {
  const object = await from.get(key);
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const pad = (n: number) => String(n).padStart(2, '0');
/** `YYYY/MM/DD/HH:MM:SS` in a zone `offsetMinutes` east of UTC, as Python writes `code.created` on such a machine. */
function localStamp(date: Date, offsetMinutes: number): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  return `${local.getUTCFullYear()}/${pad(local.getUTCMonth() + 1)}/${pad(local.getUTCDate())}/${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
}

/**
 * Uploads a model as Python modelstore does: the archive, then `versions/<id>.json` and
 * `domains/<domain>.json` (unconditionally) with the same json.dumps text. `extra` is
 * raw JSON text, so it can hold what JavaScript cannot.
 */
async function pythonUpload(domain: string, modelId: string, options: { offsetMinutes?: number; extra?: string; bytes?: Buffer } = {}): Promise<string> {
  // The archive bytes come from this library (same tar.gz layout); only the documents matter here.
  const scratch = new MemoryStorage();
  const scratchStore = new ModelStore({ storage: scratch, adapters: [bytesAdapter], cacheDir: path.join(work, 'scratch-cache') });
  const made = await scratchStore.upload(domain, { model: options.bytes ?? Buffer.from(`python ${modelId}`), modelId });
  const archive = await scratch.get(made.storage.prefix!);
  const now = new Date();
  const folder = localStamp(now, options.offsetMinutes ?? 0)
    .replaceAll('/', '.')
    .replace(/\.(\d\d:)/, '-$1')
    .replaceAll(':', '.');
  const archiveKey = `operatorai-model-store/${domain}/${folder}/${modelId}/artifacts.tar.gz`;
  await storage.put(archiveKey, archive!.body);
  const text =
    `{"model": {"domain": "${domain}", "model_id": "${modelId}", "model_type": {"library": "bytes", "type": null}, "parameters": null, "data": null}, ` +
    `"storage": {"type": "memory", "root": null, "path": null, "bucket": null, "prefix": "${archiveKey}", "container": null}, "modelstore": "0.0.82", ` +
    `"code": {"runtime": "python:3.11.2", "user": "trainer", "created": "${localStamp(now, options.offsetMinutes ?? 0)}", "dependencies": {}, "git": null}` +
    `${options.extra === undefined ? '' : `, "extra": ${options.extra}`}}`;
  await storage.put(layout.version(domain, modelId), text);
  await storage.put(layout.domain(domain), text);
  return text;
}

/** Python modelstore's delete_model: archive removed, states unset, deleted copy, document removed — the pointer is left as it was. */
async function pythonDelete(domain: string, modelId: string): Promise<void> {
  const text = (await readText(layout.version(domain, modelId)))!;
  const metadata = JSON.parse(text.replace(/NaN|-?Infinity/g, 'null')) as ModelMetadata;
  await storage.delete(metadata.storage.prefix!);
  for (const state of await store.listModelStates()) await storage.delete(layout.stateVersion(domain, state, modelId));
  await storage.put(layout.stateVersion(domain, 'modelstore-deleted', modelId), text);
  await storage.delete(layout.version(domain, modelId));
}

describe("Python's JSON dialect", () => {
  const extra = '{"val_loss": NaN, "best": Infinity, "worst": -Infinity, "snapshot_id": 1234567890123456789, "seed": 18446744073709551615, "lr": 1.0, "zero": -0.0}';

  it('reads NaN, Infinity and integers of any size everywhere metadata is read', async () => {
    await pythonUpload('fraud', 'py-1', { extra });
    const expected = { val_loss: Number.NaN, best: Infinity, worst: -Infinity, snapshot_id: 1234567890123456789n, seed: 18446744073709551615n, lr: 1, zero: -0 };
    expect((await store.getModelInfo('fraud', 'py-1')).extra).toEqual(expected);
    expect((await store.getDomain('fraud')).extra).toEqual(expected);
    expect(await store.listDomains()).toEqual(['fraud']);
    expect(await store.listModels('fraud')).toEqual(['py-1']);
    const to = await store.download('fraud', { to: path.join(work, 'download') });
    expect(readFileSync(path.join(to, 'model.bin'), 'utf8')).toBe('python py-1');
    expect((await store.load<Buffer>('fraud')).toString()).toBe('python py-1');
    // Again from load's cache, whose record keeps the document's text.
    expect((await store.load<Buffer>('fraud')).toString()).toBe('python py-1');
  });

  it('copies documents byte for byte: state copies, soft-delete copies, copies to another store', async () => {
    const text = await pythonUpload('fraud', 'py-1', { extra });
    await store.createModelState('production');
    await store.setModelState('fraud', 'py-1', 'production');
    expect(await readText(layout.stateVersion('fraud', 'production', 'py-1'))).toBe(text);

    const targetStorage = new MemoryStorage();
    const target = new ModelStore({ storage: targetStorage, adapters: [bytesAdapter], cacheDir: path.join(work, 'target-cache') });
    await store.copyModel('fraud', 'py-1', target, { states: ['production'] });
    const copied = (await readText(layout.version('fraud', 'py-1'), targetStorage))!;
    const location = JSON.stringify(targetStorage.describe((JSON.parse(text.replace(/NaN|-?Infinity/g, 'null')) as ModelMetadata).storage.prefix!));
    expect(copied).toBe(text.replace(/"storage": \{[^}]*\}/, `"storage": ${location}`));
    expect(await readText(layout.stateVersion('fraud', 'production', 'py-1'), targetStorage)).toBe(copied);
    expect(await readText(layout.domain('fraud'), targetStorage)).toBe(copied);

    await store.deleteModel('fraud', 'py-1');
    expect(await readText(layout.stateVersion('fraud', 'modelstore-deleted', 'py-1'))).toBe(text);
  });

  it('moves and repairs the latest pointer with a byte copy of the model it names', async () => {
    const older = await pythonUpload('fraud', 'py-old', { extra });
    await pythonUpload('fraud', 'py-new', { extra });
    await pythonDelete('fraud', 'py-new');
    await store.getDomain('fraud');
    expect(await readText(layout.domain('fraud'))).toBe(older);
  });

  it.each([
    ['NaN', { metrics: [{ loss: 0.1 }, { loss: Number.NaN }] }, 'extraMetadata.metrics[1].loss'],
    ['Infinity', { best: Infinity }, 'extraMetadata.best'],
    ['a BigInt', { seed: 2n ** 64n - 1n }, 'extraMetadata.seed'],
    [
      'a cycle',
      (() => {
        const node: Record<string, unknown> = { name: 'a' };
        node.self = node;
        return { node };
      })(),
      'extraMetadata.node.self',
    ],
    ['undefined', { maybe: undefined }, 'extraMetadata.maybe'],
    ['a Date', { when: new Date(0) }, 'extraMetadata.when'],
  ])('refuses extraMetadata holding %s before writing anything, naming the key', async (_kind, extraMetadata, key) => {
    const error = await store.upload('fraud', { model: Buffer.from('x'), extraMetadata: extraMetadata as Record<string, unknown> }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INVALID_OPTION' });
    expect((error as Error).message).toContain(key);
    expect((await storage.list('')).objects).toEqual([]);
  });
});

describe('the latest pointer never names a model that is not listed', () => {
  it('Python uploads A then B and deletes B: the latest is A everywhere, and the pointer is repaired', async () => {
    const a = await pythonUpload('churn', 'a');
    await pythonUpload('churn', 'b');
    // A cached load of B, before the delete, must not answer for the latest afterwards.
    expect((await store.load<Buffer>('churn')).toString()).toBe('python b');
    await pythonDelete('churn', 'b');
    expect(await store.listModels('churn')).toEqual(['a']);
    expect((await store.load<Buffer>('churn')).toString()).toBe('python a');
    expect((await store.getDomain('churn')).model.model_id).toBe('a');
    expect((await store.getLatestModel('churn')).model.model_id).toBe('a');
    const to = await store.download('churn', { to: path.join(work, 'latest') });
    expect(readFileSync(path.join(to, 'model.bin'), 'utf8')).toBe('python a');
    expect(await readText(layout.domain('churn'))).toBe(a);
  });

  it('repairs the pointer from listDomains too, and orders domains by their live latest', async () => {
    await pythonUpload('churn', 'a');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await pythonUpload('fraud', 'f');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await pythonUpload('churn', 'b');
    expect(await store.listDomains()).toEqual(['churn', 'fraud']);
    await pythonDelete('churn', 'b');
    // churn's live latest (a) is older than fraud's (f).
    expect(await store.listDomains()).toEqual(['fraud', 'churn']);
    expect(JSON.parse((await readText(layout.domain('churn')))!).model.model_id).toBe('a');
  });

  it("a pointer naming another domain's model, or a re-upload of the id it names, is not trusted", async () => {
    await store.upload('churn', { model: Buffer.from('one'), modelId: 'one' });
    const foreign = await pythonUpload('fraud', 'one');
    await storage.put(layout.domain('churn'), foreign);
    expect((await store.getDomain('churn')).storage.prefix).toContain('/churn/');

    // The pointer names "two" as first uploaded; "two" was then deleted and its id re-used.
    const first = await store.upload('churn', { model: Buffer.from('two'), modelId: 'two' });
    const firstPointer = (await readText(layout.domain('churn')))!;
    await store.deleteModel('churn', 'two');
    // Python's stamps have one-second resolution.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await pythonUpload('churn', 'two', { bytes: Buffer.from('two again') });
    await storage.put(layout.domain('churn'), firstPointer);
    const latest = await store.getDomain('churn');
    expect(latest.model.model_id).toBe('two');
    expect(latest.archive?.upload_id).toBeUndefined();
    expect(latest.storage).not.toEqual(first.storage);
  });

  it('a domain whose every model Python deleted has no latest model', async () => {
    await pythonUpload('churn', 'only');
    await pythonDelete('churn', 'only');
    await expect(store.getDomain('churn')).rejects.toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
    expect(await store.listModels('churn')).toEqual([]);
  });
});

describe("Python's local-time stamps", () => {
  const at = Date.UTC(2026, 10, 30, 12, 0, 0);
  const metadata = (created: string): ModelMetadata => ({ model: { domain: 'd', model_id: 'm', model_type: { library: 'x' } }, storage: { type: 'memory' }, code: { created } });
  it.each([
    ['UTC', 0],
    ['Asia/Tokyo (UTC+9)', 9 * 60],
    ['America/Los_Angeles (UTC-8)', -8 * 60],
    ['Asia/Kathmandu (UTC+5:45)', 5 * 60 + 45],
    ['Pacific/Kiritimati (UTC+14)', 14 * 60],
    ['Etc/GMT+12 (UTC-12)', -12 * 60],
  ])('a stamp written in %s is read as the real time, from the storage time of its document', (_zone, offset) => {
    const stamp = localStamp(new Date(at), offset);
    // The document reached storage a few seconds after the stamp was taken.
    expect(createdTime(metadata(stamp), new Date(at + 4_000))).toBe(at);
  });

  it('a document copied long after it was made keeps the order of its stamp, read as UTC', () => {
    const stamp = localStamp(new Date(at), 9 * 60);
    expect(createdTime(metadata(stamp), new Date(at + 3 * 24 * 3600_000))).toBe(at + 9 * 3600_000);
    expect(createdTime(metadata(stamp))).toBe(at + 9 * 3600_000);
    expect(createdTime({ ...metadata(stamp), code: { created: stamp, created_at: '2026-11-30T11:00:00.123Z' } }, new Date(at))).toBe(Date.UTC(2026, 10, 30, 11, 0, 0, 123));
  });

  it.each([
    ['east of UTC (Tokyo)', 9 * 60],
    ['west of UTC (Los Angeles)', -8 * 60],
  ])('a Python model uploaded %s, then a model from this library: the newer is the latest and listed first, both orders', async (_name, offsetMinutes) => {
    await pythonUpload('mixed', 'python-first', { offsetMinutes });
    await store.upload('mixed', { model: Buffer.from('node'), modelId: 'node-second' });
    expect(await store.listModels('mixed')).toEqual(['node-second', 'python-first']);
    expect((await store.getDomain('mixed')).model.model_id).toBe('node-second');
    await store.createModelState('production');
    await store.setModelState('mixed', 'python-first', 'production');
    await store.setModelState('mixed', 'node-second', 'production');
    expect((await store.getLatestModel('mixed', { state: 'production' })).model.model_id).toBe('node-second');

    await new Promise((resolve) => setTimeout(resolve, 1100));
    await pythonUpload('mixed', 'python-third', { offsetMinutes });
    expect(await store.listModels('mixed')).toEqual(['python-third', 'node-second', 'python-first']);
    expect((await store.getDomain('mixed')).model.model_id).toBe('python-third');
    await store.upload('other', { model: Buffer.from('x') });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await pythonUpload('last', 'p', { offsetMinutes });
    expect(await store.listDomains()).toEqual(['last', 'other', 'mixed']);
  });
});

describe('bookkeeping that outlives a delete', () => {
  it('a re-used id (deleted here, re-uploaded by Python) is ordered by its new document, not the index entry of the old one', async () => {
    await store.upload('churn', { model: Buffer.from('m1'), modelId: 'm1' });
    await store.upload('churn', { model: Buffer.from('m2'), modelId: 'm2' });
    await store.deleteModel('churn', 'm1');
    // The delete wrote a tombstone for m1's version: the index no longer holds it.
    expect([...mergedEntries(await readIndexState(storage, layout.indexRoot('churn'))).keys()]).toEqual(['m2']);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Python clears the deleted marker and uploads the id again.
    await storage.delete(layout.stateVersion('churn', 'modelstore-deleted', 'm1'));
    await pythonUpload('churn', 'm1', { offsetMinutes: -8 * 60 });
    await store.createModelState('production');
    await store.setModelState('churn', 'm1', 'production');
    await store.setModelState('churn', 'm2', 'production');
    expect(await store.listModels('churn')).toEqual(['m1', 'm2']);
    expect((await store.getLatestModel('churn', { state: 'production' })).model.model_id).toBe('m1');
  });

  it('an index entry for a document rewritten behind its back is not used', async () => {
    await store.upload('churn', { model: Buffer.from('m1'), modelId: 'm1' });
    await store.upload('churn', { model: Buffer.from('m2'), modelId: 'm2' });
    // Another writer (Python, which never touches the index) deletes m1 and uploads it again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await pythonDelete('churn', 'm1');
    await storage.delete(layout.stateVersion('churn', 'modelstore-deleted', 'm1'));
    await pythonUpload('churn', 'm1');
    // The index still holds the entry of the first m1 (Python writes no tombstone).
    expect(mergedEntries(await readIndexState(storage, layout.indexRoot('churn'))).has('m1')).toBe(true);
    expect(await store.listModels('churn')).toEqual(['m1', 'm2']);
    // A page trusts the index until a compaction reconciles it with the registry; then it agrees.
    await store.compactIndex('churn');
    expect((await store.listModels('churn', { limit: 10 })).models).toEqual(['m1', 'm2']);
  });

  it('a state copy left behind for a deleted model is not listed', async () => {
    await store.createModelState('production');
    await store.upload('churn', { model: Buffer.from('m1'), modelId: 'm1' });
    await store.setModelState('churn', 'm1', 'production');
    const copy = (await readText(layout.stateVersion('churn', 'production', 'm1')))!;
    await store.deleteModel('churn', 'm1');
    await storage.put(layout.stateVersion('churn', 'production', 'm1'), copy);
    expect(await store.listModels('churn', { state: 'production' })).toEqual([]);
    await expect(store.getLatestModel('churn', { state: 'production' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});
