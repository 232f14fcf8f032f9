// The latest pointer (`domains/<domain>.json`) never names a model that is not listed.
// Python modelstore's delete_model leaves the pointer naming the deleted model (its own
// code says so: "@TODO (future): the model that is being deleted may be also set as the
// latest"), so its download(model_id=None) then fails. This library does not trust such
// a pointer: every reader answers the newest live model and repairs the pointer to a
// byte copy of that model's document, which Python's get_domain then reads. The same
// for a pointer naming a model of another domain, or an older document of a re-used id.
import { describe, expect, it } from '@jest/globals';
import { layout } from '@modelstore/core/internal';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { backends, nodeStore, objectBytes, ok, py, runCli, workDir, writeFiles } from './helpers.js';

const pause = { op: 'sleep', seconds: 1.1 };

describe.each(backends().map((backend) => [backend.name, backend] as const))('the latest pointer names a live model: %s', (name, backend) => {
  it('Python uploads A then B and deletes B: every reader gives A, and the pointer is repaired to A', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'model a', 'b.bin': 'model b', 'c.bin': 'model c' });
    const readers = ['getDomain', 'getLatestModel', 'download', 'load', 'listDomains', 'cli'] as const;
    const ops: Array<Record<string, unknown>> = [];
    for (const reader of readers) ops.push({ op: 'upload', domain: `d-${reader}`, model_id: `a-${reader}`, model: path.join(files, 'a.bin') });
    ops.push(pause, { op: 'upload', domain: 'between', model_id: 'c-between', model: path.join(files, 'c.bin') }, pause);
    for (const reader of readers) ops.push({ op: 'upload', domain: `d-${reader}`, model_id: `b-${reader}`, model: path.join(files, 'b.bin') });
    for (const reader of readers) ops.push({ op: 'delete_model', domain: `d-${reader}`, model_id: `b-${reader}` });
    ops.push(...readers.map((reader) => ({ op: 'get_domain', domain: `d-${reader}` })));
    ops.push({ op: 'list_domains' });
    const results = await py(registry.python, ops);
    results.forEach((result) => ok(result));
    // Python's pointer still names the deleted model, and Python lists the domains by it.
    const pythonPointers = results.slice(-readers.length - 1, -1).map((result) => ok(result).model.model_id);
    expect(pythonPointers).toEqual(readers.map((reader) => `b-${reader}`));
    expect(ok(results.at(-1)).indexOf('d-listDomains')).toBeLessThan(ok(results.at(-1)).indexOf('between'));

    const store = nodeStore(registry.node);
    const pointer = (reader: string) => objectBytes(registry.node, layout.domain(`d-${reader}`));
    const document = (reader: string) => objectBytes(registry.node, layout.version(`d-${reader}`, `a-${reader}`));

    expect((await store.getDomain('d-getDomain')).model.model_id).toBe('a-getDomain');
    expect((await store.getLatestModel('d-getLatestModel')).model.model_id).toBe('a-getLatestModel');
    const to = path.join(workDir('download'), 'latest');
    await store.download('d-download', { to });
    expect(readFileSync(path.join(to, 'a.bin'), 'utf8')).toBe('model a');
    // RawAdapter loads the model's directory.
    const loaded = await store.load<string>('d-load');
    expect(readFileSync(path.join(loaded, 'a.bin'), 'utf8')).toBe('model a');
    // listDomains orders by the live latest model: `between` (uploaded after A) comes first.
    const domains = await store.listDomains();
    expect(domains.indexOf('between')).toBeLessThan(domains.indexOf('d-listDomains'));
    if (name === 'fs') {
      const listed = await runCli(['ls', '--json', '--store', `file://${registry.python.root!}`]);
      expect(listed.code).toBe(0);
      const rows = JSON.parse(listed.stdout) as Array<{ domain: string; latest: string | null }>;
      expect(rows.find((row) => row.domain === 'd-cli')?.latest).toBe('a-cli');
    } else {
      expect((await store.getDomain('d-cli')).model.model_id).toBe('a-cli');
    }

    // Every pointer that was read is now a byte copy of A's document.
    for (const reader of readers.filter((r) => r !== 'listDomains')) expect([reader, await pointer(reader)]).toEqual([reader, await document(reader)]);
    const after = await py(
      registry.python,
      readers.filter((r) => r !== 'listDomains').map((reader) => ({ op: 'get_domain', domain: `d-${reader}` })),
    );
    expect(after.map((result) => ok(result).model.model_id)).toEqual(readers.filter((r) => r !== 'listDomains').map((reader) => `a-${reader}`));
  });

  it('a pointer naming a model of another domain, or an older document of a re-used id, is not trusted either', async () => {
    const registry = backend.create();
    const files = writeFiles({ 'a.bin': 'a', 'x1.bin': 'x version 1', 'x2.bin': 'x version 2', 'o.bin': 'other' });
    const results = await py(registry.python, [
      { op: 'upload', domain: 'foreign', model_id: 'own', model: path.join(files, 'a.bin') },
      pause,
      { op: 'upload', domain: 'other', model_id: 'elsewhere', model: path.join(files, 'o.bin') },
      { op: 'upload', domain: 'reused', model_id: 'base', model: path.join(files, 'a.bin') },
      pause,
      { op: 'upload', domain: 'reused', model_id: 'x', model: path.join(files, 'x1.bin'), extra_metadata: { version: 1 } },
    ]);
    results.forEach((result) => ok(result));
    const stale = (await objectBytes(registry.node, layout.domain('reused')))!;
    const rewritten = await py(registry.python, [{ op: 'delete_model', domain: 'reused', model_id: 'x' }, pause, { op: 'upload', domain: 'reused', model_id: 'x', model: path.join(files, 'x2.bin'), extra_metadata: { version: 2 } }]);
    rewritten.forEach((result) => ok(result));
    // The pointer as another writer (or a restored backup) might leave it.
    await registry.node.put(layout.domain('reused'), stale);
    await registry.node.put(layout.domain('foreign'), (await objectBytes(registry.node, layout.domain('other')))!);

    const store = nodeStore(registry.node);
    expect((await store.getDomain('foreign')).model).toMatchObject({ domain: 'foreign', model_id: 'own' });
    expect(await objectBytes(registry.node, layout.domain('foreign'))).toEqual(await objectBytes(registry.node, layout.version('foreign', 'own')));
    const latest = await store.getDomain('reused');
    expect(latest.model.model_id).toBe('x');
    expect(latest.extra).toEqual({ version: 2 });
    expect(await objectBytes(registry.node, layout.domain('reused'))).toEqual(await objectBytes(registry.node, layout.version('reused', 'x')));
    const to = path.join(workDir('download'), 'x');
    await store.download('reused', { to });
    expect(readFileSync(path.join(to, 'x2.bin'), 'utf8')).toBe('x version 2');
    const python = await py(registry.python, [
      { op: 'get_domain', domain: 'foreign' },
      { op: 'get_domain', domain: 'reused' },
    ]);
    expect(ok(python[0]).model.model_id).toBe('own');
    expect(ok(python[1]).extra).toEqual({ version: 2 });
  });
});
