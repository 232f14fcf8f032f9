/**
 * Signed models on a storage (OpenSSF Model Signing): a signed model loads and downloads;
 * a tampered, foreign-signed or unsigned one is refused with `SignatureError` before
 * anything is written to the destination or the load cache. Tamper cases are made as an
 * attacker with write access to the store but not the key would make them: archives and
 * their recorded digests rewritten consistently, files added or removed, metadata swapped.
 *
 * Certificates are made in the run with the `openssl` command (no private key is
 * committed); a machine without it fails the certificate tests with how to install it.
 */
import { RawAdapter } from '@modelstore/adapter-raw';
import { listCache, ModelStore, SignatureError, type ModelSignatureInfo, type Storage } from '@modelstore/core';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as signData } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { resolveTestApi, type ConformanceTestApi } from './test-api.js';

/** Options of {@link describeSigningConformance}. */
export interface SigningConformanceOptions {
  /** The suite's name, e.g. `FileSystemStorage`. */
  name: string;
  /** A fresh, empty storage for each test. */
  createStorage(): Storage | Promise<Storage>;
  destroyStorage?(storage: Storage): void | Promise<void>;
  /** The runner's functions; default `@jest/globals`. */
  test?: ConformanceTestApi;
}

const registry = 'operatorai-model-store';

interface KeyPair {
  privateKey: string;
  publicKey: string;
}

function keyPair(type: 'ec' | 'ed25519' | 'rsa', namedCurve = 'P-256'): KeyPair {
  const options = type === 'ec' ? { namedCurve } : type === 'rsa' ? { modulusLength: 2048 } : {};
  const pair = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
  return { privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** Runs `openssl`; a machine without it fails with how to install it. */
function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') throw new Error('The certificate tests make their certificates with the openssl command, which is not installed: apt-get install openssl (or brew install openssl)');
    throw new Error(`openssl ${args.join(' ')} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
}

/** A CA, and a way to issue certificates under it. */
interface TestPki {
  rootPem: string;
  intermediatePem: string;
  /** A signing key and its certificate (issued by the intermediate) with these extensions. */
  leaf(name: string, extensions: string): { privateKey: string; certificatePem: string };
}

function makePki(folder: string, label: string): TestPki {
  mkdirSync(folder, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'root.key', '-out', 'root.pem', '-subj', `/CN=${label} Root`, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], folder);
  writeFileSync(path.join(folder, 'ca.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl(['req', '-new', ...ec, '-keyout', 'intermediate.key', '-out', 'intermediate.csr', '-subj', `/CN=${label} Intermediate`], folder);
  openssl(['x509', '-req', '-in', 'intermediate.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'intermediate.pem', '-days', '1825', '-extfile', 'ca.ext'], folder);
  return {
    rootPem: readFileSync(path.join(folder, 'root.pem'), 'utf8'),
    intermediatePem: readFileSync(path.join(folder, 'intermediate.pem'), 'utf8'),
    leaf(name, extensions) {
      writeFileSync(path.join(folder, `${name}.ext`), extensions);
      openssl(['req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], folder);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'intermediate.pem', '-CAkey', 'intermediate.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-extfile', `${name}.ext`], folder);
      return { privateKey: readFileSync(path.join(folder, `${name}.key`), 'utf8'), certificatePem: readFileSync(path.join(folder, `${name}.pem`), 'utf8') };
    },
  };
}

/** The error `promise` rejects with (undefined when it fulfils). */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** Reads every entry of a gzipped tar: path → bytes (files) or null (directories). */
async function readArchive(bytes: Buffer): Promise<Map<string, Buffer | null>> {
  const entries = new Map<string, Buffer | null>();
  const extract = tar.extract();
  const done = pipeline(Readable.from([bytes]), createGunzip(), extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.set(entry.header.name.replace(/\/$/, ''), entry.header.type === 'directory' ? null : Buffer.concat(chunks));
  }
  await done;
  return entries;
}

async function writeArchive(entries: Map<string, Buffer | null>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, data] of entries) {
    if (data === null) pack.entry({ name, type: 'directory', mode: 0o755 });
    else pack.entry({ name, mode: 0o644, size: data.length }, data);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return gzipSync(Buffer.concat(chunks));
}

async function readText(storage: Storage, key: string): Promise<string> {
  const object = await storage.get(key);
  if (!object) throw new Error(`${key} is missing`);
  const chunks: Buffer[] = [];
  for await (const chunk of object.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Rewrites a model's archive as an attacker with write access but no key would: `edit`
 * changes the entries, and the metadata's recorded archive digest, size and per-file
 * digests are rewritten to match, so the integrity checks alone pass.
 */
async function tamper(storage: Storage, domain: string, modelId: string, edit: (entries: Map<string, Buffer | null>) => void): Promise<void> {
  const versionKey = `${registry}/${domain}/versions/${modelId}.json`;
  const metadata = JSON.parse(await readText(storage, versionKey)) as { storage: { path?: string; prefix?: string }; archive?: Record<string, unknown> };
  const archiveKey = await archiveKeyOf(storage, domain, modelId);
  const object = await storage.get(archiveKey);
  const chunks: Buffer[] = [];
  for await (const chunk of object!.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  const entries = await readArchive(Buffer.concat(chunks));
  edit(entries);
  const bytes = await writeArchive(entries);
  await storage.put(archiveKey, bytes);
  const files: Record<string, { sha256: string; size: number }> = {};
  const directories = new Set<string>();
  for (const [name, data] of entries) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
    if (data === null) directories.add(name);
    else files[name] = { sha256: sha256(data), size: data.length };
  }
  metadata.archive = { ...metadata.archive, sha256: sha256(bytes), size: bytes.length, files, directories: [...directories].sort() };
  await storage.put(versionKey, JSON.stringify(metadata));
}

/** The archive's key of a model, found by listing (the folder holds artifacts.tar.gz and model.sig). */
async function archiveKeyOf(storage: Storage, domain: string, modelId: string): Promise<string> {
  const { objects } = await storage.list(`${registry}/${domain}/`);
  const found = objects.find((object) => object.key.endsWith(`/${modelId}/artifacts.tar.gz`));
  if (!found) throw new Error(`no archive for ${domain}/${modelId}`);
  return found.key;
}

/** Registers the signing suite for one storage. */
export function describeSigningConformance(options: SigningConformanceOptions): void {
  const { describe, it, expect, beforeEach, afterEach } = resolveTestApi(options.test);

  describe(`${options.name}: signed models (OpenSSF Model Signing)`, () => {
    let storage: Storage;
    let folder: string;
    let store: ModelStore;
    let model: string;
    const ec = keyPair('ec');
    const otherEc = keyPair('ec', 'P-384');

    beforeEach(async () => {
      storage = await options.createStorage();
      folder = mkdtempSync(path.join(tmpdir(), 'modelstore-signing-'));
      model = path.join(folder, 'model');
      mkdirSync(path.join(model, 'sub'), { recursive: true });
      writeFileSync(path.join(model, 'weights.bin'), Buffer.alloc(4096, 7));
      writeFileSync(path.join(model, 'config.json'), '{"layers": 2}');
      writeFileSync(path.join(model, 'sub', 'vocab.txt'), 'a\nb\nc\n');
      store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(folder, 'cache') });
    });

    afterEach(async () => {
      rmSync(folder, { recursive: true, force: true });
      await options.destroyStorage?.(storage);
    });

    const to = () => path.join(folder, 'out');
    /** Nothing was written to `to` nor to the load cache. */
    const nothingWritten = async () => {
      expect(existsSync(to()) && readdirSync(to()).length > 0).toBe(false);
      expect(await listCache(path.join(folder, 'cache'))).toEqual([]);
    };
    /** Download and load both refuse with `reason`, writing nothing. */
    const refused = async (modelId: string, verify: { publicKey: string } | { certificate: string; identity?: string }, reason: string) => {
      const download = await rejection(store.download('signed', { modelId, to: to(), verify }));
      expect(SignatureError.isInstance(download)).toBe(true);
      expect(download).toMatchObject({ code: 'SIGNATURE', reason });
      const load = await rejection(store.load('signed', { modelId, verify }));
      expect(load).toMatchObject({ code: 'SIGNATURE', reason });
      await nothingWritten();
      return download as SignatureError;
    };

    it('a signed model downloads with model.sig and loads; verifyModel and getSignature describe it', async () => {
      const { model: uploaded } = await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      expect(uploaded.model_id).toBe('m1');
      const archiveKey = await archiveKeyOf(storage, 'signed', 'm1');
      expect(await storage.head(`${path.posix.dirname(archiveKey)}/model.sig`)).toBeDefined();
      await store.download('signed', { modelId: 'm1', to: to(), verify: { publicKey: ec.publicKey } });
      expect(readdirSync(to()).sort()).toEqual(['config.json', 'model-info.json', 'model.sig', 'sub', 'weights.bin']);
      const bundle = JSON.parse(readFileSync(path.join(to(), 'model.sig'), 'utf8')) as { mediaType: string };
      expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      const loaded = await store.load<string>('signed', { modelId: 'm1', verify: { publicKey: ec.publicKey } });
      expect(readFileSync(path.join(loaded, 'weights.bin')).length).toBe(4096);
      // A cache hit is checked again.
      await store.load('signed', { modelId: 'm1', verify: { publicKey: ec.publicKey } });
      const verified = await store.verifyModel('signed', 'm1', { publicKey: ec.publicKey });
      expect(verified).toMatchObject({ kind: 'public-key', verified: true, key: `${path.posix.dirname(archiveKey)}/model.sig` });
      expect(verified.files.map((file) => file.name)).toEqual(['config.json', 'model-info.json', 'sub/vocab.txt', 'weights.bin']);
      const info = (await store.getSignature('signed', 'm1')) as ModelSignatureInfo;
      expect(info).toMatchObject({ kind: 'public-key', verified: false, keyHint: verified.keyHint });
      // The store-wide default, and `verify: false` to skip it.
      const strict = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(folder, 'cache2'), verify: { publicKey: otherEc.publicKey } });
      expect(await rejection(strict.download('signed', { modelId: 'm1', to: path.join(folder, 'strict') }))).toMatchObject({ reason: 'wrong-key' });
      await strict.download('signed', { modelId: 'm1', to: path.join(folder, 'strict'), verify: false });
    });

    it('one byte of one file changed (archive and recorded digests rewritten): tampered, nothing written', async () => {
      await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      await tamper(storage, 'signed', 'm1', (entries) => {
        const data = Buffer.from(entries.get('weights.bin')!);
        data[100] = data[100]! ^ 1;
        entries.set('weights.bin', data);
      });
      // The integrity checks pass: without verify the tampered model downloads.
      await store.download('signed', { modelId: 'm1', to: path.join(folder, 'unchecked') });
      const error = await refused('m1', { publicKey: ec.publicKey }, 'tampered');
      expect(error.files).toEqual(['weights.bin']);
      expect(error.message).toMatch(/weights\.bin/);
    });

    it('a file added: tampered', async () => {
      await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      await tamper(storage, 'signed', 'm1', (entries) => entries.set('sub/extra.py', Buffer.from('import os')));
      expect((await refused('m1', { publicKey: ec.publicKey }, 'tampered')).files).toEqual(['sub/extra.py']);
    });

    it('a file removed: tampered', async () => {
      await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      await tamper(storage, 'signed', 'm1', (entries) => entries.delete('config.json'));
      expect((await refused('m1', { publicKey: ec.publicKey }, 'tampered')).files).toEqual(['config.json']);
    });

    it("the metadata swapped for another signed model's: tampered", async () => {
      await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      writeFileSync(path.join(model, 'weights.bin'), Buffer.alloc(4096, 9));
      await store.upload('signed', { model, modelId: 'm2', sign: { privateKey: ec.privateKey } });
      await storage.put(`${registry}/signed/versions/m1.json`, await readText(storage, `${registry}/signed/versions/m2.json`));
      const error = await refused('m1', { publicKey: ec.publicKey }, 'tampered');
      expect(error.message).toMatch(/belongs to model "m2"/);
    });

    it('another key: wrong-key; an unsigned model: unsigned', async () => {
      await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      await refused('m1', { publicKey: otherEc.publicKey }, 'wrong-key');
      await store.upload('signed', { model, modelId: 'plain' });
      await refused('plain', { publicKey: ec.publicKey }, 'unsigned');
      expect(await store.getSignature('signed', 'plain')).toBeUndefined();
      expect(await rejection(store.verifyModel('signed', 'plain', { publicKey: ec.publicKey }))).toMatchObject({ reason: 'unsigned' });
    });

    it('Ed25519 and RSA round trips; a KMS-style callback signer', async () => {
      const ed = keyPair('ed25519');
      const rsa = keyPair('rsa');
      await store.upload('signed', { model, modelId: 'ed', sign: { privateKey: ed.privateKey } });
      await store.upload('signed', { model, modelId: 'rsa', sign: { privateKey: rsa.privateKey } });
      await store.download('signed', { modelId: 'ed', to: to(), verify: { publicKey: ed.publicKey } });
      await store.load('signed', { modelId: 'rsa', verify: { publicKey: rsa.publicKey } });
      expect(await rejection(store.verifyModel('signed', 'ed', { publicKey: rsa.publicKey }))).toMatchObject({ reason: 'wrong-key' });
      let calls = 0;
      const kms = {
        publicKey: ec.publicKey,
        sign(data: Uint8Array) {
          calls++;
          return signData('sha256', data, { key: ec.privateKey, dsaEncoding: 'der' });
        },
      };
      await store.upload('signed', { model, modelId: 'kms', sign: kms });
      expect(calls).toBe(1);
      expect(await store.verifyModel('signed', 'kms', { publicKey: ec.publicKey })).toMatchObject({ verified: true });
      // A callback whose signature does not match its public key stores nothing.
      const liar = { publicKey: otherEc.publicKey, sign: kms.sign };
      expect(await rejection(store.upload('signed', { model, modelId: 'liar', sign: liar }))).toMatchObject({ code: 'SIGNATURE', reason: 'wrong-key' });
      expect(await store.modelExists('signed', 'liar')).toBe(false);
    });

    it('signModel signs an unsigned model, refuses to re-sign without overwrite, and rotates keys with it', async () => {
      await store.upload('signed', { model, modelId: 'm1' });
      const signed = await store.signModel('signed', 'm1', { privateKey: ec.privateKey });
      expect(signed.files.map((file) => file.name)).toEqual(['config.json', 'model-info.json', 'sub/vocab.txt', 'weights.bin']);
      await store.download('signed', { modelId: 'm1', to: to(), verify: { publicKey: ec.publicKey } });
      expect(await rejection(store.signModel('signed', 'm1', { privateKey: otherEc.privateKey }))).toMatchObject({ code: 'PRECONDITION_FAILED' });
      await store.signModel('signed', 'm1', { privateKey: otherEc.privateKey }, { overwrite: true });
      expect(await store.verifyModel('signed', 'm1', { publicKey: otherEc.publicKey })).toMatchObject({ verified: true });
      expect(await rejection(store.verifyModel('signed', 'm1', { publicKey: ec.publicKey }))).toMatchObject({ reason: 'wrong-key' });
    });

    it('signModel signs what is stored: an archive that differs from its recorded digests is refused', async () => {
      await store.upload('signed', { model, modelId: 'm1' });
      const archiveKey = await archiveKeyOf(storage, 'signed', 'm1');
      const object = await storage.get(archiveKey);
      const chunks: Buffer[] = [];
      for await (const chunk of object!.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
      const entries = await readArchive(Buffer.concat(chunks));
      entries.set('weights.bin', Buffer.alloc(4096, 1));
      await storage.put(archiveKey, await writeArchive(entries));
      expect(await rejection(store.signModel('signed', 'm1', { privateKey: ec.privateKey }))).toMatchObject({ code: 'INTEGRITY' });
      expect(await store.getSignature('signed', 'm1')).toBeUndefined();
    });

    it('bad keys and options are typed errors, before anything is stored', async () => {
      const cases: Array<[unknown, string]> = [
        [{ privateKey: 'not a key' }, 'SIGNATURE'],
        [{ privateKey: ec.publicKey }, 'SIGNATURE'],
        [{ privateKey: keyPair('ec', 'secp256k1').privateKey }, 'SIGNATURE'],
        [{ publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', sign: () => new Uint8Array() }, 'SIGNATURE'],
        [{ privateKey: ec.privateKey, certificateChain: 'no certificate here' }, 'SIGNATURE'],
        ['a string', 'INVALID_OPTION'],
        [{ nothing: true }, 'INVALID_OPTION'],
      ];
      for (const [sign, code] of cases) {
        const error = await rejection(store.upload('signed', { model, modelId: 'bad', sign: sign as never }));
        expect(error).toMatchObject({ code });
      }
      expect(await rejection(store.download('signed', { to: to(), verify: { publicKey: 'garbage' } }))).toMatchObject({ code: 'SIGNATURE', reason: 'malformed' });
      expect(await rejection(store.verifyModel('signed', undefined, { certificate: 'garbage' }))).toMatchObject({ code: 'SIGNATURE', reason: 'malformed' });
      expect(() => new ModelStore({ storage, verify: { publicKey: 42 as unknown as string } })).toThrow(expect.objectContaining({ code: 'SIGNATURE' }));
      expect((await storage.list(`${registry}/`)).objects).toEqual([]);
      // A bundle that is not JSON is `malformed`.
      await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      const archiveKey = await archiveKeyOf(storage, 'signed', 'm1');
      await storage.put(`${path.posix.dirname(archiveKey)}/model.sig`, 'not json');
      expect(await rejection(store.verifyModel('signed', 'm1', { publicKey: ec.publicKey }))).toMatchObject({ reason: 'malformed' });
      expect(await rejection(store.getSignature('signed', 'm1'))).toMatchObject({ reason: 'malformed' });
    });

    it('certificate mode: a good chain, an untrusted root, a wrong identity, a certificate without signing usage', async () => {
      const pki = makePki(path.join(folder, 'pki'), 'Test');
      const otherPki = makePki(path.join(folder, 'other-pki'), 'Other');
      const good = pki.leaf('signer', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:signer@example.com\n');
      const chain = [good.certificatePem, pki.intermediatePem];
      await store.upload('signed', { model, modelId: 'cert', sign: { privateKey: good.privateKey, certificateChain: chain } });
      const info = await store.verifyModel('signed', 'cert', { certificate: pki.rootPem, identity: 'signer@example.com' });
      expect(info).toMatchObject({ kind: 'certificate', verified: true, certificateSubject: 'CN=signer', certificateSan: ['email:signer@example.com'] });
      await store.download('signed', { modelId: 'cert', to: to(), verify: { certificate: pki.rootPem, identity: 'signer' } });
      rmSync(to(), { recursive: true });
      await refused('cert', { certificate: otherPki.rootPem }, 'untrusted-certificate');
      await refused('cert', { certificate: pki.rootPem, identity: 'someone@example.com' }, 'identity');
      await refused('cert', { publicKey: ec.publicKey } as never, 'wrong-key');
      // No digitalSignature, no codeSigning: may not sign, refused before anything is stored (a verifier refuses such a bundle too).
      const server = pki.leaf('server', 'keyUsage=critical,keyEncipherment\nextendedKeyUsage=serverAuth\n');
      expect(await rejection(store.upload('signed', { model, modelId: 'server', sign: { privateKey: server.privateKey, certificateChain: [server.certificatePem, pki.intermediatePem] } }))).toMatchObject({
        code: 'INVALID_OPTION',
        option: 'sign.certificateChain',
      });
      expect(await store.modelExists('signed', 'server')).toBe(false);
      // The chain's intermediate left out: no path to the root.
      await store.upload('signed', { model, modelId: 'no-intermediate', sign: { privateKey: good.privateKey, certificateChain: good.certificatePem } });
      await refused('no-intermediate', { certificate: pki.rootPem }, 'untrusted-certificate');
      // A key-mode bundle is not a certificate signature.
      await store.upload('signed', { model, modelId: 'key', sign: { privateKey: ec.privateKey } });
      await refused('key', { certificate: pki.rootPem }, 'untrusted-certificate');
      // The certificate must be the signing key's.
      expect(await rejection(store.upload('signed', { model, modelId: 'mismatch', sign: { privateKey: ec.privateKey, certificateChain: chain } }))).toMatchObject({ code: 'INVALID_OPTION', option: 'sign.certificateChain' });
    });

    it('copyModel copies the bundle; collectGarbage removes bundles beside the archives it removes', async () => {
      await store.upload('signed', { model, modelId: 'm1', sign: { privateKey: ec.privateKey } });
      const target = new ModelStore({ storage: await options.createStorage(), adapters: [new RawAdapter()], cacheDir: path.join(folder, 'target-cache') });
      try {
        await store.copyModel('signed', 'm1', target);
        expect(await target.verifyModel('signed', 'm1', { publicKey: ec.publicKey })).toMatchObject({ verified: true });
      } finally {
        await options.destroyStorage?.(target.storage);
      }
      // An archive and bundle that no metadata references (an upload that died before its commit).
      const archiveKey = await archiveKeyOf(storage, 'signed', 'm1');
      const orphanFolder = `${registry}/signed/2020.01.01-00.00.00/orphan`;
      const object = await storage.get(archiveKey);
      const chunks: Buffer[] = [];
      for await (const chunk of object!.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
      await storage.put(`${orphanFolder}/artifacts.tar.gz`, Buffer.concat(chunks));
      await storage.put(`${orphanFolder}/model.sig`, await readText(storage, `${path.posix.dirname(archiveKey)}/model.sig`));
      const report = await store.collectGarbage({ olderThan: 0, quiesced: true, now: new Date(Date.now() + 1000) });
      expect(report.removed.map((removed) => removed.key).sort()).toEqual([`${orphanFolder}/artifacts.tar.gz`, `${orphanFolder}/model.sig`]);
      expect(await storage.head(`${path.posix.dirname(archiveKey)}/model.sig`)).toBeDefined();
    });
  });
}
