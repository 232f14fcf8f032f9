// OpenSSF Model Signing, both ways, against the reference: the Python `model-signing` 1.1.1
// package (`python -m model_signing`), on a file-system registry and on MinIO.
//  - Node signs (at upload, and signModel on a stored model) and downloads; model_signing's
//    `verify key` / `verify certificate` accept the folder, and refuse it once one byte of it
//    changed or a file was added (so they really hash what we wrote).
//  - model_signing signs a folder (`sign key` / `sign certificate`, model.sig inside it); Node
//    (RawAdapter) and Python modelstore upload it; Node verifies it with the key (or the CA and
//    identity), and refuses it with another key, another CA, another identity, or a changed file.
// Keys and certificates are made in the test (Node crypto, the openssl command), never committed.
import { describe, expect, it } from '@jest/globals';
import { SignatureError, type ModelStore } from '@modelstore/core';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backends, interopEnv, nodeStore, ok, py, runCli, seeded, treeDigest, workDir, writeFiles } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], options: { cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** `python -m model_signing <args>` from the model-signing 1.1.1 venv. */
function modelSigning(args: string[]): Promise<Run> {
  return exec(interopEnv().pythonSigning, ['-m', 'model_signing', ...args]);
}

/** `openssl <args>`; fails the test with the command's output when it fails. */
async function openssl(args: string[], cwd: string): Promise<void> {
  const result = await exec('openssl', args, { cwd });
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (the openssl command is needed: apt-get install openssl): ${result.stderr}`);
}

/** An ECDSA P-256 key pair as PEM files (PKCS#8 private key, SubjectPublicKeyInfo public key) in a fresh folder. */
function keyPair(name: string): { dir: string; privateKey: string; publicKey: string; privatePem: string; publicPem: string } {
  const dir = workDir(`keys-${name}`);
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(path.join(dir, 'key.pem'), privatePem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'pub.pem'), publicPem);
  return { dir, privateKey: path.join(dir, 'key.pem'), publicKey: path.join(dir, 'pub.pem'), privatePem, publicPem };
}

/**
 * A root CA, an intermediate CA and a signing certificate (ECDSA P-256, key usage
 * digitalSignature, extended key usage codeSigning, SAN email `identity`), made with openssl.
 * `chain.pem` is the signing certificate then the intermediate (what a signer passes).
 */
async function certificates(name: string, identity: string) {
  const dir = workDir(`pki-${name}`);
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  writeFileSync(path.join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  writeFileSync(path.join(dir, 'leaf.ext'), `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:${identity}\nauthorityKeyIdentifier=keyid\n`);
  await openssl(['genpkey', ...ec, '-out', 'root.key'], dir);
  await openssl(['req', '-x509', '-new', '-key', 'root.key', '-subj', `/CN=${name} root CA`, '-days', '2', '-out', 'root.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['genpkey', ...ec, '-out', 'intermediate.key'], dir);
  await openssl(['req', '-new', '-key', 'intermediate.key', '-subj', `/CN=${name} intermediate CA`, '-out', 'intermediate.csr'], dir);
  await openssl(['x509', '-req', '-in', 'intermediate.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2', '-days', '2', '-extfile', 'ca.ext', '-out', 'intermediate.pem'], dir);
  await openssl(['genpkey', ...ec, '-out', 'leaf.key'], dir);
  await openssl(['req', '-new', '-key', 'leaf.key', '-subj', `/CN=${name} signer`, '-out', 'leaf.csr'], dir);
  await openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'intermediate.pem', '-CAkey', 'intermediate.key', '-set_serial', '3', '-days', '1', '-extfile', 'leaf.ext', '-out', 'leaf.pem'], dir);
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  writeFileSync(path.join(dir, 'chain.pem'), read('leaf.pem') + read('intermediate.pem'));
  return {
    dir,
    rootPem: read('root.pem'),
    root: path.join(dir, 'root.pem'),
    leafKey: path.join(dir, 'leaf.key'),
    leafKeyPem: read('leaf.key'),
    leaf: path.join(dir, 'leaf.pem'),
    intermediate: path.join(dir, 'intermediate.pem'),
    chainPems: [read('leaf.pem'), read('intermediate.pem')],
  };
}

/** A small model folder: a weights file, a nested config and a tokenizer. */
function modelFolder(seed: string): string {
  return writeFiles({
    'weights.bin': seeded(seed, 300_000),
    'config/config.json': JSON.stringify({ seed, layers: 2 }),
    'tokenizer/vocab.txt': 'a\nb\nc\n',
  });
}

/** Flips the last bit of one byte in the middle of a file. */
function flipByte(file: string): void {
  const bytes = readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 1;
  writeFileSync(file, bytes);
}

/** Verification with model_signing 1.1.1 (key mode) of a downloaded folder. */
const verifyKey = (folder: string, publicKey: string) => modelSigning(['verify', 'key', '--signature', path.join(folder, 'model.sig'), '--public_key', publicKey, folder]);
/** Verification with model_signing 1.1.1 (certificate mode) of a downloaded folder, trusting `root`. */
const verifyCertificate = (folder: string, root: string) => modelSigning(['verify', 'certificate', '--signature', path.join(folder, 'model.sig'), '--certificate_chain', root, folder]);

function expectSucceeded(result: Run): void {
  expect({ code: result.code, stderr: result.stderr.trim(), stdout: result.stdout.trim() }).toEqual({ code: 0, stderr: '', stdout: 'Verification succeeded' });
}

function expectFailed(result: Run, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/Verification failed with error/);
  expect(result.stderr).toMatch(pattern);
}

/** The SignatureError a promise rejects with (fails when it resolves or rejects with anything else). */
async function signatureError(promise: Promise<unknown>): Promise<SignatureError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!SignatureError.isInstance(error)) throw new Error(`expected a SignatureError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return error;
}

const signingBackends = backends().filter((backend) => backend.name === 'fs' || backend.name === 'minio');

describe.each(signingBackends.map((backend) => [backend.name, backend] as const))('OpenSSF Model Signing with model_signing 1.1.1: %s', (_name, backend) => {
  it('Node signs at upload: model_signing verify key accepts the downloaded folder, refuses it with another key, after a one-byte change or with a file added', async () => {
    const store = nodeStore(backend.create().node);
    const key = keyPair('upload');
    const uploaded = await store.upload('signed', { model: modelFolder('upload'), sign: { privateKey: key.privatePem } });
    const id = uploaded.model.model_id;

    const folder = await store.download('signed', { modelId: id, to: path.join(workDir('dl'), 'model'), verify: { publicKey: key.publicPem } });
    expect(existsSync(path.join(folder, 'model.sig'))).toBe(true);
    expect(Object.keys(treeDigest(folder))).toEqual(expect.arrayContaining(['weights.bin', 'config/config.json', 'tokenizer/vocab.txt', 'model.sig']));
    expectSucceeded(await verifyKey(folder, key.publicKey));

    // Another key: model_signing refuses the signature.
    expectFailed(await verifyKey(folder, keyPair('other').publicKey), /signature|verif|key/i);

    // One byte of one file changed: model_signing's hash of the folder no longer matches ours.
    const changed = path.join(workDir('changed'), 'model');
    cpSync(folder, changed, { recursive: true });
    flipByte(path.join(changed, 'weights.bin'));
    expectFailed(await verifyKey(changed, key.publicKey), /weights\.bin/);

    // A file added beside the signed ones.
    const added = path.join(workDir('added'), 'model');
    cpSync(folder, added, { recursive: true });
    writeFileSync(path.join(added, 'config', 'extra.json'), '{}');
    expectFailed(await verifyKey(added, key.publicKey), /extra\.json/);
  });

  it('signModel on a stored model: model_signing verify key accepts it; certificate mode with an intermediate: verify certificate accepts it, and refuses another root', async () => {
    const store = nodeStore(backend.create().node);
    const uploaded = await store.upload('later', { model: modelFolder('later'), extraFiles: [path.join(writeFiles({ 'README.md': '# card\n' }), 'README.md')] });
    const id = uploaded.model.model_id;
    expect(await store.getSignature('later', id)).toBeUndefined();

    const key = keyPair('later');
    const signed = await store.signModel('later', id, { privateKey: key.privatePem });
    expect(signed.kind).toBe('public-key');
    const keyFolder = await store.download('later', { modelId: id, to: path.join(workDir('dl'), 'model') });
    expectSucceeded(await verifyKey(keyFolder, key.publicKey));
    // What getSignature parses lists exactly the files model_signing hashed: every file of the folder but model.sig.
    const parsed = await store.getSignature('later', id);
    expect(parsed?.verified).toBe(false);
    const onDisk = treeDigest(keyFolder);
    delete onDisk['model.sig'];
    expect(Object.fromEntries(parsed!.files.map((file) => [file.name, file.sha256]))).toEqual(onDisk);

    // Key rotation to certificate mode (the signing certificate and an intermediate in the bundle).
    const pki = await certificates('later', 'ml-team@example.com');
    const certified = await store.signModel('later', id, { privateKey: pki.leafKeyPem, certificateChain: pki.chainPems }, { overwrite: true });
    expect(certified.kind).toBe('certificate');
    expect(certified.certificateSan).toEqual(expect.arrayContaining([expect.stringContaining('ml-team@example.com')]));
    const certFolder = await store.download('later', { modelId: id, to: path.join(workDir('dl'), 'model'), verify: { certificate: pki.rootPem, identity: 'ml-team@example.com' } });
    expectSucceeded(await verifyCertificate(certFolder, pki.root));
    const stranger = await certificates('stranger', 'ml-team@example.com');
    expectFailed(await verifyCertificate(certFolder, stranger.root), /certificate|verify|issuer/i);
  });

  it('a folder signed with model_signing sign key, uploaded by Node (RawAdapter): verifies with its key; refused with another key and when a file changed after signing', async () => {
    const store = nodeStore(backend.create().node);
    const key = keyPair('python-signs');
    const folder = modelFolder('python-signs');
    const signedByPython = await modelSigning(['sign', 'key', '--signature', path.join(folder, 'model.sig'), '--private_key', key.privateKey, folder]);
    expect({ code: signedByPython.code, stderr: signedByPython.stderr }).toEqual({ code: 0, stderr: '' });
    // A copy changed after signing, uploaded as it is: the bundle no longer matches it.
    const tampered = workDir('tampered');
    cpSync(folder, tampered, { recursive: true });
    appendFileSync(path.join(tampered, 'tokenizer', 'vocab.txt'), 'd\n');

    const good = (await store.upload('python-signed', { model: folder })).model.model_id;
    const bad = (await store.upload('python-signed', { model: tampered })).model.model_id;

    // model_signing's bundle names no domain or model id: refused unless unbound bundles are allowed.
    const unbound = await signatureError(store.verifyModel('python-signed', good, { publicKey: key.publicPem }));
    expect(unbound.reason).toBe('unbound');
    expect(unbound.message).toMatch(/signModel\("python-signed", ".*", signer, \{ overwrite: true \}\); or accept the unbound signature with allowUnbound: true/);
    const info = await store.verifyModel('python-signed', good, { publicKey: key.publicPem, allowUnbound: true });
    expect(info).toMatchObject({ kind: 'public-key', verified: true, bound: false, unsigned: ['model-info.json'] });
    expect(info.files.map((file) => file.name).sort()).toEqual(['config/config.json', 'tokenizer/vocab.txt', 'weights.bin']);
    const downloaded = await store.download('python-signed', { modelId: good, to: path.join(workDir('dl'), 'model'), verify: { publicKey: key.publicPem, allowUnbound: true } });
    // The signed files and model.sig, as signed (plus the model-info.json this library writes into every archive),
    // which model_signing verifies once told to ignore model-info.json.
    expect(treeDigest(downloaded)).toEqual({ ...treeDigest(folder), 'model-info.json': expect.any(String) });
    expectFailed(await verifyKey(downloaded, key.publicKey), /model-info\.json/);
    expectSucceeded(await modelSigning(['verify', 'key', '--signature', path.join(downloaded, 'model.sig'), '--public_key', key.publicKey, '--ignore-paths', path.join(downloaded, 'model-info.json'), downloaded]));

    const wrongKey = await signatureError(store.verifyModel('python-signed', good, { publicKey: keyPair('not-it').publicPem }));
    expect(wrongKey.reason).toBe('wrong-key');
    const changed = await signatureError(store.download('python-signed', { modelId: bad, to: path.join(workDir('dl'), 'model'), verify: { publicKey: key.publicPem, allowUnbound: true } }));
    expect(changed.reason).toBe('tampered');
    expect(changed.files).toEqual(['tokenizer/vocab.txt']);
    // model_signing agrees on the same tampered folder.
    expectFailed(await verifyKey(tampered, key.publicKey), /vocab\.txt/);
  });

  it('a folder signed with model_signing sign certificate, uploaded by Node: verifies with the root CA and the identity; refused with another CA or identity', async () => {
    const store = nodeStore(backend.create().node);
    const pki = await certificates('python-cert', 'release@example.com');
    const folder = modelFolder('python-cert');
    const signedByPython = await modelSigning(['sign', 'certificate', '--signature', path.join(folder, 'model.sig'), '--private_key', pki.leafKey, '--signing_certificate', pki.leaf, '--certificate_chain', pki.intermediate, folder]);
    expect({ code: signedByPython.code, stderr: signedByPython.stderr }).toEqual({ code: 0, stderr: '' });
    expectSucceeded(await verifyCertificate(folder, pki.root));
    const id = (await store.upload('python-cert', { model: folder })).model.model_id;

    expect((await signatureError(store.verifyModel('python-cert', id, { certificate: pki.rootPem, identity: 'release@example.com' }))).reason).toBe('unbound');
    const info = await store.verifyModel('python-cert', id, { certificate: pki.rootPem, identity: 'release@example.com', allowUnbound: true });
    expect(info).toMatchObject({ kind: 'certificate', verified: true, bound: false });
    const untrusted = await signatureError(store.verifyModel('python-cert', id, { certificate: (await certificates('other-ca', 'release@example.com')).rootPem }));
    expect(untrusted.reason).toBe('untrusted-certificate');
    const otherIdentity = await signatureError(store.verifyModel('python-cert', id, { certificate: pki.rootPem, identity: 'someone-else@example.com' }));
    expect(otherIdentity.reason).toBe('identity');
  });

  it("the swap attack on model_signing bundles: model A pointed at model B's archive (both folders signed by the trusted key) is refused by default", async () => {
    const store = nodeStore(backend.create().node);
    const key = keyPair('swap');
    const signedFolder = async (name: string) => {
      const folder = modelFolder(name);
      const signed = await modelSigning(['sign', 'key', '--signature', path.join(folder, 'model.sig'), '--private_key', key.privateKey, folder]);
      expect({ code: signed.code, stderr: signed.stderr }).toEqual({ code: 0, stderr: '' });
      return folder;
    };
    const releaseFolder = await signedFolder('swap-release');
    const oldFolder = await signedFolder('swap-old');
    appendFileSync(path.join(oldFolder, 'weights.bin'), 'an old, vulnerable model');
    // Signed again after the change: both folders carry a valid signature of the trusted key.
    expect((await modelSigning(['sign', 'key', '--signature', path.join(oldFolder, 'model.sig'), '--private_key', key.privateKey, oldFolder])).code).toBe(0);
    const a = (await store.upload('swap', { model: releaseFolder })).model.model_id;
    const b = (await store.upload('swap', { model: oldFolder })).model.model_id;
    // An attacker who can write the store (no key) points A's metadata at B's archive.
    const versionKey = `operatorai-model-store/swap/versions/${a}.json`;
    const metadataA = await store.getModelInfo('swap', a);
    const metadataB = await store.getModelInfo('swap', b);
    await store.storage.put(versionKey, JSON.stringify({ ...metadataA, storage: metadataB.storage, archive: metadataB.archive }));
    const refused = await signatureError(store.verifyModel('swap', a, { publicKey: key.publicPem }));
    expect(refused.reason).toBe('unbound');
    const download = await signatureError(store.download('swap', { modelId: a, to: path.join(workDir('dl'), 'model'), verify: { publicKey: key.publicPem } }));
    expect(download.reason).toBe('unbound');
    // What allowUnbound accepts: A "verifies" with B's files. Binding A with signModel closes it.
    expect((await store.verifyModel('swap', a, { publicKey: key.publicPem, allowUnbound: true })).files.find((file) => file.name === 'weights.bin')?.sha256).toBe(treeDigest(oldFolder)['weights.bin']);
    await store.storage.put(versionKey, JSON.stringify(metadataA));
    await store.signModel('swap', a, { privateKey: key.privatePem }, { overwrite: true });
    expect(await store.verifyModel('swap', a, { publicKey: key.publicPem })).toMatchObject({ verified: true, bound: true });
    // Pointed at B's archive again (whose own bundle is unbound): refused by default.
    await store.storage.put(versionKey, JSON.stringify({ ...metadataA, storage: metadataB.storage, archive: metadataB.archive }));
    expect((await signatureError(store.verifyModel('swap', a, { publicKey: key.publicPem }))).reason).toBe('unbound');
  });

  it('Python modelstore uploads a folder signed by model_signing (model file, extras/, model.sig as an extra file): Node verifies it, and refuses it with another key or once a file changed', async () => {
    const registry = backend.create();
    const store: ModelStore = nodeStore(registry.node);
    const key = keyPair('python-modelstore');
    // The folder as Python modelstore archives it: the model file at the top, extra files under extras/.
    const folder = writeFiles({ 'model.bin': seeded('py-ms', 120_000), 'extras/card.md': '# card\n' });
    const signed = await modelSigning(['sign', 'key', '--signature', path.join(folder, 'extras', 'model.sig'), '--private_key', key.privateKey, folder]);
    expect({ code: signed.code, stderr: signed.stderr }).toEqual({ code: 0, stderr: '' });
    const tamperedCard = path.join(workDir('card'), 'card.md');
    writeFileSync(tamperedCard, '# card, changed after signing\n');
    const [upload, uploadTampered] = await py(registry.python, [
      { op: 'upload', domain: 'py-signed', model: path.join(folder, 'model.bin'), extra_files: [path.join(folder, 'extras', 'card.md'), path.join(folder, 'extras', 'model.sig')] },
      { op: 'upload', domain: 'py-signed', model: path.join(folder, 'model.bin'), extra_files: [tamperedCard, path.join(folder, 'extras', 'model.sig')] },
    ]);
    const id = ok(upload).model.model_id as string;
    const tamperedId = ok(uploadTampered).model.model_id as string;
    // The reference accepts the folder Node downloads (model_signing ignores the signature file it is given),
    // once told to ignore the model-info.json Python modelstore adds to every archive it writes.
    const downloaded = await store.download('py-signed', { modelId: id, to: path.join(workDir('dl'), 'model') });
    expect(Object.keys(treeDigest(downloaded)).sort()).toEqual(['extras/card.md', 'extras/model.sig', 'model-info.json', 'model.bin']);
    const signature = ['--signature', path.join(downloaded, 'extras', 'model.sig'), '--public_key', key.publicKey];
    expectFailed(await modelSigning(['verify', 'key', ...signature, downloaded]), /model-info\.json/);
    expectSucceeded(await modelSigning(['verify', 'key', ...signature, '--ignore-paths', path.join(downloaded, 'model-info.json'), downloaded]));

    expect((await signatureError(store.verifyModel('py-signed', id, { publicKey: key.publicPem }))).reason).toBe('unbound');
    const info = await store.verifyModel('py-signed', id, { publicKey: key.publicPem, allowUnbound: true });
    expect(info).toMatchObject({ kind: 'public-key', verified: true, bound: false });
    expect(info.files.map((file) => file.name).sort()).toEqual(['extras/card.md', 'model.bin']);
    const wrongKey = await signatureError(store.verifyModel('py-signed', id, { publicKey: keyPair('py-other').publicPem }));
    expect(wrongKey.reason).toBe('wrong-key');
    const changed = await signatureError(store.verifyModel('py-signed', tamperedId, { publicKey: key.publicPem, allowUnbound: true }));
    expect(changed.reason).toBe('tampered');
    expect(changed.files).toEqual(['extras/card.md']);
  });
});

describe('the modelstore CLI and model_signing on one folder (file system)', () => {
  it('modelstore upload --sign-key, then modelstore download --verify-key: model_signing verify key accepts the folder', async () => {
    const root = workDir('cli-registry');
    const key = keyPair('cli');
    const up = await runCli(['--store', root, 'upload', 'cli-signed', modelFolder('cli'), '--sign-key', key.privateKey]);
    expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/^modelstore: created a new registry at .*\n$/) });
    const id = up.stdout.trim();
    const to = path.join(workDir('cli-dl'), 'model');
    const down = await runCli(['--store', root, 'download', 'cli-signed', id, '--to', to, '--verify-key', key.publicKey]);
    expect({ code: down.code, stderr: down.stderr }).toEqual({ code: 0, stderr: `modelstore: signature verified: cli-signed/${id} matches it\n` });
    expectSucceeded(await verifyKey(to, key.publicKey));
  });

  it('a folder signed with model_signing sign key, uploaded with modelstore upload: info shows the signature inside the archive, verify --public-key accepts it', async () => {
    const root = workDir('cli-registry');
    const key = keyPair('cli-python');
    const folder = modelFolder('cli-python');
    const signed = await modelSigning(['sign', 'key', '--signature', path.join(folder, 'model.sig'), '--private_key', key.privateKey, folder]);
    expect({ code: signed.code, stderr: signed.stderr }).toEqual({ code: 0, stderr: '' });
    const up = await runCli(['--store', root, 'upload', 'cli-python', folder]);
    expect(up.code).toBe(0);
    const id = up.stdout.trim();
    const info = await runCli(['--store', root, 'info', 'cli-python', id]);
    expect(info.stdout).toMatch(
      /signature: +signed, public key \(hint [0-9a-f]{16}…\), 3 file\(s\), not bound to this model \(model_signing on a folder\); not verified: run `modelstore verify cli-python \S+ --public-key pub\.pem --allow-unbound`/,
    );
    const refused = await runCli(['--store', root, '--json', 'verify', 'cli-python', id, '--public-key', key.publicKey]);
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stdout).error).toMatchObject({
      code: 'SIGNATURE',
      reason: 'unbound',
      message: expect.stringMatching(/`modelstore sign cli-python \S+ --key <private key PEM> --overwrite`; or accept the unbound signature with --allow-unbound/),
    });
    const verified = await runCli(['--store', root, '--json', 'verify', 'cli-python', id, '--public-key', key.publicKey, '--allow-unbound']);
    expect({ code: verified.code, stderr: verified.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(verified.stdout)).toMatchObject({ kind: 'public-key', verified: true, modelId: id });
    const other = await runCli(['--store', root, '--json', 'verify', 'cli-python', id, '--public-key', keyPair('cli-other').publicKey]);
    expect(other.code).toBe(5);
    expect(JSON.parse(other.stdout).error).toMatchObject({ code: 'SIGNATURE', reason: 'wrong-key' });
  });
});
