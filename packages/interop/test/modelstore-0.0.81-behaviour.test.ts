// The same behaviours with Python modelstore 0.0.81, whose registry-writing code is the
// same as 0.0.82's (python/README.md compares them): Python's JSON (NaN, big integers),
// the pointer its delete leaves on the deleted model, names with spaces, local-time stamps
// under TZ=Asia/Tokyo, and the re-upload of a deleted id.
import { describe, expect, it } from '@jest/globals';
import { layout } from '@modelstore/core/internal';
import path from 'node:path';
import { backends, interopEnv, nodeStore, objectBytes, ok, py, writeFiles } from './helpers.js';

const big = 2n ** 80n;

describe.each(backends().map((backend) => [backend.name, backend] as const))('Python modelstore 0.0.81 behaviours: %s', (_name, backend) => {
  it('Node reads, orders, repairs and keeps what 0.0.81 writes, and 0.0.81 reads it back', async () => {
    const registry = backend.create();
    const python = interopEnv().python081;
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b', 'c.bin': 'c' });
    const store = nodeStore(registry.node);
    const env = { TZ: 'Asia/Tokyo' };
    const first = await py(
      registry.python,
      [
        { op: 'version' },
        { op: 'create_model_state', state: 'in review' },
        { op: 'upload', domain: 'old lib', model_id: 'a\u00a0one', model: path.join(files, 'a.bin'), extra_metadata: { loss: Number.NaN, seen: big } },
        { op: 'set_model_state', domain: 'old lib', model_id: 'a\u00a0one', state: 'in review' },
        { op: 'sleep', seconds: 1.1 },
        { op: 'upload', domain: 'old lib', model_id: 'b', model: path.join(files, 'b.bin') },
        { op: 'delete_model', domain: 'old lib', model_id: 'b' },
        { op: 'get_model_info', domain: 'old lib', model_id: 'a\u00a0one' },
      ],
      { python, env },
    );
    first.forEach((result) => ok(result));
    expect(ok(first[0])).toBe('0.0.81');
    const infoA = ok(first[7]);
    // The pointer still names the deleted model; Node gives, and repairs to, the live one.
    expect((await store.getDomain('old lib')).model.model_id).toBe('a\u00a0one');
    expect(await objectBytes(registry.node, layout.domain('old lib'))).toEqual(await objectBytes(registry.node, layout.version('old lib', 'a\u00a0one')));
    const a = await store.getModelInfo('old lib', 'a\u00a0one');
    expect(a.extra).toEqual({ loss: Number.NaN, seen: big });
    expect(await store.listModels('old lib', { state: 'in review' })).toEqual(['a\u00a0one']);

    // Node uploads after 0.0.81 (whose stamp is 9 hours ahead): Node's model is the newest.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await store.upload('old lib', { model: path.join(files, 'c.bin'), modelId: 'c' });
    expect(await store.listModels('old lib')).toEqual(['c', 'a\u00a0one']);
    expect((await store.getDomain('old lib')).model.model_id).toBe('c');
    await store.deleteModel('old lib', 'c');

    const second = await py(
      registry.python,
      [
        { op: 'get_model_info', domain: 'old lib', model_id: 'a\u00a0one' },
        { op: 'get_domain', domain: 'old lib' },
        { op: 'upload', domain: 'old lib', model_id: 'c', model: path.join(files, 'c.bin') },
        { op: 'list_models', domain: 'old lib' },
      ],
      { python, env },
    );
    second.forEach((result) => ok(result));
    expect(ok(second[0])).toEqual(infoA);
    expect(ok(second[1]).model.model_id).toBe('a\u00a0one');
    // 0.0.81 re-uploads the id Node deleted, and clears the deleted marker.
    expect(await registry.node.head(layout.stateVersion('old lib', 'modelstore-deleted', 'c'))).toBeUndefined();
    expect(await store.listModels('old lib')).toEqual(['c', 'a\u00a0one']);
  });
});
