// Python modelstore records `code.created` (and names archive folders) in the machine's
// local time, with no zone. This library orders models by when they were made: its own
// models by `code.created_at` (a precise UTC time), Python's by the storage's own
// last-modified time of their `versions/<id>.json` — never by Python's local-time stamp,
// which is hours off outside UTC. Here Python runs at UTC+9 (Asia/Tokyo) and UTC-8
// (America/Los_Angeles) beside Node, uploads 1.5 s apart in both orders.
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { backends, nodeStore, ok, py, writeFiles } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const zones = [
  ['Asia/Tokyo', 'tokyo'],
  ['America/Los_Angeles', 'la'],
] as const;

describe.each(backends().map((backend) => [backend.name, backend] as const))('Python writing local time beside Node writing UTC: %s', (_name, backend) => {
  it('listModels, getDomain, listDomains and getLatestModel({ state }) follow the upload order in both orders and both zones', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const files = writeFiles({ 'm.bin': 'model' });
    const model = path.join(files, 'm.bin');
    await store.createModelState('production');
    for (const [zone, tag] of zones) {
      // Node first, then Python, in domain np-<tag>; Python first, then Node, in pn-<tag>.
      await store.upload(`np-${tag}`, { model, modelId: `node-1-${tag}` });
      await store.setModelState(`np-${tag}`, `node-1-${tag}`, 'production');
      await sleep(1500);
      const results = await py(
        registry.python,
        [
          { op: 'upload', domain: `np-${tag}`, model_id: `python-1-${tag}`, model },
          { op: 'set_model_state', domain: `np-${tag}`, model_id: `python-1-${tag}`, state: 'production' },
          { op: 'upload', domain: `pn-${tag}`, model_id: `python-2-${tag}`, model },
          { op: 'set_model_state', domain: `pn-${tag}`, model_id: `python-2-${tag}`, state: 'production' },
        ],
        { env: { TZ: zone } },
      );
      results.forEach((result) => ok(result));
      // Python's stamp is the zone's wall clock: hours away from UTC.
      const stamp = ok(results[0]).code.created as string;
      const [y, mo, d, h, mi, s] = stamp.split(/[/:]/).map(Number) as [number, number, number, number, number, number];
      expect(Math.abs(Date.UTC(y, mo - 1, d, h, mi, s) - Date.now())).toBeGreaterThan(7 * 3600_000);
      await sleep(1500);
      await store.upload(`pn-${tag}`, { model, modelId: `node-2-${tag}` });
      await store.setModelState(`pn-${tag}`, `node-2-${tag}`, 'production');
    }

    for (const [, tag] of zones) {
      expect(await store.listModels(`np-${tag}`)).toEqual([`python-1-${tag}`, `node-1-${tag}`]);
      expect(await store.listModels(`pn-${tag}`)).toEqual([`node-2-${tag}`, `python-2-${tag}`]);
      expect((await store.getDomain(`np-${tag}`)).model.model_id).toBe(`python-1-${tag}`);
      expect((await store.getDomain(`pn-${tag}`)).model.model_id).toBe(`node-2-${tag}`);
      expect(await store.listModels(`np-${tag}`, { state: 'production' })).toEqual([`python-1-${tag}`, `node-1-${tag}`]);
      expect((await store.getLatestModel(`np-${tag}`, { state: 'production' })).model.model_id).toBe(`python-1-${tag}`);
      expect((await store.getLatestModel(`pn-${tag}`, { state: 'production' })).model.model_id).toBe(`node-2-${tag}`);
    }
    // Domains by their latest model, newest first: the order of the last uploads.
    expect(await store.listDomains()).toEqual(['pn-la', 'np-la', 'pn-tokyo', 'np-tokyo']);
  });
});
