// What a storage probe that died leaves behind (checkStorage's folder and the write-time
// guard's key under operatorai-model-store/) is invisible to the real Python modelstore:
// on every backend it lists domains, models and states, reads the domain and uploads
// exactly as on a registry without them; and checkStorage passes on each backend.
import { describe, expect, it } from '@jest/globals';
import { checkStorage } from '@modelstore/core';
import { probeKeyPrefix } from '@modelstore/core/internal';
import { backends, nodeStore, pyOk, writeFiles } from './helpers.js';

describe.each(backends().map((backend) => [backend.name, backend] as const))('probe keys and Python modelstore: %s', (_name, backend) => {
  it('Python lists, reads and uploads past probe keys a dead probe left; checkStorage passes and removes nothing of the registry', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'model.bin': 'weights' });
    await store.upload('churn', { model: `${files}/model.bin`, modelId: 'node-1' });
    await store.createModelState('production');
    await store.setModelState('churn', 'node-1', 'production');
    const leftovers = [`${probeKeyPrefix}-0123456789abcdef`, `${probeKeyPrefix}/fedcba9876543210/object`, `${probeKeyPrefix}/fedcba9876543210/list/x/1`, `${probeKeyPrefix}/fedcba9876543210/list/x-1`];
    for (const key of leftovers) await registry.node.put(key, 'left by a probe that died');

    const [domains, models, states, inState, domain, uploaded, after] = await pyOk(registry.python, [
      { op: 'list_domains' },
      { op: 'list_models', domain: 'churn' },
      { op: 'list_model_states' },
      { op: 'list_models', domain: 'churn', state: 'production' },
      { op: 'get_domain', domain: 'churn' },
      { op: 'upload', domain: 'churn', model: `${files}/model.bin`, model_id: 'python-1' },
      { op: 'list_models', domain: 'churn' },
    ]);
    expect(domains).toEqual(['churn']);
    expect(models).toEqual(['node-1']);
    expect(states).toEqual(['production']);
    expect(inState).toEqual(['node-1']);
    expect(domain.model.model_id).toBe('node-1');
    expect(uploaded.model.model_id).toBe('python-1');
    expect([...after].sort()).toEqual(['node-1', 'python-1']);
    expect((await store.listModels('churn')).sort()).toEqual(['node-1', 'python-1']);

    const report = await checkStorage(registry.node);
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(report.staleRemoved).toEqual([]);
    for (const key of leftovers) expect(await registry.node.head(key)).toBeDefined();
    expect(await store.getModelStates('churn', 'node-1')).toEqual(['production']);
  }, 120_000);
});
