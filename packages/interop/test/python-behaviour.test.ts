// What Python modelstore (0.0.82) does to a registry that this library does differently,
// one test per difference, on every backend. Each difference is listed in the root
// README ("Python modelstore interoperability") with what each library does.
import { describe, expect, it } from '@jest/globals';
import { IntegrityError, ModelDeletedError, ModelExistsError, parseJson, stringifyJson } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import path from 'node:path';
import { backends, nodeStore, objectBytes, ok, py, writeFiles } from './helpers.js';

const pause = { op: 'sleep', seconds: 1.1 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends().map((backend) => [backend.name, backend] as const))('Python modelstore behaviours: %s', (name, backend) => {
  it('a deleted id re-uploaded by Python: listed again, newest in its state, and Node keeps refusing to re-use it itself', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'm1.bin': 'first m1', 'm2.bin': 'm2', 'again.bin': 'm1 again' });
    await store.createModelState('production');
    await store.upload('reuse', { model: path.join(files, 'm1.bin'), modelId: 'm1' });
    await sleep(1100);
    await store.upload('reuse', { model: path.join(files, 'm2.bin'), modelId: 'm2' });
    await store.setModelState('reuse', 'm1', 'production');
    await store.setModelState('reuse', 'm2', 'production');
    await store.deleteModel('reuse', 'm1');
    // Node's delete wrote model_states/modelstore-deleted.json: Python's re-upload needs it to
    // clear the deleted marker (unset_model_state checks that the state exists).
    expect(await registry.node.head(layout.state('modelstore-deleted'))).toBeDefined();
    await sleep(1100);
    const results = await py(registry.python, [
      { op: 'model_exists', domain: 'reuse', model_id: 'm1' }, // raises ModelDeletedException
      { op: 'upload', domain: 'reuse', model_id: 'm1', model: path.join(files, 'again.bin') },
      { op: 'set_model_state', domain: 'reuse', model_id: 'm1', state: 'production' },
    ]);
    expect(results[0]).toMatchObject({ error: { type: 'ModelDeletedException' } });
    ok(results[1]);
    ok(results[2]);
    // Python removed the deleted marker.
    expect(await registry.node.head(layout.stateVersion('reuse', 'modelstore-deleted', 'm1'))).toBeUndefined();
    expect(await store.listModels('reuse')).toEqual(['m1', 'm2']);
    expect(await store.listModels('reuse', { state: 'production' })).toEqual(['m1', 'm2']);
    expect((await store.getLatestModel('reuse', { state: 'production' })).model.model_id).toBe('m1');
    expect((await store.getDomain('reuse')).model.model_id).toBe('m1');
    expect(await store.modelExists('reuse', 'm1')).toBe(true);
    // This library never re-uses an id itself, even a deleted one.
    await store.deleteModel('reuse', 'm2');
    await expect(store.upload('reuse', { model: path.join(files, 'm2.bin'), modelId: 'm2' })).rejects.toBeInstanceOf(ModelExistsError);
  });

  it('the last model of a domain deleted by Node, then its id re-uploaded by Python: Python sees no domain, so the deleted marker stays; Node reads the new model', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'only.bin': 'only', 'again.bin': 'again' });
    await store.upload('lonely', { model: path.join(files, 'only.bin'), modelId: 'only' });
    await store.deleteModel('lonely', 'only');
    // Node removes the pointer of a domain with no model left; Python keeps it.
    expect(await registry.node.head(layout.domain('lonely'))).toBeUndefined();
    const results = await py(registry.python, [{ op: 'get_model_info', domain: 'lonely', model_id: 'only' }, { op: 'list_domains' }, { op: 'upload', domain: 'lonely', model_id: 'only', model: path.join(files, 'again.bin') }]);
    // Python asks for the domain first: DomainNotFoundException, not ModelDeletedException.
    expect(results[0]).toMatchObject({ error: { type: 'DomainNotFoundException' } });
    expect(ok(results[1])).toEqual([]);
    ok(results[2]);
    // model_exists said False (no domain), so Python did not clear the deleted marker.
    expect(await registry.node.head(layout.stateVersion('lonely', 'modelstore-deleted', 'only'))).toBeDefined();
    const info = await store.getModelInfo('lonely', 'only');
    expect(info.code?.runtime).toMatch(/^python:/);
    expect(await store.listModels('lonely')).toEqual(['only']);
    expect(await store.getModelStates('lonely', 'only')).toEqual([]);
    expect(await store.modelExists('lonely', 'only')).toBe(true);
  });

  it("Python's delete_model_state leaves the models' state copies (it passes a list as the model id): neither library reports the deleted state, and both see the copies again if it is re-created", async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b' });
    const results = await py(registry.python, [
      { op: 'create_model_state', state: 'staging' },
      { op: 'create_model_state', state: 'production' },
      { op: 'upload', domain: 'states', model_id: 'a', model: path.join(files, 'a.bin') },
      { op: 'upload', domain: 'states', model_id: 'b', model: path.join(files, 'b.bin') },
      { op: 'set_model_state', domain: 'states', model_id: 'a', state: 'staging' },
      { op: 'set_model_state', domain: 'states', model_id: 'b', state: 'staging' },
      { op: 'set_model_state', domain: 'states', model_id: 'a', state: 'production' },
      { op: 'delete_model_state', state: 'staging' }, // 7
      { op: 'list_model_states' },
      { op: 'get_model_states', domain: 'states', model_id: 'a' },
      { op: 'list_models', domain: 'states', state: 'staging' }, // 10: ValueError, no such state
    ]);
    results.slice(0, 10).forEach((result) => ok(result));
    expect(ok(results[8])).toEqual(['production']);
    expect(ok(results[9])).toEqual(['production']);
    expect(results[10]).toMatchObject({ error: { type: 'ValueError' } });
    // The copies are still there.
    expect(await registry.node.head(layout.stateVersion('states', 'staging', 'a'))).toBeDefined();
    expect(await registry.node.head(layout.stateVersion('states', 'staging', 'b'))).toBeDefined();

    const store = nodeStore(registry.node);
    expect(await store.listModelStates()).toEqual(['production']);
    expect(await store.getModelStates('states', 'a')).toEqual(['production']);
    expect(await store.getModelStates('states', 'b')).toEqual([]);
    await expect(store.listModels('states', { state: 'staging' })).rejects.toMatchObject({ code: 'STATE_NOT_FOUND' });
    // Re-created, the state holds its old members again, for both libraries.
    await store.createModelState('staging');
    expect((await store.listModels('states', { state: 'staging' })).sort()).toEqual(['a', 'b']);
    const again = await py(registry.python, [{ op: 'list_models', domain: 'states', state: 'staging' }]);
    expect(ok(again[0]).sort()).toEqual(['a', 'b']);
  });

  it('a state whose name ends in ".json": Node lists its models; Python too, except on the file system, where its listing opens the folder as a document', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'a' });
    const results = await py(registry.python, [
      { op: 'create_model_state', state: 'v2.json' },
      { op: 'upload', domain: 'json-state', model_id: 'a', model: path.join(files, 'a.bin') },
      { op: 'set_model_state', domain: 'json-state', model_id: 'a', state: 'v2.json' },
      { op: 'list_models', domain: 'json-state' },
      { op: 'list_models', domain: 'json-state', state: 'v2.json' },
    ]);
    results.slice(0, 3).forEach((result) => ok(result));
    if (name === 'fs') expect(results[3]).toMatchObject({ error: { type: 'IsADirectoryError' } });
    else expect(ok(results[3])).toEqual(['a']);
    expect(ok(results[4])).toEqual(['a']);
    const store = nodeStore(registry.node);
    expect(await store.listModels('json-state')).toEqual(['a']);
    expect(await store.listModels('json-state', { state: 'v2.json' })).toEqual(['a']);
    expect(await store.getModelStates('json-state', 'a')).toEqual(['v2.json']);
  });

  it("documents on several lines: Python's MinIO storage reads only a listed document's first line and skips them; Node reads them everywhere and writes one line", async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b' });
    ok((await py(registry.python, [{ op: 'upload', domain: 'lines', model_id: 'flat', model: path.join(files, 'a.bin') }]))[0]);
    await store.upload('lines', { model: path.join(files, 'b.bin'), modelId: 'node', extraMetadata: { note: 'two\nlines', sep: 'a\u2028b' } });
    // Every document Node writes is one line.
    for (const key of [layout.version('lines', 'node'), layout.domain('lines'), layout.state('modelstore-deleted')].slice(0, 2)) {
      expect((await objectBytes(registry.node, key))!.includes(0x0a)).toBe(false);
    }
    // A pretty-printed document, as a person or another tool may write it.
    const flat = (await objectBytes(registry.node, layout.version('lines', 'flat')))!.toString('utf8');
    const pretty = stringifyJson(parseJson(flat), { indent: 2 }).replace('"flat"', '"pretty"');
    await registry.node.put(layout.version('lines', 'pretty'), pretty);
    const listed = await py(registry.python, [
      { op: 'list_models', domain: 'lines' },
      { op: 'get_model_info', domain: 'lines', model_id: 'pretty' },
    ]);
    if (name === 'minio') expect(ok(listed[0]).sort()).toEqual(['flat', 'node']);
    else expect(ok(listed[0]).sort()).toEqual(['flat', 'node', 'pretty']);
    expect(ok(listed[1]).model.model_id).toBe('pretty');
    expect((await store.listModels('lines')).sort()).toEqual(['flat', 'node', 'pretty']);
    expect((await store.getModelInfo('lines', 'pretty')).model.model_id).toBe('pretty');
  });

  it('a document that is not JSON in versions/: Python skips it (Azure: its listing fails); Node lists it as the oldest and names the damage when it is read', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'a' });
    ok((await py(registry.python, [{ op: 'upload', domain: 'damaged', model_id: 'good', model: path.join(files, 'a.bin') }]))[0]);
    await registry.node.put(layout.version('damaged', 'broken'), '{"model": {"domain": "dama');
    const listed = await py(registry.python, [{ op: 'list_models', domain: 'damaged' }]);
    if (name === 'azurite') expect(listed[0]).toMatchObject({ error: { type: 'JSONDecodeError' } });
    else expect(ok(listed[0])).toEqual(['good']);
    const store = nodeStore(registry.node);
    expect(await store.listModels('damaged')).toEqual(['good', 'broken']);
    const error = await store.getModelInfo('damaged', 'broken').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect((await store.getDomain('damaged')).model.model_id).toBe('good');
  });

  it("state changes across a delete: Python's set_model_state on a model Node deleted fails (raw FilePullFailedException), Node's on a model Python deleted raises ModelDeletedError; Python's state copy of a Node model keeps every byte", async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b', 'c.bin': 'c' });
    await store.createModelState('production');
    await store.upload('cross', { model: path.join(files, 'a.bin'), modelId: 'node-kept' });
    await store.upload('cross', { model: path.join(files, 'b.bin'), modelId: 'node-deleted' });
    await store.deleteModel('cross', 'node-deleted');
    const results = await py(registry.python, [
      { op: 'upload', domain: 'cross', model_id: 'python-deleted', model: path.join(files, 'c.bin') },
      { op: 'delete_model', domain: 'cross', model_id: 'python-deleted' },
      { op: 'set_model_state', domain: 'cross', model_id: 'node-deleted', state: 'production' },
      { op: 'set_model_state', domain: 'cross', model_id: 'node-kept', state: 'production' },
      { op: 'get_model_info', domain: 'cross', model_id: 'node-kept' },
    ]);
    ok(results[0]);
    ok(results[1]);
    expect(results[2]).toMatchObject({ error: { type: 'FilePullFailedException' } });
    ok(results[3]);
    // Python's get_model_info drops the keys its dataclasses do not know; its copy keeps them.
    expect(ok(results[4]).archive).toBeUndefined();
    expect(ok(results[4]).code.created_at).toBeUndefined();
    const version = await objectBytes(registry.node, layout.version('cross', 'node-kept'));
    expect(await objectBytes(registry.node, layout.stateVersion('cross', 'production', 'node-kept'))).toEqual(version);
    expect((await store.getLatestModel('cross', { state: 'production' })).archive).toBeDefined();
    await expect(store.setModelState('cross', 'python-deleted', 'production')).rejects.toBeInstanceOf(ModelDeletedError);
    await expect(store.getModelInfo('cross', 'python-deleted')).rejects.toBeInstanceOf(ModelDeletedError);
    expect(await store.listModels('cross')).toEqual(['node-kept']);
  });

  it("a deleted state's leftover copy of a model Python then deletes: Python lists the deleted model when the state is re-created, Node does not", async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b' });
    const results = await py(registry.python, [
      { op: 'create_model_state', state: 'staging' },
      { op: 'upload', domain: 'ghost', model_id: 'gone', model: path.join(files, 'a.bin') },
      { op: 'upload', domain: 'ghost', model_id: 'kept', model: path.join(files, 'b.bin') },
      { op: 'set_model_state', domain: 'ghost', model_id: 'gone', state: 'staging' },
      { op: 'delete_model_state', state: 'staging' },
      // delete_model unsets only the states that exist: the staging copy stays.
      { op: 'delete_model', domain: 'ghost', model_id: 'gone' },
      { op: 'create_model_state', state: 'staging' },
      { op: 'list_models', domain: 'ghost', state: 'staging' },
      { op: 'get_model_info', domain: 'ghost', model_id: 'gone' },
    ]);
    results.slice(0, 8).forEach((result) => ok(result));
    expect(ok(results[7])).toEqual(['gone']);
    expect(results[8]).toMatchObject({ error: { type: 'ModelDeletedException' } });
    const store = nodeStore(registry.node);
    expect(await store.listModels('ghost', { state: 'staging' })).toEqual([]);
    await expect(store.getLatestModel('ghost', { state: 'staging' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(await store.listModels('ghost')).toEqual(['kept']);
  });

  it('a leftover state copy of an id Python deleted and uploaded again holds the old document: Node never serves it as the model in that state', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'v1.bin': 'version 1', 'v2.bin': 'version 2' });
    const results = await py(registry.python, [
      { op: 'create_model_state', state: 'staging' },
      { op: 'upload', domain: 'stale', model_id: 'x', model: path.join(files, 'v1.bin'), extra_metadata: { version: 1 } },
      { op: 'set_model_state', domain: 'stale', model_id: 'x', state: 'staging' },
      { op: 'delete_model_state', state: 'staging' },
      { op: 'delete_model', domain: 'stale', model_id: 'x' },
      { op: 'upload', domain: 'stale', model_id: 'x', model: path.join(files, 'v2.bin'), extra_metadata: { version: 2 } },
      { op: 'create_model_state', state: 'staging' },
      { op: 'list_models', domain: 'stale', state: 'staging' },
    ]);
    results.forEach((result) => ok(result));
    // Python lists x in staging, from the copy of the deleted first upload.
    expect(ok(results[7])).toEqual(['x']);
    const store = nodeStore(registry.node);
    // Listed (the id is live and its copy is in the state, as for Python), but served as the live document:
    // the copy of the deleted first upload names an archive that is gone.
    expect(await store.listModels('stale', { state: 'staging' })).toEqual(['x']);
    const latest = await store.getLatestModel('stale', { state: 'staging' });
    expect(latest.extra).toEqual({ version: 2 });
    expect(latest.storage).toEqual((await store.getModelInfo('stale', 'x')).storage);
    expect((await store.getModelInfo('stale', 'x')).extra).toEqual({ version: 2 });
  });

  it('Python lets a user set the reserved modelstore-deleted state on a live model: it stays listed and readable for both libraries; Node never reports that state', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'a' });
    const results = await py(registry.python, [
      { op: 'upload', domain: 'marked', model_id: 'live', model: path.join(files, 'a.bin') },
      { op: 'set_model_state', domain: 'marked', model_id: 'live', state: 'modelstore-deleted' },
      { op: 'list_models', domain: 'marked' },
      { op: 'get_model_info', domain: 'marked', model_id: 'live' },
      { op: 'list_model_states' },
      { op: 'remove_model_state', domain: 'marked', model_id: 'live', state: 'modelstore-deleted' }, // a no-op for users
    ]);
    results.forEach((result) => ok(result));
    expect(ok(results[2])).toEqual(['live']);
    expect(ok(results[4])).toEqual([]);
    expect(await registry.node.head(layout.stateVersion('marked', 'modelstore-deleted', 'live'))).toBeDefined();
    const store = nodeStore(registry.node);
    expect(await store.listModels('marked')).toEqual(['live']);
    expect((await store.getModelInfo('marked', 'live')).model.model_id).toBe('live');
    expect(await store.modelExists('marked', 'live')).toBe(true);
    expect(await store.getModelStates('marked', 'live')).toEqual([]);
    expect(await store.listModelStates()).toEqual([]);
    await expect(store.removeModelState('marked', 'live', 'modelstore-deleted')).rejects.toMatchObject({ code: 'INVALID_NAME' });
  });

  it("Python's existence check goes through the domain pointer: without one, Python replaces an existing model; Node's getDomain writes the missing pointer, after which Python refuses", async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b' });
    await store.upload('unpointed', { model: path.join(files, 'a.bin'), modelId: 'taken' });
    await store.upload('pointed', { model: path.join(files, 'a.bin'), modelId: 'taken' });
    // A pointer lost (an upload that died before writing it, or removed by hand).
    await registry.node.delete(layout.domain('unpointed'));
    await registry.node.delete(layout.domain('pointed'));
    expect((await store.getDomain('pointed')).model.model_id).toBe('taken');
    const results = await py(registry.python, [
      { op: 'upload', domain: 'unpointed', model_id: 'taken', model: path.join(files, 'b.bin') },
      { op: 'upload', domain: 'pointed', model_id: 'taken', model: path.join(files, 'b.bin') },
    ]);
    ok(results[0]);
    expect(results[1]).toMatchObject({ error: { type: 'ModelExistsException' } });
    expect((await store.getModelInfo('unpointed', 'taken')).code?.runtime).toMatch(/^python:/);
    expect((await store.getModelInfo('pointed', 'taken')).code?.runtime).toMatch(/^node:/);
  });

  it("list_domains names each pointer's document domain; Node names the pointer's key", async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b' });
    (await py(registry.python, [{ op: 'upload', domain: 'left', model_id: 'l', model: path.join(files, 'a.bin') }, pause, { op: 'upload', domain: 'right', model_id: 'r', model: path.join(files, 'b.bin') }])).forEach((result) => ok(result));
    // A pointer holding another domain's document (copied by hand, or by an old tool).
    await registry.node.put(layout.domain('left'), (await objectBytes(registry.node, layout.domain('right')))!);
    const domains = await py(registry.python, [{ op: 'list_domains' }]);
    expect(ok(domains[0])).toEqual(['right', 'right']);
    const store = nodeStore(registry.node);
    expect((await store.listDomains()).sort()).toEqual(['left', 'right']);
  });
});
