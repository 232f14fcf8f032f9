import { describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesAdapter } from '../../test/bytes-adapter.js';
import { folderPerTest, recording, rejection } from '../../test/support.js';
import { MemoryStorage } from '../memory-storage.js';
import type { ModelMetadata } from '../metadata.js';
import { archiveKeyFromLocation } from '../registry-layout.js';
import { ModelStore } from '../model-store.js';
import { bundleKeyOf, compareCodePoints, isIgnored, manifestOf, pae, parseBundle, parseStatement, statementPayload } from './bundle.js';
import { keyHint } from './keys.js';
import { prepareSigner } from './signature.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicPem = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const privatePem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('the OMS bundle', () => {
  it('signs a statement as model_signing writes it: sorted resources, the subject digest over the raw digests, the git paths and model.sig ignored', async () => {
    const files = manifestOf([
      ['b.bin', 'b'.repeat(64)],
      ['.gitignore', 'c'.repeat(64)],
      ['model.sig', 'd'.repeat(64)],
      ['A/x', 'a'.repeat(64)],
      ['.git/HEAD', 'e'.repeat(64)],
    ]);
    expect(files.map((file) => file.name)).toEqual(['A/x', 'b.bin']);
    const payload = statementPayload('m1', files, { domain: 'd', model_id: 'm1' });
    const statement = JSON.parse(payload.toString('utf8'));
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://model_signing/signature/v1.0',
      subject: [
        {
          name: 'm1',
          digest: {
            sha256: createHash('sha256')
              .update(Buffer.from('a'.repeat(64) + 'b'.repeat(64), 'hex'))
              .digest('hex'),
          },
        },
      ],
      predicate: {
        serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['.gitattributes', '.github', '.gitignore', '.git', 'model.sig'] },
        resources: [
          { name: 'A/x', algorithm: 'sha256', digest: 'a'.repeat(64) },
          { name: 'b.bin', algorithm: 'sha256', digest: 'b'.repeat(64) },
        ],
        modelstore: { domain: 'd', model_id: 'm1' },
      },
    });
    expect(parseStatement(payload, 'x')).toEqual({ subjectName: 'm1', files, ignorePaths: statement.predicate.serialization.ignore_paths, binding: { domain: 'd', model_id: 'm1' } });
    expect(pae(Buffer.from('{}')).toString()).toBe('DSSEv1 28 application/vnd.in-toto+json 2 {}');
    const bundle = JSON.parse(await prepareSigner({ privateKey: privatePem }, 'test').bundle(payload));
    expect(bundle).toMatchObject({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: createHash('sha256').update(publicPem).digest('hex') }, tlogEntries: [] },
      dsseEnvelope: { payloadType: 'application/vnd.in-toto+json', signatures: [{ keyid: '' }] },
    });
    expect(parseBundle(JSON.stringify(bundle), 'x').payload.equals(payload)).toBe(true);
  });

  it('the key hint is the sha256 of the SubjectPublicKeyInfo PEM text; names sort by code point, as Python sorts', () => {
    expect(keyHint(ec.publicKey)).toBe(createHash('sha256').update(publicPem).digest('hex'));
    expect(['\u{1F600}', '\uFFFF', 'a'].sort(compareCodePoints)).toEqual(['a', '\uFFFF', '\u{1F600}']);
    expect(isIgnored('.git/objects/x', ['.git'])).toBe(true);
    expect(isIgnored('.gitx', ['.git'])).toBe(false);
    expect(bundleKeyOf('operatorai-model-store/d/2026.01.01-00.00.00/m1/artifacts.tar.gz')).toBe('operatorai-model-store/d/2026.01.01-00.00.00/m1/model.sig');
  });

  it('a statement whose resources do not hash to its subject digest, or that is not a v1.0 model statement, is refused', () => {
    const statement = JSON.parse(statementPayload('m', manifestOf([['a', 'a'.repeat(64)]]), undefined).toString());
    statement.predicate.resources[0].digest = 'b'.repeat(64);
    expect(() => parseStatement(Buffer.from(JSON.stringify(statement)), 'x')).toThrow(expect.objectContaining({ code: 'SIGNATURE', reason: 'malformed' }));
    expect(() => parseStatement(Buffer.from(JSON.stringify({ ...statement, predicateType: 'https://example.com/x' })), 'x')).toThrow(expect.objectContaining({ reason: 'unsupported' }));
    expect(() => parseBundle('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{}}', 'x')).toThrow(expect.objectContaining({ reason: 'unsupported' }));
    expect(() => parseBundle('[]', 'x')).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });
});

describe('verification in the store', () => {
  const folder = folderPerTest('modelstore-signing-');

  it('a load cache hit re-hashes the cached files against the bundle: a cached file changed on disk is removed and the model extracted afresh from the store', async () => {
    const storage = new MemoryStorage();
    const cacheDir = path.join(folder.path, 'cache');
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir, verify: { publicKey: publicPem } });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm1', sign: { privateKey: privatePem } });
    expect((await store.load<Buffer>('d', { modelId: 'm1' })).toString()).toBe('weights');
    const [entry] = readdirSync(path.join(cacheDir, 'models'));
    const cached = path.join(cacheDir, 'models', entry!, 'model.bin');
    // The cache holds the model's files; the bundle is read from the store at each load.
    expect(readdirSync(path.join(cacheDir, 'models', entry!)).sort()).toEqual(['model-info.json', 'model.bin']);
    // Through the cached pointer of a model id, and through the domain's latest.
    for (const options of [{ modelId: 'm1' }, {}]) {
      writeFileSync(cached, 'poisoned');
      expect((await store.load<Buffer>('d', options)).toString()).toBe('weights');
      expect(readFileSync(cached, 'utf8')).toBe('weights');
    }
    writeFileSync(path.join(cacheDir, 'models', entry!, 'added.py'), 'import os');
    expect((await store.load<Buffer>('d', { modelId: 'm1' })).toString()).toBe('weights');
    expect(readdirSync(path.join(cacheDir, 'models', entry!)).sort()).toEqual(['model-info.json', 'model.bin']);
    // `verify: false` skips the store's default: the cache is not checked.
    writeFileSync(cached, 'poisoned');
    expect((await store.load<Buffer>('d', { modelId: 'm1', verify: false })).toString()).toBe('poisoned');
    // The store's copy fails too (its bundle now signs other bytes, with the same key and binding): SignatureError, nothing cached.
    const files = manifestOf([
      ['model-info.json', sha(JSON.stringify({ library: 'bytes' }))],
      ['model.bin', sha('other')],
    ]);
    await storage.put(bundleKeyOf(archiveKey(await store.getModelInfo('d', 'm1'))), await prepareSigner({ privateKey: privatePem }, 'test').bundle(statementPayload('m1', files, { domain: 'd', model_id: 'm1' })));
    expect(await rejection(store.load('d', { modelId: 'm1' }))).toMatchObject({ code: 'SIGNATURE', reason: 'tampered', files: ['model.bin'] });
    expect(existsSync(cached)).toBe(false);
    expect(await rejection(store.load('d', {}))).toMatchObject({ code: 'SIGNATURE', reason: 'tampered' });
  });

  it('verifyModel writes nothing: the store is unchanged and its temporary folder is removed', async () => {
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm1', sign: { privateKey: privatePem } });
    const before = (await storage.list('')).objects.map((object) => `${object.key} ${object.etag}`);
    const temporary = () => readdirSync(tmpdir()).filter((name) => name.startsWith('modelstore-signing-')).length;
    const count = temporary();
    expect(await store.verifyModel('d', undefined, { publicKey: publicPem })).toMatchObject({ verified: true, subjectName: 'm1', files: [{ name: 'model-info.json' }, { name: 'model.bin' }] });
    expect((await storage.list('')).objects.map((object) => `${object.key} ${object.etag}`)).toEqual(before);
    expect(temporary()).toBe(count);
    expect(existsSync(path.join(folder.path, 'cache'))).toBe(false);
  });

  it('getSignature of an unsigned model this library uploaded answers without reading its archive', async () => {
    const memory = new MemoryStorage();
    const store = new ModelStore({ storage: memory, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm1' });
    const { storage, calls } = recording(memory);
    const reader = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    expect(await reader.getSignature('d', 'm1')).toBeUndefined();
    expect(calls.filter((call) => call.endsWith('artifacts.tar.gz'))).toEqual([]);
    expect(calls.filter((call) => call.startsWith('get ') && call.endsWith('/model.sig'))).toHaveLength(1);
  });

  it("collectGarbage removes a deleted model's bundle once it is older than the grace period", async () => {
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm1', sign: { privateKey: privatePem } });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm2', sign: { privateKey: privatePem } });
    const bundleKey = (await store.getSignature('d', 'm1'))!.key;
    await store.deleteModel('d', 'm1');
    expect(await storage.head(bundleKey)).toBeDefined();
    expect((await store.collectGarbage({ olderThan: 60_000, quiesced: true })).removed).toEqual([]);
    const report = await store.collectGarbage({ olderThan: 0, quiesced: true, now: new Date(Date.now() + 1000) });
    expect(report.removed.map((object) => object.key)).toEqual([bundleKey]);
    expect(await storage.head(bundleKey)).toBeUndefined();
    expect(await store.verifyModel('d', 'm2', { publicKey: publicPem })).toMatchObject({ verified: true });
  });

  it('a model whose archive holds a top-level model.sig (a folder signed with model_signing) is verified by it', async () => {
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    // Sign a folder's files as model_signing does (no binding), then upload the folder with its
    // bundle: the upload adds model-info.json, which the folder's signature cannot list.
    const payload = statementPayload('folder', manifestOf([['model.bin', sha('weights')]]), undefined);
    const bundle = await prepareSigner({ privateKey: privatePem }, 'test').bundle(payload);
    const withBundle = {
      ...bytesAdapter,
      save: async (model: Buffer) => ({
        files: [
          { path: 'model.bin', source: model },
          { path: 'model.sig', source: Buffer.from(bundle) },
        ],
      }),
    };
    const folderStore = new ModelStore({ storage, adapters: [withBundle], cacheDir: path.join(folder.path, 'cache') });
    await folderStore.upload('d', { model: Buffer.from('weights'), modelId: 'm1' });
    expect(await store.getSignature('d', 'm1')).toMatchObject({ kind: 'public-key', subjectName: 'folder', verified: false });
    const to = path.join(folder.path, 'out');
    // Unbound (no domain / model id in it): refused unless allowed.
    expect(await rejection(store.download('d', { modelId: 'm1', to, verify: { publicKey: publicPem } }))).toMatchObject({ code: 'SIGNATURE', reason: 'unbound' });
    expect(existsSync(to)).toBe(false);
    expect(await store.download('d', { modelId: 'm1', to, verify: { publicKey: publicPem, allowUnbound: true } })).toBe(to);
    expect(readFileSync(path.join(to, 'model.sig'), 'utf8')).toBe(bundle);
    // Its own files are still checked.
    const other = {
      ...bytesAdapter,
      save: async (model: Buffer) => ({
        files: [
          { path: 'model.bin', source: model },
          { path: 'model.sig', source: Buffer.from(bundle) },
        ],
      }),
    };
    await new ModelStore({ storage, adapters: [other], cacheDir: path.join(folder.path, 'cache') }).upload('d', { model: Buffer.from('changed'), modelId: 'm2' });
    expect(await rejection(store.verifyModel('d', 'm2', { publicKey: publicPem, allowUnbound: true }))).toMatchObject({ reason: 'tampered', files: ['model.bin'] });
    // The bundle as an extra file (extras/model.sig), as Python modelstore stores a signed folder's other files.
    const bundleFile = path.join(folder.path, 'model.sig');
    writeFileSync(bundleFile, bundle);
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm3', extraFiles: [bundleFile] });
    expect(await store.verifyModel('d', 'm3', { publicKey: publicPem, allowUnbound: true })).toMatchObject({ verified: true, subjectName: 'folder', bound: false });
    expect(await rejection(store.verifyModel('d', 'm3', { publicKey: publicPem }))).toMatchObject({ reason: 'unbound' });
    // Signing it again needs overwrite, as for a bundle stored beside the archive; then it is bound.
    expect(await rejection(store.signModel('d', 'm3', { privateKey: privatePem }))).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/already signed by the extras\/model\.sig inside its archive/) });
    expect(await rejection(store.signModel('d', 'm1', { privateKey: privatePem }))).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/already signed by the model\.sig inside/) });
    expect(await store.signModel('d', 'm3', { privateKey: privatePem }, { overwrite: true })).toMatchObject({ bound: true });
    expect(await store.verifyModel('d', 'm3', { publicKey: publicPem })).toMatchObject({ verified: true, bound: true });
    await store.upload('d', { model: Buffer.from('other'), modelId: 'm4', extraFiles: [bundleFile] });
    expect(await rejection(store.load('d', { modelId: 'm4', verify: { publicKey: publicPem, allowUnbound: true } }))).toMatchObject({ reason: 'tampered', files: ['model.bin'] });
  });

  it("the swap attack: with unbound bundles stored beside the archives, pointing A at B's archive is refused by default", async () => {
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    await store.upload('d', { model: Buffer.from('good weights'), modelId: 'a' });
    await store.upload('d', { model: Buffer.from('other weights'), modelId: 'b' });
    // Both signed with model_signing's statement (no binding), stored beside their archives.
    const signer = prepareSigner({ privateKey: privatePem }, 'test');
    for (const id of ['a', 'b']) {
      const files = (await store.getModelInfo('d', id)).archive!.files!;
      const payload = statementPayload(id, manifestOf(Object.entries(files).map(([name, file]) => [name, file.sha256])), undefined);
      await storage.put(bundleKeyOf(archiveKey(await store.getModelInfo('d', id))), await signer.bundle(payload));
    }
    expect(await store.getSignature('d', 'a')).toMatchObject({ bound: false });
    // The attacker (store write access, no key) points a's metadata at b's archive and bundle.
    const aKey = 'operatorai-model-store/d/versions/a.json';
    const a = await store.getModelInfo('d', 'a');
    const b = await store.getModelInfo('d', 'b');
    await storage.put(aKey, JSON.stringify({ ...a, storage: b.storage, archive: b.archive }));
    expect(await rejection(store.verifyModel('d', 'a', { publicKey: publicPem }))).toMatchObject({ code: 'SIGNATURE', reason: 'unbound' });
    expect(await rejection(store.load('d', { modelId: 'a', verify: { publicKey: publicPem } }))).toMatchObject({ reason: 'unbound' });
    // Accepting unbound bundles accepts the swap: that is what allowUnbound means.
    expect(await store.verifyModel('d', 'a', { publicKey: publicPem, allowUnbound: true })).toMatchObject({ verified: true, bound: false, subjectName: 'b' });
    // Our own signatures are bound: re-signing binds it, and then the swap is refused as such.
    await storage.put(aKey, JSON.stringify(a));
    expect(await store.signModel('d', 'a', { privateKey: privatePem }, { overwrite: true })).toMatchObject({ bound: true });
    await store.signModel('d', 'b', { privateKey: privatePem }, { overwrite: true });
    expect(await store.verifyModel('d', 'a', { publicKey: publicPem })).toMatchObject({ verified: true, bound: true });
    await storage.put(aKey, JSON.stringify({ ...a, storage: b.storage, archive: b.archive }));
    expect(await rejection(store.verifyModel('d', 'a', { publicKey: publicPem, allowUnbound: true }))).toMatchObject({ reason: 'tampered' });
  });

  it('key rotation: any one of several public keys verifies and the result names its hint; a private key or both modes is InvalidOptionError', async () => {
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    const old = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const oldPem = old.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm1', sign: { privateKey: old.privateKey } });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm2', sign: { privateKey: privatePem } });
    expect(await store.verifyModel('d', 'm1', { publicKey: [publicPem, oldPem] })).toMatchObject({ verified: true, keyHint: keyHint(old.publicKey) });
    expect(await store.verifyModel('d', 'm2', { publicKey: [oldPem, ec.publicKey] })).toMatchObject({ verified: true, keyHint: keyHint(ec.publicKey) });
    const third = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const wrong = await rejection(store.verifyModel('d', 'm2', { publicKey: [oldPem, third] }));
    expect(wrong).toMatchObject({ reason: 'wrong-key' });
    expect((wrong as Error).message).toMatch(/do not use this model/);
    expect(await rejection(store.verifyModel('d', 'm2', { publicKey: [] }))).toMatchObject({ code: 'INVALID_OPTION' });
    for (const key of [privatePem, ec.privateKey, [publicPem, privatePem]]) {
      const error = await rejection(store.verifyModel('d', 'm2', { publicKey: key as string }));
      expect(error).toMatchObject({ code: 'INVALID_OPTION' });
      expect((error as Error).message).toMatch(/openssl pkey .*-pubout/);
    }
    expect(() => new ModelStore({ storage, verify: { publicKey: privatePem } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(await rejection(store.upload('d', { model: Buffer.from('x'), modelId: 'm3', sign: { publicKey: privatePem, sign: () => new Uint8Array() } }))).toMatchObject({ code: 'INVALID_OPTION' });
    expect(await rejection(store.verifyModel('d', 'm2', { publicKey: publicPem, certificate: 'x' } as never))).toMatchObject({ code: 'INVALID_OPTION' });
    expect(await rejection(store.verifyModel('d', 'm2', { publicKey: publicPem, allowUnbound: 'yes' } as never))).toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('files a signature cannot cover: a top-level .git/ or .github/ fails verification; .gitignore and .gitattributes are listed as unsigned', async () => {
    const storage = new MemoryStorage();
    const withFiles = (extra: Record<string, string>) => ({
      ...bytesAdapter,
      save: async (model: Buffer) => ({ files: [{ path: 'model.bin', source: model }, ...Object.entries(extra).map(([name, text]) => ({ path: name, source: Buffer.from(text) }))] }),
    });
    const cacheDir = path.join(folder.path, 'cache');
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir });
    // An attacker adds .git/config to a signed archive: model_signing's manifests never list .git, so the files "match".
    const evil = new ModelStore({ storage, adapters: [withFiles({ '.git/config': '[core]\n\tfsmonitor = touch pwned\n' })], cacheDir });
    await evil.upload('d', { model: Buffer.from('weights'), modelId: 'm1' });
    const signer = prepareSigner({ privateKey: privatePem }, 'test');
    const signed = (files: string[]) => manifestOf([['model-info.json', sha(JSON.stringify({ library: 'bytes' }))], ['model.bin', sha('weights')], ...files.map((name) => [name, 'f'.repeat(64)] as [string, string])]);
    const m1 = await store.getModelInfo('d', 'm1');
    await storage.put(bundleKeyOf(archiveKey(m1)), await signer.bundle(statementPayload('m1', signed(['.git/config']), { domain: 'd', model_id: 'm1' })));
    const refused = await rejection(store.verifyModel('d', 'm1', { publicKey: publicPem }));
    expect(refused).toMatchObject({ code: 'SIGNATURE', reason: 'tampered', files: ['.git/config'] });
    expect((refused as Error).message).toMatch(/never covered by a model signature/);
    const to = path.join(folder.path, 'out');
    expect(await rejection(store.download('d', { modelId: 'm1', to, verify: { publicKey: publicPem } }))).toMatchObject({ reason: 'tampered', files: ['.git/config'] });
    expect(existsSync(to)).toBe(false);
    expect(await rejection(store.load('d', { modelId: 'm1', verify: { publicKey: publicPem } }))).toMatchObject({ reason: 'tampered' });
    // .gitignore and .gitattributes are inert: verified, and named as unsigned.
    await new ModelStore({ storage, adapters: [withFiles({ '.gitignore': '*.tmp\n', '.gitattributes': '*.bin filter=lfs\n' })], cacheDir }).upload('d', { model: Buffer.from('weights'), modelId: 'm2', sign: { privateKey: privatePem } });
    expect(await store.verifyModel('d', 'm2', { publicKey: publicPem })).toMatchObject({ verified: true, unsigned: ['.gitattributes', '.gitignore'] });
    expect((await store.verifyModel('d', 'm2', { publicKey: publicPem })).files.map((file) => file.name)).toEqual(['model-info.json', 'model.bin']);
    expect(await store.download('d', { modelId: 'm2', to, verify: { publicKey: publicPem } })).toBe(to);
    // A model with nothing unsigned has no list.
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm3', sign: { privateKey: privatePem } });
    expect(await store.verifyModel('d', 'm3', { publicKey: publicPem })).not.toHaveProperty('unsigned');
    // A signed upload (or signModel) of a folder holding .git/ or .github/ is refused before anything is written.
    const before = (await storage.list('')).objects.length;
    for (const extra of [{ '.git/HEAD': 'ref: refs/heads/main\n' }, { '.github/workflows/x.yml': 'on: push\n' }] as Record<string, string>[]) {
      const error = await rejection(new ModelStore({ storage, adapters: [withFiles(extra)], cacheDir }).upload('d', { model: Buffer.from('w'), modelId: 'm4', sign: { privateKey: privatePem } }));
      expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'sign' });
      expect((error as Error).message).toMatch(/Remove \.git(hub)?\/ .*or upload without sign/);
    }
    expect((await storage.list('')).objects.length).toBe(before);
    expect(await rejection(store.signModel('d', 'm1', { privateKey: privatePem }, { overwrite: true }))).toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('an unsigned model: the message says a removed signature means do not use it, and only then how to sign', async () => {
    const store = new ModelStore({ storage: new MemoryStorage(), adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm1' });
    const error = await rejection(store.verifyModel('d', 'm1', { publicKey: publicPem }));
    expect(error).toMatchObject({ code: 'SIGNATURE', reason: 'unsigned' });
    expect((error as Error).message).toMatch(
      /If this model was signed before, its signature was removed: do not use it; re-upload it from a trusted source\. Only a model whose files you know .* should be signed now: signModel\("d", "m1", signer\)/,
    );
  });

  it('messages say what to do: tampered, wrong-key and malformed bundles; an encrypted key without passphrase; a public key given to sign; a sign callback that throws', async () => {
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(folder.path, 'cache') });
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm1', sign: { privateKey: privatePem } });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const wrong = await rejection(store.verifyModel('d', 'm1', { publicKey: other }));
    expect(wrong).toMatchObject({ reason: 'wrong-key' });
    expect((wrong as Error).message).toMatch(/verify it with the signer's public key; if this key should have signed it, do not use this model: download it again from a trusted store, or re-upload it/);
    const key = bundleKeyOf(archiveKey(await store.getModelInfo('d', 'm1')));
    const bundle = JSON.parse(await readStored(storage, key));
    bundle.dsseEnvelope.signatures[0].sig = Buffer.alloc(64, 1).toString('base64');
    await storage.put(key, JSON.stringify(bundle));
    const tampered = await rejection(store.verifyModel('d', 'm1', { publicKey: publicPem }));
    expect(tampered).toMatchObject({ reason: 'tampered' });
    expect((tampered as Error).message).toMatch(/do not use this model: download it again from a trusted store/);
    await storage.put(key, 'not json');
    const malformed = await rejection(store.verifyModel('d', 'm1', { publicKey: publicPem }));
    expect(malformed).toMatchObject({ reason: 'malformed' });
    expect((malformed as Error).message).toMatch(/Do not use this model: download it again from a trusted store, or re-upload it/);
    // Keys given to sign.
    const encrypted = ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
    const noPassphrase = await rejection(store.signModel('d', 'm1', { privateKey: encrypted }, { overwrite: true }));
    expect(noPassphrase).toMatchObject({ code: 'SIGNATURE', reason: 'malformed' });
    expect((noPassphrase as Error).message).toMatch(/signer\.privateKey is encrypted: pass its passphrase/);
    expect(((await rejection(store.signModel('d', 'm1', { privateKey: encrypted, passphrase: 'wrong' }, { overwrite: true }))) as Error).message).toMatch(/cannot be decrypted with the given passphrase/);
    expect(await store.signModel('d', 'm1', { privateKey: encrypted, passphrase: 'secret' }, { overwrite: true })).toMatchObject({ bound: true });
    expect(((await rejection(store.signModel('d', 'm1', { privateKey: publicPem }, { overwrite: true }))) as Error).message).toMatch(/signer\.privateKey is a public key/);
    const cause = new Error('KMS: access denied');
    const failed = await rejection(store.signModel('d', 'm1', { publicKey: publicPem, sign: () => Promise.reject(cause) }, { overwrite: true }));
    expect(failed).toMatchObject({ code: 'SIGNATURE', reason: 'signing-failed', cause });
    expect((failed as Error).message).toMatch(/signer\.sign failed: KMS: access denied/);
    const before = (await storage.list('')).objects.length;
    expect(
      await rejection(
        store.upload('d', {
          model: Buffer.from('w'),
          modelId: 'm2',
          sign: {
            publicKey: publicPem,
            sign: () => {
              throw cause;
            },
          },
        }),
      ),
    ).toMatchObject({ reason: 'signing-failed', cause });
    expect((await storage.list('')).objects.length).toBe(before);
  });
});

async function readStored(storage: MemoryStorage, key: string): Promise<string> {
  const object = await storage.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of object!.body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
const archiveKey = (metadata: ModelMetadata) => archiveKeyFromLocation(metadata.storage)!;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
