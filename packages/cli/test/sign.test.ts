// `modelstore sign`, `modelstore verify`, `upload --sign-key`, `download --verify-key /
// --verify-certificate / --verify-identity` and `info`'s signature line, run as the built
// command on a file-system registry and on the S3 test server. Keys are made here (Node crypto;
// certificates with the openssl command), never committed.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore, stores, treeDigest, type Result } from './helpers.js';

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, { cwd, timeout: 60_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`openssl ${args.join(' ')} failed (the openssl command is needed: apt-get install openssl): ${stderr || error.message}`)) : resolve(),
    ),
  );
}

describe('modelstore sign / verify', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-sign-'));
    mkdirSync(path.join(work, 'model', 'config'), { recursive: true });
    writeFileSync(path.join(work, 'model', 'weights.bin'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
    writeFileSync(path.join(work, 'model', 'config', 'config.json'), '{"layers":2}');
    writeFileSync(path.join(work, 'README.md'), '# card\n');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** An ECDSA P-256 key pair in `<work>/<name>.key.pem` and `<name>.pub.pem`; `passphrase` encrypts the private key. */
  const keyPair = (name: string, passphrase?: string) => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = path.join(work, `${name}.key.pem`);
    const pub = path.join(work, `${name}.pub.pem`);
    writeFileSync(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem', ...(passphrase ? { cipher: 'aes-256-cbc', passphrase } : {}) }));
    writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    return { key, pub };
  };

  /** A root CA and a signing certificate for `identity` (email SAN, key usage digitalSignature), made with openssl under `<work>/<name>/`. */
  const certificates = async (name: string, identity: string) => {
    const dir = path.join(work, name);
    mkdirSync(dir);
    const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    writeFileSync(path.join(dir, 'leaf.ext'), `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:${identity}\n`);
    await openssl(['genpkey', ...ec, '-out', 'root.key'], dir);
    await openssl(['req', '-x509', '-new', '-key', 'root.key', '-subj', `/CN=${name} root`, '-days', '2', '-out', 'root.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
    await openssl(['genpkey', ...ec, '-out', 'leaf.key'], dir);
    await openssl(['req', '-new', '-key', 'leaf.key', '-subj', `/CN=${name} signer`, '-out', 'leaf.csr'], dir);
    await openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '7', '-days', '1', '-extfile', 'leaf.ext', '-out', 'leaf.pem'], dir);
    return { root: path.join(dir, 'root.pem'), key: path.join(dir, 'leaf.key'), chain: path.join(dir, 'leaf.pem') };
  };

  const cliOn =
    (store: string, env: Record<string, string> = {}) =>
    (...args: string[]) =>
      modelstore(['--store', store, ...args], { cwd: work, env });

  const expectOk = (result: Result) => expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  const jsonError = (result: Result) => JSON.parse(result.stdout).error as { code: string; message: string; reason?: string; files?: string[]; argument?: string };

  it.each(['a file system registry', 'an S3 registry'])('upload --sign-key, info, verify --public-key, download --verify-key on %s; another key exits 5 (SIGNATURE, wrong-key)', async (where) => {
    const { s3, env } = stores();
    const cli = where.includes('S3') ? cliOn(s3, env) : cliOn('./registry');
    const signer = keyPair('signer');
    const other = keyPair('other');

    const up = await cli('upload', 'churn', 'model', '--extra', 'README.md', '--sign-key', signer.key);
    expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/created a new registry/) });
    const id = up.stdout.trim();

    const info = await cli('info', 'churn', id);
    expectOk(info);
    expect(info.stdout).toMatch(new RegExp(`signature: +signed, public key \\(hint [0-9a-f]{16}…\\), \\d+ file\\(s\\); not verified: run \`modelstore verify churn ${id} --public-key pub.pem\``));
    const infoJson = JSON.parse((await cli('--json', 'info', 'churn', id)).stdout);
    expect(infoJson.signature).toMatchObject({ kind: 'public-key', verified: false, keyHint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(infoJson.signature.files.map((file: { name: string }) => file.name)).toEqual(expect.arrayContaining(['weights.bin', 'config/config.json', 'extras/README.md']));

    const verified = await cli('--json', 'verify', 'churn', id, '--public-key', signer.pub);
    expectOk(verified);
    expect(JSON.parse(verified.stdout)).toMatchObject({ domain: 'churn', modelId: id, kind: 'public-key', verified: true });
    const human = await cli('verify', 'churn', '--public-key', signer.pub);
    expectOk(human);
    expect(human.stdout).toMatch(new RegExp(`^verified churn/${id}: \\d+ file\\(s\\) match the signature of public key`));

    const down = await cli('download', 'churn', id, '--to', 'out', '--verify-key', signer.pub);
    expectOk(down);
    expect(down.stderr).toMatch(/signature verified/);
    expect(existsSync(path.join(work, 'out', 'model.sig'))).toBe(true);
    expect(treeDigest(path.join(work, 'out'))['weights.bin']).toBe(treeDigest(path.join(work, 'model'))['weights.bin']);

    const wrong = await cli('--json', 'verify', 'churn', id, '--public-key', other.pub);
    expect(wrong.code).toBe(5);
    expect(jsonError(wrong)).toMatchObject({ code: 'SIGNATURE', reason: 'wrong-key' });
    expect(wrong.stderr).toMatch(/^modelstore: signature check failed \(wrong-key\)/);
    const refused = await cli('download', 'churn', id, '--to', 'refused', '--verify-key', other.pub);
    expect(refused.code).toBe(5);
    expect(existsSync(path.join(work, 'refused', 'weights.bin'))).toBe(false);
    // A key-signed model checked against a CA: the message names download's own flag.
    const pki = await certificates('ca', 'x@example.com');
    const byCa = await cli('download', 'churn', id, '--to', 'by-ca', '--verify-certificate', pki.root);
    expect(byCa.code).toBe(5);
    expect(byCa.stderr).toMatch(/^modelstore: signature check failed \(untrusted-certificate\): .*--verify-key/);
    expect(byCa.stderr).not.toMatch(/publicKey/);
  });

  it('sign on a stored model; unsigned exits 5 (unsigned); a second sign needs --overwrite; certificate mode with --identity; a bundle swapped from another model is refused (tampered)', async () => {
    const cli = cliOn('./registry');
    const signer = keyPair('signer');
    const a = (await cli('upload', 'churn', 'model', '--id', 'a')).stdout.trim();
    const b = (await cli('upload', 'churn', 'model', '--id', 'b')).stdout.trim();
    expect([a, b]).toEqual(['a', 'b']);
    expect((await cli('info', 'churn', 'a')).stdout).toMatch(/signature: +-\n/);
    expect(JSON.parse((await cli('--json', 'info', 'churn', 'a')).stdout).signature).toBeNull();

    const unsigned = await cli('--json', 'verify', 'churn', 'a', '--public-key', signer.pub);
    expect(unsigned.code).toBe(5);
    expect(jsonError(unsigned)).toMatchObject({ code: 'SIGNATURE', reason: 'unsigned' });
    expect(jsonError(unsigned).message).toMatch(
      /If this model was signed before, its signature was removed: do not use it; re-upload it from a trusted source\. Only a model whose files you know .* should be signed now: `modelstore sign churn a --key <private key PEM>`\.$/,
    );
    expect(jsonError(unsigned).message).not.toMatch(/signModel|signer/);
    // A signed model downloaded without a verification: a one-line note on stderr, never in --json's stdout.
    expectOk(await cli('upload', 'churn', 'model', '--id', 'signed-up', '--sign-key', signer.key));
    const unverified = await cli('--json', 'download', 'churn', 'signed-up', '--to', 'unverified');
    expectOk(unverified);
    expect(unverified.stderr).toBe('modelstore: churn/signed-up is signed, and this download did not verify it: pass --verify-key <public key PEM> (or --verify-certificate <root CA PEM>) to check it\n');
    expect(JSON.parse(unverified.stdout)).toEqual({ domain: 'churn', modelId: 'signed-up', directory: path.join(work, 'unverified') });
    expect((await cli('download', 'churn', 'a', '--to', 'plain')).stderr).toBe('');

    const signed = await cli('--json', 'sign', 'churn', 'a', '--key', signer.key);
    expectOk(signed);
    const bundle = JSON.parse(signed.stdout) as { key: string; kind: string; files: unknown[] };
    expect(bundle).toMatchObject({ domain: 'churn', modelId: 'a', kind: 'public-key', verified: false });
    expect(bundle.key).toMatch(/\/model\.sig$/);
    expectOk(await cli('sign', 'churn', 'b', '--key', signer.key));
    const again = await cli('sign', 'churn', 'a', '--key', signer.key);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/--overwrite/);
    expect(again.stderr).not.toMatch(/overwrite: true/);

    // a's bundle copied over b's: same key, same files, but bound to churn/a.
    const bBundle = JSON.parse((await cli('--json', 'info', 'churn', 'b')).stdout).signature.key as string;
    copyFileSync(path.join(work, 'registry', bundle.key), path.join(work, 'registry', bBundle));
    const swapped = await cli('--json', 'verify', 'churn', 'b', '--public-key', signer.pub);
    expect(swapped.code).toBe(5);
    expect(jsonError(swapped)).toMatchObject({ code: 'SIGNATURE', reason: 'tampered' });

    const pki = await certificates('team', 'ml-team@example.com');
    const stranger = await certificates('stranger', 'ml-team@example.com');
    expectOk(await cli('sign', 'churn', 'a', '--key', pki.key, '--certificate-chain', pki.chain, '--overwrite'));
    expect((await cli('info', 'churn', 'a')).stdout).toMatch(/signature: +signed, certificate .*ml-team@example\.com.*modelstore verify churn a --certificate ca\.pem/);
    const byCert = await cli('--json', 'verify', 'churn', 'a', '--certificate', pki.root, '--identity', 'ml-team@example.com');
    expectOk(byCert);
    expect(JSON.parse(byCert.stdout)).toMatchObject({ kind: 'certificate', verified: true });
    const identity = await cli('--json', 'verify', 'churn', 'a', '--certificate', pki.root, '--identity', 'someone@example.com');
    expect(identity.code).toBe(5);
    expect(jsonError(identity)).toMatchObject({ code: 'SIGNATURE', reason: 'identity' });
    const untrusted = await cli('--json', 'download', 'churn', 'a', '--to', 'untrusted', '--verify-certificate', stranger.root);
    expect(untrusted.code).toBe(5);
    expect(jsonError(untrusted)).toMatchObject({ code: 'SIGNATURE', reason: 'untrusted-certificate' });
    const trusted = await cli('--json', 'download', 'churn', 'a', '--to', 'trusted', '--verify-certificate', stranger.root, '--verify-certificate', pki.root, '--verify-identity', 'ml-team@example.com');
    expectOk(trusted);
    expect(JSON.parse(trusted.stdout)).toEqual({ domain: 'churn', modelId: 'a', directory: expect.stringMatching(/trusted$/), verified: true });
    // --state picks the newest model in the state, as download does.
    expectOk(await cli('state', 'set', 'churn', 'a', 'production'));
    const byState = await cli('--json', 'verify', 'churn', '--state', 'production', '--certificate', pki.root);
    expectOk(byState);
    expect(JSON.parse(byState.stdout)).toMatchObject({ modelId: 'a', kind: 'certificate', verified: true });
  });

  it('an encrypted key takes --passphrase-env; bad key files and flag combinations are usage errors (exit 2) naming the flag', async () => {
    const cli = cliOn('./registry');
    const locked = keyPair('locked', 'correct horse');
    const plain = keyPair('plain');
    expectOk(await cli('upload', 'churn', 'model', '--id', 'm'));

    const usage = async (args: string[], argument: string, message: RegExp, env: Record<string, string> = {}) => {
      const result = await modelstore(['--store', './registry', '--json', ...args], { cwd: work, env });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      const error = jsonError(result);
      expect(error.argument).toBe(argument);
      expect(error.message).toMatch(message);
      return error;
    };
    await usage(['sign', 'churn', 'm', '--key', 'missing.pem'], '--key', /--key missing\.pem: no such file/);
    await usage(['sign', 'churn', 'm', '--key', 'README.md'], '--key', /not a PEM file/);
    await usage(['sign', 'churn', 'm', '--key', plain.pub], '--key', /this is a public key; --key takes the private key/);
    await usage(['upload', 'churn', 'model', '--sign-key', plain.pub], '--sign-key', /this is a public key; --sign-key takes the private key/);
    await usage(['sign', 'churn', 'm', '--key', locked.key], '--key', /encrypted: .*--passphrase-env/);
    await usage(['sign', 'churn', 'm', '--key', locked.key, '--passphrase-env', 'KEY_PASS'], '--passphrase-env', /KEY_PASS is not set/);
    await usage(['sign', 'churn', 'm', '--key', locked.key, '--passphrase-env', 'KEY_PASS'], '--passphrase-env', /cannot be decrypted/, { KEY_PASS: 'wrong' });
    await usage(['verify', 'churn', 'm'], '--public-key', /--public-key .* or --certificate/);
    await usage(['verify', 'churn', 'm', '--public-key', plain.key], '--public-key', /is a private key: give the public key \(`openssl pkey -in .* -pubout/);
    await usage(['verify', 'churn', 'm', '--public-key', plain.pub, '--public-key', plain.key], '--public-key', /is a private key/);
    await usage(['download', 'churn', 'm', '--to', 'x', '--allow-unbound'], '--allow-unbound', /--allow-unbound goes with --verify-key or --verify-certificate/);
    await usage(['verify', 'churn', 'm', '--public-key', plain.pub, '--certificate', plain.pub], '--certificate', /not both/);
    await usage(['verify', 'churn', 'm', '--identity', 'x@example.com', '--public-key', plain.pub], '--identity', /needs --certificate/);
    await usage(['verify', 'churn', 'm', '--certificate', plain.pub], '--certificate', /holds no certificate/);
    await usage(['download', 'churn', 'm', '--to', 'x', '--verify-identity', 'x@example.com'], '--verify-identity', /needs --verify-certificate/);
    await usage(['upload', 'churn', 'model', '--passphrase-env', 'KEY_PASS'], '--passphrase-env', /goes with --sign-key/);
    await usage(['upload', 'churn', 'model', '--sign-key', 'missing.pem'], '--sign-key', /--sign-key missing\.pem: no such file/);
    // Keys and chains the library cannot sign with: exit 5, "signing failed", flags named as typed.
    const k1 = path.join(work, 'secp256k1.pem');
    writeFileSync(k1, generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const curve = await cli('sign', 'churn', 'm', '--key', k1);
    expect({ code: curve.code, stderr: curve.stderr }).toEqual({ code: 5, stderr: expect.stringMatching(/^modelstore: signing failed \(unsupported\): .*P-256/) });
    const pki = await certificates('chain', 'x@example.com');
    // A chain that is not the key's: a usage error naming the flag, as the README says.
    const foreignChain = await usage(
      ['upload', 'churn', 'model', '--sign-key', plain.key, '--sign-certificate-chain', pki.chain],
      '--sign-certificate-chain',
      /first certificate of --sign-certificate-chain .* is not the signing key's certificate/,
    );
    expect(foreignChain.message).not.toMatch(/certificateChain|signModel|upload:/);
    await usage(['sign', 'churn', 'm', '--key', plain.key, '--certificate-chain', pki.chain], '--certificate-chain', /first certificate of --certificate-chain/);
    // Nothing was uploaded by the refused uploads.
    expect(JSON.parse((await cli('--json', 'ls', 'churn')).stdout).map((row: { modelId: string }) => row.modelId)).toEqual(['m']);

    const signed = await modelstore(['--store', './registry', 'sign', 'churn', 'm', '--key', locked.key, '--passphrase-env', 'KEY_PASS'], { cwd: work, env: { KEY_PASS: 'correct horse' } });
    expect({ code: signed.code, stderr: signed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(signed.stdout).toMatch(/^signed churn\/m: \d+ file\(s\), public key/);
    expectOk(await cli('verify', 'churn', 'm', '--public-key', locked.pub));
    // Key rotation: any one of several --public-key / --verify-key verifies.
    expectOk(await cli('verify', 'churn', 'm', '--public-key', plain.pub, '--public-key', locked.pub));
    expectOk(await cli('download', 'churn', 'm', '--to', 'rotated', '--verify-key', plain.pub, '--verify-key', locked.pub));
    const neither = await cli('--json', 'verify', 'churn', 'm', '--public-key', plain.pub, '--public-key', keyPair('third').pub);
    expect(neither.code).toBe(5);
    expect(jsonError(neither)).toMatchObject({ reason: 'wrong-key', message: expect.stringMatching(/given public keys' are .*do not use this model/) });

    const help = await cli('--help');
    expect(help.stdout).toMatch(/5 signature missing or not valid/);
    expect(readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')).toMatch(/\| 5 \| signature/);
  });
});
