// A model Node cannot load: a scikit-learn classifier Python modelstore stores as a joblib
// pickle. Node lists it, downloads the same files Python does, byte for byte, and `load`
// says an adapter for "sklearn" is missing (AdapterNotFoundError), as docs/from-python.md says.
import { describe, expect, it } from '@jest/globals';
import { AdapterNotFoundError } from '@modelstore/core';
import path from 'node:path';
import { backends, nodeStore, pyOk, treeDigest, workDir } from './helpers.js';

const fs = backends().find((backend) => backend.name === 'fs')!;

describe('a scikit-learn pickle uploaded by Python', () => {
  it('downloads in Node byte-identical to Python download; load raises AdapterNotFoundError naming sklearn', async () => {
    const registry = fs.create();
    const pythonDownload = path.join(workDir('pickle-py'), 'out');
    const [uploaded, downloaded] = await pyOk(registry.python, [
      { op: 'upload', domain: 'fraud', model_id: 'logreg-pickle', model: { sklearn_pickle: true } },
      { op: 'download', domain: 'fraud', model_id: 'logreg-pickle', to: pythonDownload },
    ]);
    expect(uploaded.model.model_type.library).toBe('sklearn');
    expect(Object.keys(downloaded.files)).toContain('model.joblib');

    const store = nodeStore(registry.node);
    expect(await store.listModels('fraud')).toEqual(['logreg-pickle']);
    const to = path.join(workDir('pickle-node'), 'out');
    await store.download('fraud', { modelId: 'logreg-pickle', to });
    expect(treeDigest(to)).toEqual(downloaded.files);

    const error = await store.load('fraud').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(AdapterNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^No adapter for library "sklearn" is registered/);
  });
});
