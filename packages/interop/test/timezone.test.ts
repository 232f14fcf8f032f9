// Python modelstore records `code.created` (and names archive folders) in the machine's
// local time, with no zone; this library writes UTC and reads a stamp without a zone as
// UTC. Outside UTC the stamps of the two writers are hours apart in a mixed domain: both
// libraries still list the domain in the same order (by the stamps), which is not the
// order of the uploads. A difference of Python modelstore, documented in python/README.md.
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { backends, nodeStore, ok, py, writeFiles } from './helpers.js';

describe('Python modelstore writing local time (TZ=America/New_York, UTC-5) beside this library writing UTC', () => {
  it('both libraries list a mixed domain in the same order, the stamps\' order', async () => {
    const registry = backends().find((backend) => backend.name === 'fs')!.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'a.bin': 'a', 'b.bin': 'b' });
    const fromNode = await store.upload('mixed', { model: path.join(files, 'a.bin'), modelId: 'node-first' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const env = { TZ: 'America/New_York' };
    const [uploaded, listed, latest] = await py(
      registry.python,
      [
        { op: 'upload', domain: 'mixed', model_id: 'python-second', model: path.join(files, 'b.bin') },
        { op: 'list_models', domain: 'mixed' },
        { op: 'get_domain', domain: 'mixed' },
      ],
      { env },
    );
    // Python's stamp is five hours behind this library's, though it uploaded a second later.
    const stamp = (created: string) => Date.UTC(...(created.split(/[/:]/).map(Number).map((n, i) => (i === 1 ? n - 1 : n)) as [number, number, number, number, number, number]));
    expect(stamp(fromNode.code!.created!) - stamp(ok(uploaded).code.created)).toBeGreaterThan(4 * 3600_000);
    expect(ok(listed)).toEqual(['node-first', 'python-second']);
    expect(await store.listModels('mixed')).toEqual(ok(listed));
    // Python moves the domain's pointer to the model it just uploaded, whatever the stamps say.
    expect(ok(latest).model.model_id).toBe('python-second');
    expect((await store.getDomain('mixed')).model.model_id).toBe('python-second');
  });
});
