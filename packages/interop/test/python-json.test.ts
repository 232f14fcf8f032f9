// Python's JSON in registry documents: Python modelstore writes `extra_metadata` (and every
// document) with Python's json module, which writes NaN, Infinity and -Infinity as bare
// tokens and integers of any size exactly. This library reads them (NaN as the number,
// integers outside the safe range as bigint), copies the documents byte for byte (state
// copy, soft-delete copy, latest pointer; a copy to another store changes only `storage`),
// and Python reads the values back unchanged. Uploads whose extraMetadata strict JSON
// cannot hold are refused before any write.
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionError, parseJson, replaceMember } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { allKeys, backends, nodeStore, objectBytes, ok, py, runCli, workDir, writeFiles } from './helpers.js';

const big = 2n ** 70n;
const negativeBig = -(2n ** 64n) - 1n;
const pythonExtra = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, ninf: Number.NEGATIVE_INFINITY, big, negative_big: negativeBig, nested: { list: [Number.NaN, 12345678901234567890n, 1.5] }, plain: 3 };

describe.each(backends().map((backend) => [backend.name, backend] as const))("Python's NaN, Infinity and big integers: %s", (name, backend) => {
  it('Node reads them, copies the documents byte for byte, and Python reads them back unchanged', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'model a', 'b.bin': 'model b' });
    const uploads = await py(registry.python, [
      { op: 'create_model_state', state: 'production' },
      { op: 'upload', domain: 'nan', model_id: 'model-a', model: path.join(files, 'a.bin'), extra_metadata: pythonExtra }, // 1
      { op: 'sleep', seconds: 1.1 },
      { op: 'upload', domain: 'nan', model_id: 'model-b', model: path.join(files, 'b.bin'), extra_metadata: { big } }, // 3
      { op: 'get_model_info', domain: 'nan', model_id: 'model-a' },
      { op: 'get_model_info', domain: 'nan', model_id: 'model-b' },
    ]);
    for (const result of uploads) ok(result);
    // The driver's answer went through Python's json and parseJson: the values are exact.
    expect(ok(uploads[1]).extra).toEqual(pythonExtra);
    const [infoA, infoB] = [ok(uploads[4]), ok(uploads[5])];

    const store = nodeStore(registry.node);
    const a = await store.getModelInfo('nan', 'model-a');
    expect(a.extra).toEqual(pythonExtra);
    expect(Number.isNaN((a.extra as Record<string, unknown>).nan)).toBe(true);
    expect(typeof (a.extra as Record<string, unknown>).big).toBe('bigint');
    expect((await store.getDomain('nan')).model.model_id).toBe('model-b');
    expect((await store.getDomain('nan')).extra).toEqual({ big });
    expect(await store.listModels('nan')).toEqual(['model-b', 'model-a']);
    expect(await store.listDomains()).toEqual(['nan']);
    const downloaded = await store.download('nan', { to: path.join(workDir('download'), 'latest') });
    expect(readFileSync(path.join(downloaded, 'b.bin'), 'utf8')).toBe('model b');
    const loaded = await store.load<string>('nan', { modelId: 'model-a' });
    expect(loaded).toBeTruthy();
    await store.load('nan');

    // Node's copies are the Python document's bytes.
    const versionA = (await objectBytes(registry.node, layout.version('nan', 'model-a')))!;
    const versionB = (await objectBytes(registry.node, layout.version('nan', 'model-b')))!;
    expect(versionA.toString('utf8')).toContain('NaN');
    await store.setModelState('nan', 'model-a', 'production');
    expect(await objectBytes(registry.node, layout.stateVersion('nan', 'production', 'model-a'))).toEqual(versionA);
    await store.deleteModel('nan', 'model-b');
    expect(await objectBytes(registry.node, layout.stateVersion('nan', 'modelstore-deleted', 'model-b'))).toEqual(versionB);
    // The pointer named model-b: it moves onto model-a, as a copy of model-a's document.
    expect(await objectBytes(registry.node, layout.domain('nan'))).toEqual(versionA);

    // A copy to another store: the same bytes but the `storage` member.
    const target = nodeStore(
      backends()
        .find((other) => other.name === (name === 'fs' ? 'minio' : 'fs'))!
        .create().node,
    );
    await store.copyModel('nan', 'model-a', target);
    const copied = (await objectBytes(target.storage, layout.version('nan', 'model-a')))!.toString('utf8');
    expect(replaceMember(copied, 'storage', 'null')).toBe(replaceMember(versionA.toString('utf8'), 'storage', 'null'));
    expect((parseJson(copied) as { storage: unknown }).storage).not.toEqual((parseJson(versionA.toString('utf8')) as { storage: unknown }).storage);

    // Python reads back what Node left, unchanged.
    const after = await py(registry.python, [
      { op: 'get_model_info', domain: 'nan', model_id: 'model-a' },
      { op: 'get_model_states', domain: 'nan', model_id: 'model-a' },
      { op: 'list_models', domain: 'nan', state: 'production' },
      { op: 'get_domain', domain: 'nan' },
      { op: 'get_model_info', domain: 'nan', model_id: 'model-b' },
      { op: 'download', domain: 'nan', model_id: 'model-a', to: path.join(workDir('py-download'), 'a') },
    ]);
    expect(ok(after[0])).toEqual(infoA);
    expect(ok(after[1])).toEqual(['production']);
    expect(ok(after[2])).toEqual(['model-a']);
    expect(ok(after[3]).model.model_id).toBe('model-a');
    expect(ok(after[3]).extra).toEqual(pythonExtra);
    expect(after[4]).toMatchObject({ error: { type: 'ModelDeletedException' } });
    expect(infoB.extra).toEqual({ big });
    expect(Object.keys(ok(after[5]).files)).toContain('a.bin');
  });

  it('refuses extraMetadata holding NaN, a BigInt or a cycle with InvalidOptionError naming the key, and writes nothing', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'm.bin': 'm' });
    await store.upload('strict', { model: path.join(files, 'm.bin'), modelId: 'first' });
    const before = await allKeys(registry.node);
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    for (const [extraMetadata, key] of [
      [{ score: Number.NaN }, 'score'],
      [{ limits: { upper: Number.POSITIVE_INFINITY } }, 'upper'],
      [{ count: 10n }, 'count'],
      [{ graph: cycle }, 'self'],
    ] as Array<[Record<string, unknown>, string]>) {
      const error = await store.upload('strict', { model: path.join(files, 'm.bin'), modelId: 'second', extraMetadata }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(InvalidOptionError.isInstance(error)).toBe(true);
      expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
      expect((error as Error).message).toContain(key);
      expect(await allKeys(registry.node)).toEqual(before);
    }
  });

  if (name === 'fs') {
    it('modelstore ls (no domain) exits 0 on a registry holding such a model', async () => {
      const registry = backend.create();
      const files = writeFiles({ 'a.bin': 'a' });
      ok((await py(registry.python, [{ op: 'upload', domain: 'nan', model_id: 'model-a', model: path.join(files, 'a.bin'), extra_metadata: pythonExtra }]))[0]);
      const root = registry.python.root!;
      const listed = await runCli(['ls', '--store', `file://${root}`]);
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(listed.stdout).toContain('nan');
      const models = await runCli(['ls', 'nan', '--store', `file://${root}`, '--json']);
      expect(models.code).toBe(0);
      expect(models.stdout).toContain('model-a');
    });
  }
});
