// The crash harness's own rules: what may differ between the check before garbage
// collection and the one after, and how it waits for a store to quiesce.
import { describe, expect, it } from '@jest/globals';
import { MemoryStorage } from '@modelstore/core';
import { InvariantError, registryChanges, waitForQuiescence, type RegistryCheck } from '../src/reliability.js';

const check = (ids: string[], latest: string | undefined, inState: string[] = []): RegistryCheck => ({ ids, latest, inState, downloads: ids.length });

describe('registryChanges', () => {
  it('accepts identical checks', () => {
    expect(registryChanges(check(['b', 'a'], 'b', ['a']), check(['b', 'a'], 'b', ['a']), new Set(), 'production')).toEqual([]);
  });

  it('accepts a model that appeared if its upload was in flight at the kill, also as the new latest', () => {
    expect(registryChanges(check(['b', 'a'], 'b'), check(['c', 'b', 'a'], 'b'), new Set(['c']), 'production')).toEqual([]);
    expect(registryChanges(check([], undefined), check(['c'], 'c'), new Set(['c']), 'production')).toEqual([]);
  });

  it('refuses a model that appeared with no upload of it in flight', () => {
    expect(registryChanges(check(['b', 'a'], 'b'), check(['c', 'b', 'a'], 'b'), new Set(['d']), 'production')).toEqual([expect.stringMatching(/1 models appeared that no upload in flight at the kill explains \(c\)/)]);
  });

  it('never accepts a model that vanished, even one whose upload was in flight', () => {
    expect(registryChanges(check(['c', 'b'], 'c'), check(['b'], 'b'), new Set(['c']), 'production')).toEqual([expect.stringMatching(/vanished \(c\)/), expect.stringMatching(/latest model changed from c to b/)]);
  });

  it('refuses a latest pointer that moved to an old model, and a change of the state', () => {
    expect(registryChanges(check(['b', 'a'], 'b'), check(['b', 'a'], 'a'), new Set(), 'production')).toEqual([expect.stringMatching(/latest model changed from b to a/)]);
    expect(registryChanges(check(['b', 'a'], 'b', ['a']), check(['b', 'a'], 'b', []), new Set(), 'production')).toEqual([expect.stringMatching(/"production" changed/)]);
  });
});

describe('waitForQuiescence', () => {
  it('waits until the store reports no request in progress twice in a row', async () => {
    const counts = [2, 1, 0, 1, 0, 0, 5];
    let asked = 0;
    await waitForQuiescence({ inFlight: async () => counts[asked++]! });
    expect(asked).toBe(6);
  });

  it('waits until two listings agree while writes still land', async () => {
    const storage = new MemoryStorage();
    let writes = 0;
    const writer = setInterval(() => {
      if (writes < 4) void storage.put(`operatorai-model-store/d/versions/m${writes++}.json`, '{}');
    }, 100);
    try {
      await waitForQuiescence({ storage });
    } finally {
      clearInterval(writer);
    }
    expect(writes).toBe(4);
  });

  it('fails with an InvariantError when the store never quiesces', async () => {
    await expect(waitForQuiescence({ inFlight: async () => 1, timeoutMs: 200 })).rejects.toBeInstanceOf(InvariantError);
  });
});
