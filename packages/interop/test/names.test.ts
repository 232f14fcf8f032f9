// Names: Python modelstore accepts any domain but its reserved ones, states of at least 3
// characters (spaces too), and model ids with any whitespace but the ASCII space. This
// library accepts every such name that is a safe storage key on all four backends, so it
// reads and acts on every Python registry, and Python on its registries. Control
// characters are refused (Azurite fails a listing holding U+0001; GCS refuses CR/LF);
// see packages/core/src/names.ts.
import { describe, expect, it } from '@jest/globals';
import { InvalidNameError, ModelDeletedError } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { backends, nodeStore, ok, py, workDir, writeFiles } from './helpers.js';

const domains = ['sp ace', ' padded ', 'dot.', 'ünï 模型', 'a..b'];
const ids = ['nbsp\u00a0id', 'em\u2003id', 'nel\u0085id', 'a..b', 'v1.', 'm😀', 'ls\u2028id', 'x'.repeat(150)];
const states = ['in review', 'ünï', '...'];
const pairs = ids.map((id, index) => ({ domain: domains[index % domains.length]!, id }));

describe.each(backends().map((backend) => [backend.name, backend] as const))('names Python writes: %s', (_name, backend) => {
  it('Python writes them; Node reads, downloads, sets states and deletes; Python sees it', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'm.bin': 'named model' });
    const results = await py(registry.python, [
      ...states.map((state) => ({ op: 'create_model_state', state })),
      ...pairs.flatMap(({ domain, id }) => [
        { op: 'upload', domain, model_id: id, model: path.join(files, 'm.bin') },
        { op: 'set_model_state', domain, model_id: id, state: states[0] },
      ]),
    ]);
    results.forEach((result) => ok(result));
    const store = nodeStore(registry.node);
    expect((await store.listDomains()).sort()).toEqual([...domains].sort());
    expect((await store.listModelStates()).sort()).toEqual([...states].sort());
    for (const [index, { domain, id }] of pairs.entries()) {
      expect((await store.getModelInfo(domain, id)).model).toMatchObject({ domain, model_id: id });
      expect(await store.listModels(domain)).toContain(id);
      expect(await store.listModels(domain, { state: states[0]! })).toContain(id);
      const to = path.join(workDir('download'), `m${index}`);
      await store.download(domain, { modelId: id, to });
      expect(readFileSync(path.join(to, 'm.bin'), 'utf8')).toBe('named model');
      await store.setModelState(domain, id, states[1 + (index % 2)]!);
      expect((await store.getModelStates(domain, id)).sort()).toEqual([states[0], states[1 + (index % 2)]].sort());
      if (index % 2 === 1) await store.deleteModel(domain, id);
    }
    const checks = await py(
      registry.python,
      pairs.flatMap(({ domain, id }) => [
        { op: 'get_model_states', domain, model_id: id },
        { op: 'get_model_info', domain, model_id: id },
      ]),
    );
    for (const [index, { id }] of pairs.entries()) {
      if (index % 2 === 1) {
        // Node removes the pointer of a domain whose last model it deleted; Python then asks for the domain first.
        const alone = pairs.filter((pair) => pair.domain === pairs[index]!.domain).length === 1;
        expect([id, checks[2 * index + 1]]).toMatchObject([id, { error: { type: alone ? 'DomainNotFoundException' : 'ModelDeletedException' } }]);
      } else {
        expect([id, (ok(checks[2 * index]) as string[]).sort()]).toEqual([id, [states[0], states[1]].sort()]);
        expect(ok(checks[2 * index + 1]).model.model_id).toBe(id);
      }
    }
  });

  it('Node writes them; Python reads, downloads, sets states and deletes; Node sees it', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'm.bin': 'node model' });
    for (const state of states) await store.createModelState(state);
    for (const { domain, id } of pairs) {
      await store.upload(domain, { model: path.join(files, 'm.bin'), modelId: id });
      await store.setModelState(domain, id, states[0]!);
    }
    const work = workDir('py-names');
    const results = await py(registry.python, [
      { op: 'list_domains' },
      { op: 'list_model_states' },
      ...pairs.flatMap(({ domain, id }, index) => [
        { op: 'get_model_info', domain, model_id: id },
        { op: 'list_models', domain, state: states[0] },
        { op: 'download', domain, model_id: id, to: path.join(work, `m${index}`) },
        { op: 'set_model_state', domain, model_id: id, state: states[2] },
        ...(index % 2 === 1 ? [{ op: 'delete_model', domain, model_id: id }] : []),
      ]),
    ]);
    results.forEach((result) => ok(result));
    expect((ok(results[0]) as string[]).sort()).toEqual([...domains].sort());
    expect((ok(results[1]) as string[]).sort()).toEqual([...states].sort());
    for (const [index, { domain, id }] of pairs.entries()) {
      expect(readFileSync(path.join(work, `m${index}`, 'm.bin'), 'utf8')).toBe('node model');
      if (index % 2 === 1) {
        await expect(store.getModelInfo(domain, id)).rejects.toBeInstanceOf(ModelDeletedError);
        expect(await store.listModels(domain)).not.toContain(id);
      } else {
        expect((await store.getModelStates(domain, id)).sort()).toEqual([states[0], states[2]].sort());
        expect(await store.listModels(domain, { state: states[2]! })).toContain(id);
      }
    }
  });

  it('URL-special characters in domains and states (? # % + & = ; @ and a literal %2F), which neither library refuses: written by Node, read by Python, and the reverse', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'm.bin': 'url model' });
    const urlDomains = ['q?x#y', 'pct%2Fenc', 'a+b&c=d;e@f'];
    const urlState = 'state?#%2F';
    await store.createModelState(urlState);
    for (const domain of urlDomains) {
      await store.upload(domain, { model: path.join(files, 'm.bin'), modelId: 'from-node' });
      await store.setModelState(domain, 'from-node', urlState);
    }
    const work = workDir('py-url');
    const results = await py(registry.python, [
      { op: 'list_domains' },
      ...urlDomains.flatMap((domain, index) => [
        { op: 'list_models', domain, state: urlState },
        { op: 'download', domain, model_id: 'from-node', to: path.join(work, `n${index}`) },
        { op: 'upload', domain, model_id: 'from-python', model: path.join(files, 'm.bin') },
        { op: 'set_model_state', domain, model_id: 'from-python', state: urlState },
      ]),
    ]);
    results.forEach((result) => ok(result));
    expect((ok(results[0]) as string[]).sort()).toEqual([...urlDomains].sort());
    for (const [index, domain] of urlDomains.entries()) {
      expect(ok(results[1 + 4 * index])).toEqual(['from-node']);
      expect(readFileSync(path.join(work, `n${index}`, 'm.bin'), 'utf8')).toBe('url model');
      expect((await store.listModels(domain, { state: urlState })).sort()).toEqual(['from-node', 'from-python']);
      const to = path.join(workDir('download'), `p${index}`);
      await store.download(domain, { modelId: 'from-python', to });
      expect(readFileSync(path.join(to, 'm.bin'), 'utf8')).toBe('url model');
    }
    expect((await store.listDomains()).sort()).toEqual([...urlDomains].sort());
  });

  it('why control characters are refused: Python writes ids holding TAB, LF, CR, U+0001 and DEL, but a listing holding U+0001 fails on Azurite', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'm.bin': 'm' });
    const controls = { tab: 'a\tb', lf: 'a\nb', cr: 'a\rb', soh: 'a\u0001b', del: 'a\u007fb' };
    const results = await py({ ...registry.python, ...(backend.name === 'azurite' ? { retry_total: '0' } : {}) }, [
      ...Object.entries(controls).flatMap(([name, id]) => [
        { op: 'upload', domain: `ctl-${name}`, model_id: id, model: path.join(files, 'm.bin') },
        { op: 'list_models', domain: `ctl-${name}` },
      ]),
    ]);
    Object.entries(controls).forEach(([name, id], index) => {
      ok(results[2 * index]);
      if (name === 'soh' && backend.name === 'azurite') expect(results[2 * index + 1]).toMatchObject({ error: { type: 'HttpResponseError' } });
      else expect([name, ok(results[2 * index + 1])]).toEqual([name, [id]]);
    });
  });

  it('names Python writes but this library refuses (control characters, the model_states domain): a clear InvalidNameError, and the rest of the registry still reads', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'm.bin': 'm' });
    const results = await py(registry.python, [
      { op: 'upload', domain: 'mixed', model_id: 'plain', model: path.join(files, 'm.bin') },
      { op: 'upload', domain: 'mixed', model_id: 'tab\tid', model: path.join(files, 'm.bin') },
      { op: 'upload', domain: 'model_states', model_id: 'in-the-states-folder', model: path.join(files, 'm.bin') },
      { op: 'create_model_state', state: 'production' },
      { op: 'list_model_states' },
      { op: 'list_models', domain: 'mixed' },
    ]);
    results.forEach((result) => ok(result));
    // Python keeps working with a domain named model_states: its state listing skips the folders.
    expect(ok(results[4])).toEqual(['production']);
    expect(ok(results[5])).toHaveLength(2);
    const store = nodeStore(registry.node);
    const refused = await store.getModelInfo('mixed', 'tab\tid').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(InvalidNameError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/control characters .*U\+0009/);
    await expect(store.getDomain('model_states')).rejects.toMatchObject({ code: 'INVALID_NAME' });
    expect(await store.listModelStates()).toEqual(['production']);
    expect((await store.getModelInfo('mixed', 'plain')).model.model_id).toBe('plain');
    expect(await registry.node.head(layout.version('mixed', 'plain'))).toBeDefined();
    // The domain holding a name this library cannot address still lists what it can, and takes uploads.
    expect(await store.listModels('mixed')).toContain('plain');
    await store.upload('mixed', { model: path.join(files, 'm.bin'), modelId: 'from-node' });
    expect((await store.getDomain('mixed')).model.model_id).toBe('from-node');
    expect(await store.listModels('mixed')).toEqual(expect.arrayContaining(['plain', 'from-node']));
  });
});
