// The append-only index (`<domain>/modelstore-index/`, this library's addition) beside
// the real Python modelstore: Python lists, reads and writes a registry that has it (and
// never sees it), this library's pages take in what Python wrote once the index is
// compacted, and a registry Python grew (with no index at all) reads and pages the same.
import { describe, expect, it } from '@jest/globals';
import { layout } from '@modelstore/core/internal';
import type { ModelStore } from '@modelstore/core';
import path from 'node:path';
import { allKeys, backends, nodeStore, ok, py, seeded, workDir, writeFiles } from './helpers.js';

/** Every id of the domain, page by page. */
async function pages(store: ModelStore, domain: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listModels(domain, { limit, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.models);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return ids;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 1100)); // Python orders by code.created, to the second

describe.each(
  backends()
    .filter((backend) => backend.name === 'fs' || backend.name === 'minio')
    .map((backend) => [backend.name, backend] as const),
)('the append-only index with Python modelstore: %s', (_name, backend) => {
  it('Python lists, reads and writes a registry with the index; pages take in its model after a compaction', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const inputs = writeFiles({ 'model.bin': seeded('indexed', 20_000), 'python.bin': seeded('python', 10_000) });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.unshift((await store.upload('indexed', { model: path.join(inputs, 'model.bin'), modelId: `node-${i}` })).model.model_id);
      await pause();
    }
    await store.compactIndex('indexed');
    // One more since the compaction (in the log), and one deleted (a tombstone).
    ids.unshift((await store.upload('indexed', { model: path.join(inputs, 'model.bin'), modelId: 'node-4' })).model.model_id);
    await store.deleteModel('indexed', 'node-1');
    ids.splice(ids.indexOf('node-1'), 1);
    await pause();
    expect(await pages(store, 'indexed', 2)).toEqual(ids);
    expect((await allKeys(registry.node)).some((key) => key.includes('/modelstore-index/checkpoint/'))).toBe(true);

    const work = workDir('index-python');
    const [domains, listed, latest, download, upload] = await py(registry.python, [
      { op: 'list_domains' },
      { op: 'list_models', domain: 'indexed' },
      { op: 'get_domain', domain: 'indexed' },
      { op: 'download', domain: 'indexed', model_id: 'node-2', to: path.join(work, 'node-2') },
      { op: 'upload', domain: 'indexed', model_id: 'python-5', model: path.join(inputs, 'python.bin') },
    ]);
    expect(ok(domains)).toEqual(['indexed']);
    expect(ok(listed)).toEqual(ids);
    expect(ok(latest)).toMatchObject({ model: { model_id: 'node-4' } });
    ok(download);
    ok(upload);

    // The registry's own listing shows Python's model at once; pages once the index is reconciled.
    const truth = await store.listModels('indexed');
    expect(truth).toEqual(['python-5', ...ids]);
    expect(await pages(store, 'indexed', 2)).toEqual(ids);
    await store.compactIndex('indexed');
    expect(await pages(store, 'indexed', 2)).toEqual(truth);
    expect((await store.listModelSummaries('indexed', { limit: 10 })).models.map((summary) => summary.modelId)).toEqual(truth);
    expect(await store.listDomains()).toEqual(['indexed']);
    expect(ok((await py(registry.python, [{ op: 'list_models', domain: 'indexed' }]))[0])).toEqual(truth);
  }, 300_000);

  it('reads and pages a registry Python grew, which has no index, and Python ignores the index this library then adds', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const inputs = writeFiles({ 'a.bin': seeded('grown-a', 5_000), 'b.bin': seeded('grown-b', 6_000) });
    const sleep = { op: 'sleep', seconds: 1.1 };
    const uploads = await py(registry.python, [
      { op: 'upload', domain: 'grown', model_id: 'p-0', model: path.join(inputs, 'a.bin') },
      sleep,
      { op: 'upload', domain: 'grown', model_id: 'p-1', model: path.join(inputs, 'b.bin') },
      sleep,
      { op: 'upload', domain: 'grown', model_id: 'p-2', model: path.join(inputs, 'a.bin') },
      { op: 'delete_model', domain: 'grown', model_id: 'p-1' },
    ]);
    for (const index of [0, 2, 4, 5]) ok(uploads[index]);
    expect((await allKeys(registry.node)).some((key) => key.includes('modelstore-index'))).toBe(false);
    expect(await store.listModels('grown')).toEqual(['p-2', 'p-0']);
    // No checkpoint yet: a page is a slice of the whole listing.
    expect(await pages(store, 'grown', 1)).toEqual(['p-2', 'p-0']);
    expect(await store.listDomains()).toEqual(['grown']);
    const report = await store.compactIndex('grown');
    expect(report).toMatchObject({ published: true, entries: 2, reconciled: true });
    expect(await pages(store, 'grown', 1)).toEqual(['p-2', 'p-0']);
    expect((await store.listModelSummaries('grown', { limit: 5 })).models).toEqual(await store.listModelSummaries('grown'));
    expect((await allKeys(registry.node)).some((key) => key.startsWith(layout.indexRoot('grown')))).toBe(true);
    const [domains, listed] = await py(registry.python, [{ op: 'list_domains' }, { op: 'list_models', domain: 'grown' }]);
    expect(ok(domains)).toEqual(['grown']);
    expect(ok(listed)).toEqual(['p-2', 'p-0']);
  }, 300_000);
});
