// Python modelstore 0.0.81 (the release before 0.0.82) on the same registries. The storage
// format did not change between them (same layout, same metadata fields; only the
// `modelstore` version string differs), so one round trip each way on every backend; and
// the behaviour that did change: 0.0.81's S3 storage reads one page of ListObjectsV2 (at
// most 1000 keys), so it lists at most 1000 models of a domain; 0.0.82 pages through all.
import { describe, expect, it } from '@jest/globals';
import { ModelDeletedError } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import path from 'node:path';
import { backends, interopEnv, nodeStore, ok, py, pyOk, seeded, sha256, treeDigest, workDir, writeFiles } from './helpers.js';

const withoutArchive = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).filter(([name]) => name !== 'artifacts.tar.gz'));

describe.each(backends().map((backend) => [backend.name, backend] as const))('Python modelstore 0.0.81: %s', (_name, backend) => {
  it('writes what Node reads, and reads, downloads and deletes what Node wrote', async () => {
    const python = interopEnv().python081;
    const registry = backend.create();
    const inputs = writeFiles({ 'old.bin': seeded('old', 30_000), 'new.bin': seeded('new', 40_000), 'notes.txt': 'from 0.0.81\n' });
    const [version, first, , second] = await pyOk(
      registry.python,
      [
        { op: 'version' },
        { op: 'upload', domain: 'legacy', model: path.join(inputs, 'old.bin'), extra_files: [path.join(inputs, 'notes.txt')], extra_metadata: { from: '0.0.81' } },
        { op: 'sleep', seconds: 1.1 },
        { op: 'upload', domain: 'legacy', model: path.join(inputs, 'new.bin') },
        { op: 'create_model_state', state: 'production' },
        { op: 'set_model_state', domain: 'legacy', model_id: '$1', state: 'production' },
        { op: 'delete_model', domain: 'legacy', model_id: '$3' },
      ],
      { python },
    );
    expect(version).toBe('0.0.81');
    expect(first.modelstore).toBe('0.0.81');
    const store = nodeStore(registry.node);
    expect(await store.listModels('legacy')).toEqual([first.model.model_id]);
    expect(await store.listModels('legacy', { state: 'production' })).toEqual([first.model.model_id]);
    await expect(store.getModelInfo('legacy', second.model.model_id)).rejects.toBeInstanceOf(ModelDeletedError);
    expect((await store.getModelInfo('legacy', first.model.model_id)).extra).toEqual({ from: '0.0.81' });
    const mine = treeDigest(await store.download('legacy', { modelId: first.model.model_id, to: path.join(workDir('legacy'), 'out') }));
    expect(mine['old.bin']).toBe(sha256(seeded('old', 30_000)));
    expect(mine['extras/notes.txt']).toBe(sha256('from 0.0.81\n'));

    // Node writes; 0.0.81 reads, downloads, sets a state and deletes.
    const uploaded = await store.upload('modern', { model: path.join(inputs, 'new.bin'), modelId: 'modern-v1' });
    await store.createModelState('staging');
    await store.setModelState('modern', 'modern-v1', 'staging');
    const nodeFiles = treeDigest(await store.download('modern', { modelId: 'modern-v1', to: path.join(workDir('legacy-node'), 'out') }));
    const to = path.join(workDir('legacy-py'), 'modern');
    const results = await py(
      registry.python,
      [
        { op: 'list_models', domain: 'modern' },
        { op: 'list_models', domain: 'modern', state: 'staging' },
        { op: 'get_model_info', domain: 'modern', model_id: 'modern-v1' },
        { op: 'download', domain: 'modern', model_id: 'modern-v1', to },
        { op: 'delete_model', domain: 'modern', model_id: 'modern-v1' },
      ],
      { python },
    );
    expect(ok(results[0])).toEqual(['modern-v1']);
    expect(ok(results[1])).toEqual(['modern-v1']);
    expect(ok(results[2]).modelstore).toBe(uploaded.modelstore);
    expect(withoutArchive(ok(results[3]).files)).toEqual(nodeFiles);
    ok(results[4]);
    expect(await store.modelExists('modern', 'modern-v1')).toBe(false);
  });
});

describe('a domain of more than 1000 models in S3 (MinIO), listed by Python through boto3', () => {
  it('0.0.82 lists all of them; 0.0.81 lists only the first 1000 keys of versions/', async () => {
    const env = interopEnv();
    const minio = backends().find((backend) => backend.name === 'minio')!;
    const registry = minio.create();
    const store = nodeStore(registry.node);
    const model = writeFiles({ 'm.bin': 'tiny' });
    const base = await store.upload('crowded', { model: path.join(model, 'm.bin'), modelId: 'model-0000' });
    // 1004 more models sharing the first one's archive: their metadata is all Python reads to list them.
    const ids = Array.from({ length: 1004 }, (_, i) => `model-${String(i + 1).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => registry.node.put(layout.version('crowded', id), JSON.stringify({ ...base, model: { ...base.model, model_id: id } }))));
    }
    const awsS3 = { ...registry.python, type: 'aws-s3', endpoint_url: env.minio.endpoint } as typeof registry.python;
    const [current] = await pyOk(awsS3, [{ op: 'list_models', domain: 'crowded' }]);
    const [old] = await pyOk(awsS3, [{ op: 'list_models', domain: 'crowded' }], { python: env.python081 });
    expect(current).toHaveLength(1005);
    expect(old).toHaveLength(1000);
    // Through its MinIO client (which pages), 0.0.81 sees them all.
    const [oldMinio] = await pyOk(registry.python, [{ op: 'list_models', domain: 'crowded' }], { python: env.python081 });
    expect(oldMinio).toHaveLength(1005);
    expect((await store.listModels('crowded')).length).toBe(1005);
  });
});
