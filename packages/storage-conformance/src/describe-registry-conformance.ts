import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import {
  DestinationExistsError,
  DomainNotFoundError,
  IntegrityError,
  InvalidNameError,
  MemoryStorage,
  ModelDeletedError,
  ModelExistsError,
  ModelStore,
  StateNotFoundError,
  UnsafeArchiveError,
  layout,
  type ModelMetadata,
  type Storage,
} from '@modelstore/core';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { CountingStorage } from './counting-storage.js';

export interface RegistryConformanceOptions<S extends Storage = Storage> {
  /** Shown in the test names. */
  name: string;
  /** A fresh, empty store for each test. */
  createStorage(): S | Promise<S>;
  /** Called after each test with the store `createStorage` returned. */
  destroyStorage?(storage: S): void | Promise<void>;
  /**
   * The `python-modelstore` fixture folder (a registry written by Python modelstore
   * and its `expected.json`). Its files are copied into the store with `put`.
   */
  pythonFixture?: string;
  /** Milliseconds for each test (default 60 000). */
  timeout?: number;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under `directory`, relative, `/`-separated, with its sha256. */
function treeDigest(directory: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (current: string, prefix: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
      else result[`${prefix}${entry.name}`] = sha256(readFileSync(full));
    }
  };
  walk(directory, '');
  return result;
}

/** A gzipped tar with the given entries, for hostile-archive tests. */
async function buildArchive(entries: Array<{ header: Partial<tar.Header> & { name: string }; content?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const { header, content } of entries) {
    await new Promise<void>((resolve, reject) => pack.entry(header as tar.Header, content ?? '', (error) => (error ? reject(error) : resolve())));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack.pipe(createGzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function copyTree(storage: Storage, directory: string, prefix = ''): Promise<void> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) await copyTree(storage, full, `${prefix}${entry.name}/`);
    else await storage.put(`${prefix}${entry.name}`, readFileSync(full));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers the registry suite with jest: `ModelStore` end to end on a store
 * (upload, list, states, download, load, delete, races, hostile and corrupt
 * archives, and the Python modelstore fixture when given).
 */
export function describeRegistryConformance<S extends Storage>(options: RegistryConformanceOptions<S>): void {
  const timeout = options.timeout ?? 60_000;

  describe(`Registry conformance: ${options.name}`, () => {
    let storage: S;
    let work: string;
    let store: ModelStore;
    let modelFile: string;
    let extraFiles: string[];
    const open = (inner: Storage = storage) => new ModelStore({ storage: inner, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });

    beforeEach(async () => {
      storage = await options.createStorage();
      work = mkdtempSync(path.join(tmpdir(), 'modelstore-registry-'));
      store = open();
      modelFile = path.join(work, 'model.bin');
      writeFileSync(modelFile, Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
      extraFiles = [path.join(work, 'README.txt'), path.join(work, 'labels.json')];
      writeFileSync(extraFiles[0]!, 'A churn model.\n');
      writeFileSync(extraFiles[1]!, JSON.stringify(['stay', 'leave']));
    });
    afterEach(async () => {
      rmSync(work, { recursive: true, force: true });
      await options.destroyStorage?.(storage);
    });

    const upload = (domain: string, extra: Partial<Parameters<ModelStore['upload']>[1]> = {}) =>
      store.upload(domain, { model: modelFile, extraFiles, extraMetadata: { accuracy: 0.9 }, ...extra });

    it('round-trips the whole API, byte for byte', async () => {
      const uploaded: ModelMetadata[] = [];
      for (let i = 0; i < 3; i++) {
        uploaded.push(await upload('churn', { extraMetadata: { run: i } }));
        await pause(5);
      }
      const first = uploaded[0]!;
      expect(first.model).toEqual({ domain: 'churn', model_id: expect.stringMatching(/^[0-9a-f-]{36}$/), model_type: { library: 'model_file' }, parameters: {} });
      expect(first.code).toEqual(expect.objectContaining({ runtime: `node:${process.versions.node}`, created: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\d{2}:\d{2}:\d{2}$/) }));
      expect(first.extra).toEqual({ run: 0 });
      expect(Object.keys(first.archive!.files).sort()).toEqual(['extras/README.txt', 'extras/labels.json', 'model-info.json', 'model.bin']);
      expect(first.archive!.files['model.bin']!.sha256).toBe(sha256(readFileSync(modelFile)));

      const ids = uploaded.map((metadata) => metadata.model.model_id);
      expect(await store.listModels('churn')).toEqual([...ids].reverse());
      expect(await store.listDomains()).toEqual(['churn']);
      expect((await store.getDomain('churn')).model.model_id).toBe(ids[2]);
      expect(await store.getModelInfo('churn', ids[1]!)).toEqual(uploaded[1]);
      expect(await store.modelExists('churn', ids[1]!)).toBe(true);
      expect(await store.modelExists('churn', 'no-such-model')).toBe(false);

      const to = path.join(work, 'downloaded');
      expect(await store.download('churn', { modelId: ids[0]!, to })).toBe(to);
      expect(treeDigest(to)).toEqual({
        'model-info.json': sha256('{"library":"model_file"}'),
        'model.bin': sha256(readFileSync(modelFile)),
        'extras/README.txt': sha256(readFileSync(extraFiles[0]!)),
        'extras/labels.json': sha256(readFileSync(extraFiles[1]!)),
      });
      const loaded = await store.load<string>('churn');
      expect(treeDigest(loaded)['model.bin']).toBe(sha256(readFileSync(modelFile)));
      expect(readdirSync(work).filter((name) => name.includes('staging'))).toEqual([]);
    }, timeout);

    it('keeps a directory model\'s tree', async () => {
      const directory = path.join(work, 'model-dir');
      mkdirSync(path.join(directory, 'weights', 'shards'), { recursive: true });
      writeFileSync(path.join(directory, 'config.json'), '{"layers":3}');
      writeFileSync(path.join(directory, 'weights', 'shards', 'a.bin'), Buffer.alloc(5000, 1));
      const metadata = await store.upload('tree', { model: directory });
      const to = await store.download('tree', { modelId: metadata.model.model_id, to: path.join(work, 'tree-out') });
      expect(Object.keys(treeDigest(to)).sort()).toEqual(['config.json', 'model-info.json', 'weights/shards/a.bin']);
    }, timeout);

    it('labels models with states as Python modelstore does', async () => {
      const a = (await upload('churn')).model.model_id;
      await pause(5);
      const b = (await upload('churn')).model.model_id;
      await expect(store.setModelState('churn', a, 'production')).rejects.toBeInstanceOf(StateNotFoundError);
      await store.createModelState('production');
      await store.createModelState('staging');
      await store.createModelState('staging');
      expect((await store.listModelStates()).sort()).toEqual(['production', 'staging']);
      await store.setModelState('churn', a, 'production');
      await store.setModelState('churn', b, 'production');
      await store.setModelState('churn', b, 'staging');
      expect(await store.listModels('churn', { state: 'production' })).toEqual([b, a]);
      expect((await store.getModelStates('churn', b)).sort()).toEqual(['production', 'staging']);
      expect((await store.getLatestModel('churn', { state: 'production' })).model.model_id).toBe(b);
      await store.removeModelState('churn', b, 'production');
      expect(await store.listModels('churn', { state: 'production' })).toEqual([a]);
      expect((await store.getLatestModel('churn', { state: 'production' })).model.model_id).toBe(a);
      await expect(store.setModelState('churn', a, 'modelstore-deleted')).rejects.toBeInstanceOf(InvalidNameError);
      await store.deleteModelState('staging');
      await expect(store.listModels('churn', { state: 'staging' })).rejects.toBeInstanceOf(StateNotFoundError);
    }, timeout);

    it('soft-deletes a model and moves the latest pointer back', async () => {
      const a = (await upload('churn')).model.model_id;
      await pause(5);
      const b = (await upload('churn', { modelId: 'churn-v2' })).model.model_id;
      await store.createModelState('production');
      await store.setModelState('churn', b, 'production');
      await store.deleteModel('churn', b);
      expect(await store.listModels('churn')).toEqual([a]);
      expect(await store.modelExists('churn', b)).toBe(false);
      await expect(store.getModelInfo('churn', b)).rejects.toBeInstanceOf(ModelDeletedError);
      expect(await store.listModels('churn', { state: 'production' })).toEqual([]);
      expect((await store.getDomain('churn')).model.model_id).toBe(a);
      await expect(upload('churn', { modelId: 'churn-v2' })).rejects.toBeInstanceOf(ModelExistsError);
      await store.deleteModel('churn', a);
      await expect(store.getDomain('churn')).rejects.toBeInstanceOf(DomainNotFoundError);
      // Archives of deleted models are removed; their metadata stays under modelstore-deleted
      // (and the domain's index of creation times, a cache, stays too).
      const remaining = (await storage.list(layout.domainPrefix('churn'))).objects.map((object) => object.key);
      expect(remaining.filter((key) => key !== layout.index('churn')).every((key) => key.includes('/versions/modelstore-deleted/'))).toBe(true);
      expect(remaining.some((key) => key.endsWith('.tar.gz'))).toBe(false);
    }, timeout);

    it('rejects every invalid domain, model id and state name before any I/O', async () => {
      const counted = new CountingStorage(storage);
      const guarded = open(counted);
      // Spaces, dots inside a name and any Unicode are valid (Python modelstore writes them).
      const badDomains = ['', 'versions', 'domains', 'modelstore', 'operatorai-model-store', 'model_states', 'a/b', '.', '..', 'a\\b', 'tab\t'];
      const badIds = ['', 'a b', 'a/b', '../x', '..', 'a\\b', 'tab\tx', ...'<>:"|?*#^`%~{}[]'.split('').map((c) => `id${c}x`)];
      const badStates = ['', 'ab', 'a/bc', '../prod', 'modelstore-deleted', 'tab\tstate'];
      const expectInvalid = async (call: () => Promise<unknown>) => {
        const error = await call().then(() => undefined, (e: unknown) => e);
        expect(InvalidNameError.isInstance(error)).toBe(true);
      };
      for (const domain of badDomains) {
        await expectInvalid(() => guarded.upload(domain, { model: modelFile }));
        await expectInvalid(() => guarded.listModels(domain));
        await expectInvalid(() => guarded.getDomain(domain));
        await expectInvalid(() => guarded.download(domain, { to: path.join(work, 'never') }));
      }
      for (const id of badIds) {
        await expectInvalid(() => guarded.upload('churn', { model: modelFile, modelId: id }));
        await expectInvalid(() => guarded.getModelInfo('churn', id));
        await expectInvalid(() => guarded.deleteModel('churn', id));
        await expectInvalid(() => guarded.load('churn', { modelId: id }));
      }
      for (const state of badStates) {
        await expectInvalid(() => guarded.createModelState(state));
        await expectInvalid(() => guarded.setModelState('churn', 'm1', state));
        await expectInvalid(() => guarded.listModels('churn', { state }));
      }
      expect(counted.calls).toEqual([]);
    }, timeout);

    it('lists a domain in one read of its index plus listing pages, and still orders models the index lacks', async () => {
      const counted = new CountingStorage(storage);
      const indexed = open(counted);
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        ids.push((await indexed.upload('many', { model: extraFiles[1]!, modelId: `m${String(i).padStart(2, '0')}` })).model.model_id);
        await pause(2);
      }
      await indexed.createModelState('production');
      for (const id of ids.slice(0, 5)) await indexed.setModelState('many', id, 'production');
      counted.reset();
      expect(await indexed.listModels('many')).toEqual([...ids].reverse());
      expect(counted.calls.filter((call) => call.startsWith('get '))).toEqual([`get ${layout.index('many')}`]);
      counted.reset();
      // A state is read member by member: each one's committed document says whether it is
      // live and when it was made (no index entry can say that a state copy is still current).
      expect((await indexed.getLatestModel('many', { state: 'production' })).model.model_id).toBe(ids[4]);
      expect(counted.calls.filter((call) => call.startsWith('get ')).sort()).toEqual(ids.slice(0, 5).map((id) => `get ${layout.version('many', id)}`).sort());

      // Models the index does not know (written by Python modelstore, or by an upload that
      // died before indexing) are ordered from their metadata.
      await storage.delete(layout.index('many'));
      expect(await indexed.listModels('many')).toEqual([...ids].reverse());
      await storage.put(layout.index('many'), 'not json');
      expect(await indexed.listModels('many')).toEqual([...ids].reverse());
    }, timeout);

    it('works with names at the limit (200 UTF-8 bytes of multi-byte characters) and refuses longer ones before any I/O', async () => {
      // 100 × "é" (2 bytes), 66 × "模" (3 bytes) + 2, 50 × "😀" (4 bytes): each 200 bytes, every key under 1,024.
      const domain = 'é'.repeat(100);
      const modelId = `${'模'.repeat(66)}-1`;
      const state = '😀'.repeat(50);
      const made = await upload(domain, { modelId });
      await store.createModelState(state);
      await store.setModelState(domain, modelId, state);
      expect(await store.listModels(domain, { state })).toEqual([modelId]);
      expect((await store.getDomain(domain)).model.model_id).toBe(modelId);
      expect(await store.listDomains()).toContain(domain);
      const to = path.join(work, 'x'.repeat(200));
      await store.download(domain, { to });
      expect(treeDigest(to)['model.bin']).toBe(made.archive!.files['model.bin']!.sha256);
      expect(treeDigest(await store.load<string>(domain, { modelId }))['model.bin']).toBe(made.archive!.files['model.bin']!.sha256);
      await store.deleteModel(domain, modelId);
      expect(await store.modelExists(domain, modelId)).toBe(false);

      const counted = new CountingStorage(storage);
      const guarded = open(counted);
      for (const [name, tooLong] of [
        ['domain', 'é'.repeat(112)],
        ['model id', '模'.repeat(90)],
        ['state', '😀'.repeat(51)],
      ] as const) {
        const attempt =
          name === 'domain' ? guarded.upload(tooLong, { model: modelFile }) : name === 'model id' ? guarded.upload('churn', { model: modelFile, modelId: tooLong }) : guarded.createModelState(tooLong);
        const error = await attempt.catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'INVALID_NAME' });
        expect((error as Error).message).toMatch(/at most 200 bytes in UTF-8/);
      }
      expect(counted.calls).toEqual([]);
    }, timeout);

    it('refuses to reuse a model id, leaving no orphan archive', async () => {
      await upload('churn', { modelId: 'fixed-id' });
      await expect(upload('churn', { modelId: 'fixed-id' })).rejects.toBeInstanceOf(ModelExistsError);
      const archives = (await storage.list(layout.domainPrefix('churn'))).objects.filter((object) => object.key.endsWith('.tar.gz'));
      expect(archives).toHaveLength(1);
    }, timeout);

    it('lists all of 8 concurrent uploads and points the domain at the newest', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => upload('busy', { extraMetadata: { writer: i } })));
      const ids = await store.listModels('busy');
      expect(ids.sort()).toEqual(results.map((metadata) => metadata.model.model_id).sort());
      const newest = [...results].sort((a, b) => Date.parse(b.code!.created_at!) - Date.parse(a.code!.created_at!) || (a.model.model_id < b.model.model_id ? 1 : -1))[0]!;
      expect((await store.getDomain('busy')).model.model_id).toBe(newest.model.model_id);
    }, timeout);

    it('loses no update when many writers upload and label models on one domain at once', async () => {
      // MODELSTORE_RACE_WRITERS x MODELSTORE_RACE_UPLOADS: 4 x 5 in the ordinary run, 16 x 20 in test:reliability.
      const writers = Number(process.env.MODELSTORE_RACE_WRITERS ?? 4);
      const uploads = Number(process.env.MODELSTORE_RACE_UPLOADS ?? 5);
      await store.createModelState('production');
      const expectedInState = new Set<string>();
      const all: ModelMetadata[] = [];
      // The latest pointer never moves back: once an upload has returned, the domain's
      // latest is that model or a newer one, whatever the other writers do.
      const movedBack: string[] = [];
      const order = (metadata: ModelMetadata) => [Date.parse(metadata.code!.created_at!), metadata.model.model_id] as const;
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          let previous: string | undefined;
          for (let i = 0; i < uploads; i++) {
            const metadata = await store.upload('race', { model: extraFiles[1]!, modelId: `w${writer}-u${i}` });
            all.push(metadata);
            const [time, id] = order(metadata);
            const [latestTime, latestId] = order(await store.getDomain('race'));
            if (latestTime < time || (latestTime === time && latestId < id)) movedBack.push(`${latestId} after ${id}`);
            // Each writer keeps only its newest model in production, as a promotion job would.
            await store.setModelState('race', metadata.model.model_id, 'production');
            if (previous) await store.removeModelState('race', previous, 'production');
            previous = metadata.model.model_id;
          }
          expectedInState.add(previous!);
        }),
      );
      expect(movedBack).toEqual([]);
      const listed = await store.listModels('race');
      expect(listed).toHaveLength(writers * uploads);
      expect(new Set(listed).size).toBe(writers * uploads);
      const newest = [...all].sort((a, b) => Date.parse(b.code!.created_at!) - Date.parse(a.code!.created_at!) || (a.model.model_id < b.model.model_id ? 1 : -1))[0]!;
      expect(listed[0]).toBe(newest.model.model_id);
      expect((await store.getDomain('race')).model.model_id).toBe(newest.model.model_id);
      expect((await store.listModels('race', { state: 'production' })).sort()).toEqual([...expectedInState].sort());
    }, Math.max(timeout, 300_000));

    it('lets exactly one of 4 concurrent uploads of one model id win', async () => {
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => upload('same', { modelId: 'contested' })));
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(ModelExistsError.isInstance(result.reason)).toBe(true);
      }
      const archives = (await storage.list(layout.domainPrefix('same'))).objects.filter((object) => object.key.endsWith('.tar.gz'));
      expect(archives).toHaveLength(1);
      const winner = await store.getModelInfo('same', 'contested');
      expect(archives[0]!.key).toBe(layout.archive('same', new Date(winner.code!.created_at!), 'contested'));
    }, timeout);

    it('leaves nothing behind when an upload is aborted or its source fails', async () => {
      const big = path.join(work, 'big.bin');
      writeFileSync(big, Buffer.alloc(8 * 1024 * 1024, 5));
      const controller = new AbortController();
      const aborted = store.upload('halted', {
        model: big,
        modelId: 'aborted',
        signal: controller.signal,
        onProgress: (bytes) => {
          if (bytes > 0) controller.abort();
        },
      });
      await expect(aborted).rejects.toThrow();
      const missing = store.upload('halted', { model: modelFile, modelId: 'missing-extra', extraFiles: [path.join(work, 'no-such-file.txt')] });
      await expect(missing).rejects.toThrow();
      expect((await storage.list(layout.domainPrefix('halted'))).objects).toEqual([]);
      await expect(store.getDomain('halted')).rejects.toBeInstanceOf(DomainNotFoundError);
    }, timeout);

    it('refuses metadata that points outside the registry, or at a missing archive', async () => {
      const metadata = await upload('victim', { modelId: 'm1' });
      const to = path.join(work, 'out', 'model');
      for (const location of [{ type: 'file_system', root: '/', path: '/etc/passwd' }, { type: 'file_system', path: '/x/operatorai-model-store/../../etc/passwd' }]) {
        await storage.put(layout.version('victim', 'm1'), JSON.stringify({ ...metadata, storage: location }));
        await expect(store.download('victim', { modelId: 'm1', to })).rejects.toBeInstanceOf(IntegrityError);
      }
      await storage.put(layout.version('victim', 'm1'), JSON.stringify(metadata));
      await storage.delete(layout.archive('victim', new Date(metadata.code!.created_at!), 'm1'));
      await expect(store.download('victim', { modelId: 'm1', to })).rejects.toBeInstanceOf(IntegrityError);
      // Not even the parent folder it would have needed is left behind.
      expect(readdirSync(work)).not.toContain('out');
    }, timeout);

    describe('unsafe and damaged archives', () => {
      /** Uploads a model, then replaces its archive (and, like Python, drops the recorded digests). */
      const plant = async (archive: Buffer, options: { keepDigests?: boolean } = {}) => {
        const metadata = await upload('victim', { modelId: 'm1' });
        const archiveKey = layout.archive('victim', new Date(metadata.code!.created_at!), 'm1');
        await storage.put(archiveKey, archive);
        if (!options.keepDigests) {
          const { archive: _digests, ...pythonLike } = metadata;
          await storage.put(layout.version('victim', 'm1'), JSON.stringify(pythonLike));
        }
        return archiveKey;
      };
      /** `to` exists with one file; after a failed download it must be exactly as it was. */
      const prepareTarget = () => {
        const parent = path.join(work, 'out');
        const to = path.join(parent, 'model');
        mkdirSync(to, { recursive: true });
        writeFileSync(path.join(to, 'keep.txt'), 'previous model');
        return { parent, to };
      };
      const expectUntouched = (parent: string, to: string) => {
        expect(readdirSync(parent)).toEqual(['model']);
        expect(treeDigest(to)).toEqual({ 'keep.txt': sha256('previous model') });
        expect(readdirSync(work).sort()).toEqual(['README.txt', 'labels.json', 'model.bin', 'out']);
      };

      it.each([
        ['an absolute path', { name: '/tmp/modelstore-evil-absolute', type: 'file' as const }],
        ['a ".." path', { name: '../../evil.txt', type: 'file' as const }],
        ['a nested ".." path', { name: 'extras/../../evil.txt', type: 'file' as const }],
        ['a symbolic link', { name: 'link', type: 'symlink' as const, linkname: '/etc/passwd' }],
        ['a hard link', { name: 'hard', type: 'link' as const, linkname: '/etc/passwd' }],
        ['a character device', { name: 'dev', type: 'character-device' as const, devmajor: 1, devminor: 3 }],
        ['a FIFO', { name: 'pipe', type: 'fifo' as const }],
      ])('refuses %s with UnsafeArchiveError and leaves the target as it was', async (_label, header) => {
        const archive = await buildArchive([
          { header: { name: 'model-info.json', type: 'file' }, content: '{"library":"model_file"}' },
          { header, content: header.type === 'file' ? 'pwned' : '' },
        ]);
        await plant(archive);
        const { parent, to } = prepareTarget();
        const error = await store.download('victim', { modelId: 'm1', to, overwrite: true }).catch((e: unknown) => e);
        expect(UnsafeArchiveError.isInstance(error)).toBe(true);
        expectUntouched(parent, to);
        expect(readdirSync(tmpdir())).not.toContain('modelstore-evil-absolute');
      }, timeout);

      it('refuses a corrupted byte with IntegrityError and leaves the target as it was', async () => {
        const metadata = await upload('victim', { modelId: 'm1' });
        const archiveKey = layout.archive('victim', new Date(metadata.code!.created_at!), 'm1');
        const object = await storage.get(archiveKey);
        const chunks: Buffer[] = [];
        for await (const chunk of object!.body as AsyncIterable<Buffer>) chunks.push(chunk);
        const archive = Buffer.concat(chunks);
        for (const [label, damaged] of [
          ['flipped byte', Buffer.from(archive).fill(archive[archive.length >> 1]! ^ 0xff, archive.length >> 1, (archive.length >> 1) + 1)],
          ['truncated', archive.subarray(0, archive.length >> 1)],
          ['truncated tail', archive.subarray(0, archive.length - 4)],
        ] as const) {
          for (const keepDigests of [true, false]) {
            await storage.put(archiveKey, damaged);
            if (!keepDigests) {
              const { archive: _digests, ...pythonLike } = metadata;
              await storage.put(layout.version('victim', 'm1'), JSON.stringify(pythonLike));
            } else {
              await storage.put(layout.version('victim', 'm1'), JSON.stringify(metadata));
            }
            const { parent, to } = prepareTarget();
            const error = await store.download('victim', { modelId: 'm1', to, overwrite: true }).catch((e: unknown) => e);
            expect([label, keepDigests, IntegrityError.isInstance(error) || String(error)]).toEqual([label, keepDigests, true]);
            expectUntouched(parent, to);
            rmSync(parent, { recursive: true });
          }
        }
      }, timeout);

      it('refuses to replace a non-empty directory unless asked', async () => {
        await upload('victim', { modelId: 'm1' });
        const { parent, to } = prepareTarget();
        await expect(store.download('victim', { modelId: 'm1', to })).rejects.toBeInstanceOf(DestinationExistsError);
        expectUntouched(parent, to);
        await store.download('victim', { modelId: 'm1', to, overwrite: true });
        expect(Object.keys(treeDigest(to))).toContain('model.bin');
        expect(readdirSync(parent)).toEqual(['model']);
      }, timeout);
    });

    it('copies a model to another store and back, byte for byte, with its states', async () => {
      const { model } = await upload('churn', { extraMetadata: { run: 7 } });
      const other = new ModelStore({ storage: new MemoryStorage(), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache-other') });
      const copy = await store.copyModel('churn', model.model_id, other, { states: ['production'] });
      expect(copy.storage).toEqual(other.storage.describe(layout.archive('churn', new Date(copy.code!.created_at!), model.model_id)));
      expect(copy.extra).toEqual({ run: 7 });
      expect(await other.listModels('churn', { state: 'production' })).toEqual([model.model_id]);
      expect((await other.getDomain('churn')).model.model_id).toBe(model.model_id);
      const there = await other.download('churn', { to: path.join(work, 'copied') });
      expect(treeDigest(there)['model.bin']).toBe(sha256(readFileSync(modelFile)));
      await expect(store.copyModel('churn', model.model_id, other)).rejects.toBeInstanceOf(ModelExistsError);

      // And back into a fresh store on the backend under test.
      const backStorage = await options.createStorage();
      try {
        const back = new ModelStore({ storage: backStorage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache-back') });
        await other.copyModel('churn', model.model_id, back);
        expect(treeDigest(await back.download('churn', { to: path.join(work, 'back') }))).toEqual(treeDigest(there));
      } finally {
        await options.destroyStorage?.(backStorage);
      }
    }, timeout);

    it('refuses to copy an archive whose bytes no longer match the metadata', async () => {
      const metadata = await upload('churn', { modelId: 'tampered' });
      await storage.put(layout.archive('churn', new Date(metadata.code!.created_at!), 'tampered'), 'not the archive');
      const other = new ModelStore({ storage: new MemoryStorage(), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache-other') });
      await expect(store.copyModel('churn', 'tampered', other)).rejects.toBeInstanceOf(IntegrityError);
      expect((await other.storage.list('')).objects).toEqual([]);
    }, timeout);

    it('collects orphan archives past the grace period, and nothing else', async () => {
      const kept = await upload('churn', { modelId: 'kept' });
      const gone = await upload('churn', { modelId: 'gone' });
      await store.deleteModel('churn', 'gone');
      const orphanKey = layout.archive('churn', new Date(), 'never-committed');
      await storage.put(orphanKey, 'an archive whose upload died before its commit');
      // A deleted model whose archive survived a crash in the middle of its deletion.
      const deletedKey = layout.archive('churn', new Date(gone.code!.created_at!), 'gone');
      await storage.put(deletedKey, 'leftover');

      const young = await store.collectGarbage();
      expect(young.removed).toEqual([]);
      expect(young.kept.map((object) => object.key).sort()).toEqual([deletedKey, orphanKey].sort());

      const dry = await store.collectGarbage({ olderThan: 0, dryRun: true, quiesced: true });
      expect(dry.removed.map((object) => object.key).sort()).toEqual([deletedKey, orphanKey].sort());
      expect(await storage.head(orphanKey)).toBeDefined();

      const swept = await store.collectGarbage({ olderThan: 0, quiesced: true });
      expect(swept.removed.map((object) => object.key).sort()).toEqual([deletedKey, orphanKey].sort());
      expect(await storage.head(orphanKey)).toBeUndefined();
      expect(await storage.head(deletedKey)).toBeUndefined();
      expect(treeDigest(await store.download('churn', { modelId: 'kept', to: path.join(work, 'kept') }))['model.bin']).toBe(sha256(readFileSync(modelFile)));
      expect(kept.model.model_id).toBe('kept');
    }, timeout);

    it('loads a model a second time from the cache, reading no bytes from storage', async () => {
      const counted = new CountingStorage(storage);
      const cached = open(counted);
      const { model } = await cached.upload('cached', { model: modelFile });
      const first = await cached.load<string>('cached');
      counted.reset();
      const second = await cached.load<string>('cached');
      expect(second).toBe(first);
      expect(counted.bytesRead).toBe(0);
      expect(counted.calls.filter((call) => !call.startsWith('head '))).toEqual([]);
      // By id for the first time: the metadata is read, the archive is not downloaded again.
      const third = await cached.load<string>('cached', { modelId: model.model_id });
      expect(third).toBe(first);
      expect(treeDigest(third)['model.bin']).toBe(sha256(readFileSync(modelFile)));
      expect(counted.calls.filter((call) => call.startsWith('get '))).toEqual(['get ' + layout.version('cached', model.model_id)]);
      // A new latest model is noticed at once.
      await pause(5);
      counted.reset();
      const newer = await cached.upload('cached', { model: extraFiles[0]! });
      const reloaded = await cached.load<string>('cached');
      expect(reloaded).not.toBe(first);
      expect(readdirSync(reloaded)).toContain('README.txt');
      expect(newer.model.model_id).not.toBe(model.model_id);
    }, timeout);

    if (options.pythonFixture) {
      const fixture = options.pythonFixture;
      it('reads a registry written by Python modelstore', async () => {
        const expected = JSON.parse(readFileSync(path.join(fixture, 'expected.json'), 'utf8'));
        await copyTree(storage, path.join(fixture, 'registry-fs'));
        expect(await store.listDomains()).toEqual(expected.list_domains);
        expect((await store.listModelStates()).sort()).toEqual([...expected.list_model_states].sort());
        for (const [domain, facts] of Object.entries<any>(expected.domains)) {
          expect(await store.listModels(domain)).toEqual(facts.list_models);
          expect((await store.getDomain(domain)).model.model_id).toBe(facts.latest_model_id);
          for (const [state, ids] of Object.entries(facts.list_models_by_state ?? {})) {
            expect(await store.listModels(domain, { state })).toEqual(ids);
          }
          for (const [modelId, model] of Object.entries<any>(facts.models)) {
            expect((await store.getModelStates(domain, modelId)).sort()).toEqual([...model.get_model_states].sort());
            expect(await store.modelExists(domain, modelId)).toBe(model.model_exists);
            const info = await store.getModelInfo(domain, modelId);
            expect(info.model.model_type.library).toBe(model.model_type.library);
            expect(info.extra ?? null).toEqual(model.extra ?? null);
            const to = await store.download(domain, { modelId, to: path.join(work, 'py', domain, modelId) });
            expect(treeDigest(to)).toEqual(model.files_sha256);
          }
          if (facts.download_without_id_files_sha256) {
            expect(treeDigest(await store.download(domain, { to: path.join(work, 'py-latest', domain) }))).toEqual(facts.download_without_id_files_sha256);
          }
          for (const deleted of facts.deleted ? [facts.deleted.model_id as string] : []) {
            await expect(store.getModelInfo(domain, deleted)).rejects.toBeInstanceOf(ModelDeletedError);
            expect(await store.modelExists(domain, deleted)).toBe(false);
            expect(await store.listModels(domain)).not.toContain(deleted);
          }
        }
      }, timeout);
    }
  });
}
