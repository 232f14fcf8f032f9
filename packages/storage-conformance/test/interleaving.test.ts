// The registry on a storage whose every operation takes a random 0-4 ms before and
// after it, so that concurrent writers interleave at every step rather than in the
// order a fast in-memory store happens to run them.
import { MemoryStorage, ModelStore, type ModelMetadata } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeRegistryConformance } from '../src/index.js';
import { seededRandom } from '../src/reliability.js';

class JitteryStorage extends MemoryStorage {
  private readonly random = seededRandom(7);

  private async jitter<T>(operation: () => Promise<T>): Promise<T> {
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(this.random() * 5)));
    await pause();
    const result = await operation();
    await pause();
    return result;
  }

  override put(...args: Parameters<MemoryStorage['put']>) {
    return this.jitter(() => super.put(...args));
  }
  override get(...args: Parameters<MemoryStorage['get']>) {
    return this.jitter(() => super.get(...args));
  }
  override head(...args: Parameters<MemoryStorage['head']>) {
    return this.jitter(() => super.head(...args));
  }
  override list(...args: Parameters<MemoryStorage['list']>) {
    return this.jitter(() => super.list(...args));
  }
  override delete(...args: Parameters<MemoryStorage['delete']>) {
    return this.jitter(() => super.delete(...args));
  }
}

describeRegistryConformance({ name: 'MemoryStorage with random latency', createStorage: () => new JitteryStorage() });

const newestOf = (results: ModelMetadata[]) => [...results].sort((a, b) => Date.parse(b.code!.created_at!) - Date.parse(a.code!.created_at!) || (a.model.model_id < b.model.model_id ? 1 : -1))[0]!;

describe('first uploads to a domain, with random latency', () => {
  // The pointer is created by the first announcement to finish; the others must
  // compare with it, not overwrite it (2 to 6 of 40 domains ended on an older model before that was fixed).
  it('points each of 40 fresh domains at the newest of its 8 concurrent first uploads', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-interleaving-'));
    try {
      const modelFile = path.join(work, 'model.bin');
      writeFileSync(modelFile, 'weights '.repeat(100));
      const store = new ModelStore({ storage: new JitteryStorage(), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
      const wrong: string[] = [];
      for (let d = 0; d < 40; d++) {
        const results = await Promise.all(Array.from({ length: 8 }, () => store.upload(`d${d}`, { model: modelFile })));
        const latest = (await store.getDomain(`d${d}`)).model.model_id;
        if (latest !== newestOf(results).model.model_id) wrong.push(`d${d}: ${latest}`);
      }
      expect(wrong).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
