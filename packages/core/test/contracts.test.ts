// The Storage and ModelAdapter contracts carry a version; a plugin of another version,
// or of none, is refused when the ModelStore is made, with what to upgrade.
import { describe, expect, it } from '@jest/globals';
import { MemoryStorage, ModelStore, type ModelAdapter } from '../src/index.js';

const adapter = (fields: Record<string, unknown>) => ({ library: 'bytes', matches: () => true, save: async () => ({ files: [] }), load: async () => undefined, ...fields }) as unknown as ModelAdapter;

describe('contract versions', () => {
  it('refuses a storage of contract v2, saying to upgrade core', () => {
    class NewerStorage extends MemoryStorage {
      override readonly specificationVersion = 'v2' as unknown as 'v1';
    }
    const error = (() => {
      try {
        new ModelStore({ storage: new NewerStorage() });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toMatchObject({ code: 'INCOMPATIBLE_CONTRACT', contract: 'Storage', expected: 'v1', found: 'v2' });
    expect((error as Error).message).toMatch(/NewerStorage implements the Storage contract v2.*upgrade @modelstore\/core/);
  });

  it('refuses a storage that declares no version, and an adapter of none or of an older one', () => {
    const storage = Object.assign(Object.create(null), { ...Object.fromEntries(['put', 'get', 'head', 'list', 'delete', 'describe'].map((name) => [name, () => undefined])), capabilities: {} });
    expect(() => new ModelStore({ storage })).toThrow(expect.objectContaining({ code: 'INCOMPATIBLE_CONTRACT', found: undefined, message: expect.stringMatching(/declares no specificationVersion/) }));
    expect(() => new ModelStore({ storage: new MemoryStorage(), adapters: [adapter({})] })).toThrow(
      expect.objectContaining({ code: 'INCOMPATIBLE_CONTRACT', contract: 'ModelAdapter', message: expect.stringMatching(/adapter for "bytes" declares no specificationVersion/) }),
    );
    expect(() => new ModelStore({ storage: new MemoryStorage(), adapters: [adapter({ specificationVersion: 'v0' })] })).toThrow(expect.objectContaining({ found: 'v0', message: expect.stringMatching(/upgrade the adapter package/) }));
    expect(new ModelStore({ storage: new MemoryStorage(), adapters: [adapter({ specificationVersion: 'v1' })] }).adapters).toHaveLength(1);
  });
});
