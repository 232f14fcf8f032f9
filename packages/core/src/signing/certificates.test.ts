import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { folderPerTest } from '../../test/support.js';
import { generateKeyPairSync } from 'node:crypto';
import { bytesAdapter } from '../../test/bytes-adapter.js';
import { rejection } from '../../test/support.js';
import { MemoryStorage } from '../memory-storage.js';
import { ModelStore } from '../model-store.js';
import { readPemCertificates, verifyChain } from './certificates.js';

/** Runs `openssl` in `cwd`; a machine without it fails with how to install it. */
function openssl(cwd: string, ...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') throw new Error('These tests make certificates with the openssl command, which is not installed: apt-get install openssl');
    throw error;
  }
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A certificate `name` issued by `issuer` (or self-signed without one) with these extensions; returns its DER. */
function issue(folder: string, name: string, issuer: string | undefined, extensions: string, days = '30'): Buffer {
  writeFileSync(path.join(folder, `${name}.ext`), extensions);
  if (issuer === undefined) {
    openssl(folder, 'req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`, '-days', '365', '-extensions', 'v3', '-config', writeConfig(folder, name, extensions));
  } else {
    openssl(folder, 'req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(folder, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', days, '-extfile', `${name}.ext`);
  }
  return readPemCertificates(readFileSync(path.join(folder, `${name}.pem`), 'utf8'), name)[0]!.der;
}

function writeConfig(folder: string, name: string, extensions: string): string {
  const file = path.join(folder, `${name}.cnf`);
  writeFileSync(file, `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${extensions}`);
  return file;
}

const caExtensions = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n';
const signing = 'keyUsage=critical,digitalSignature\n';

describe('certificate chains', () => {
  const folder = folderPerTest('modelstore-certificates-');

  it('a path length constraint, an issuer that is not a CA, and identities by URI, DNS name and common name', () => {
    const dir = folder.path;
    const root = issue(dir, 'root', undefined, caExtensions);
    const roots = readPemCertificates(readFileSync(path.join(dir, 'root.pem'), 'utf8'), 'root');
    const limited = issue(dir, 'limited', 'root', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n');
    const below = issue(dir, 'below', 'limited', caExtensions);
    const leafUnderBelow = issue(dir, 'deep', 'below', `${signing}subjectAltName=URI:https://example.com/ci\n`);
    // limited (pathlen 0) may not have a CA under it.
    expect(() => verifyChain([leafUnderBelow, below, limited], roots, undefined)).toThrow(expect.objectContaining({ reason: 'untrusted-certificate', message: expect.stringMatching(/path length/) }));
    const direct = issue(dir, 'direct', 'limited', `${signing}subjectAltName=DNS:models.example.com,URI:https://example.com/ci\n`);
    expect(verifyChain([direct, limited], roots, 'https://example.com/ci').x509.subject).toBe('CN=direct');
    expect(verifyChain([direct, limited, root], roots, 'models.example.com').x509.subject).toBe('CN=direct');
    expect(verifyChain([direct, limited], roots, 'direct').x509.subject).toBe('CN=direct');
    expect(() => verifyChain([direct, limited], roots, 'example.com')).toThrow(expect.objectContaining({ reason: 'identity' }));
    // An issuer without basicConstraints cA.
    const notCa = issue(dir, 'notca', 'root', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyCertSign\n');
    const underNotCa = issue(dir, 'undernotca', 'notca', signing);
    expect(() => verifyChain([underNotCa, notCa], roots, undefined)).toThrow(expect.objectContaining({ reason: 'untrusted-certificate', message: expect.stringMatching(/not a CA/) }));
    // Extended key usage codeSigning alone allows signing.
    const codeSigning = issue(dir, 'codesigning', 'root', 'extendedKeyUsage=codeSigning\n');
    expect(verifyChain([codeSigning], roots, undefined).x509.subject).toBe('CN=codesigning');
    // Neither digitalSignature nor codeSigning: may not sign.
    const server = issue(dir, 'server', 'root', 'keyUsage=critical,keyEncipherment\nextendedKeyUsage=serverAuth\n');
    expect(() => verifyChain([server], roots, undefined)).toThrow(expect.objectContaining({ reason: 'untrusted-certificate', message: expect.stringMatching(/may not sign/) }));
    // A critical extension this verifier does not process is refused, not ignored.
    const constrained = issue(dir, 'constrained', 'root', `${signing}policyConstraints=critical,requireExplicitPolicy:0\n`);
    expect(() => verifyChain([constrained], roots, undefined)).toThrow(expect.objectContaining({ reason: 'untrusted-certificate', message: expect.stringMatching(/critical extensions/) }));
    // Garbage where a certificate should be.
    expect(() => verifyChain([Buffer.from('not a certificate')], roots, undefined)).toThrow(expect.objectContaining({ code: 'SIGNATURE', reason: 'malformed' }));
  });

  it("at sign time the chain must fit: the key's certificate first, allowed to sign, valid now, each issued by the next; RSA below 2048 bits is refused", async () => {
    const dir = folder.path;
    const pem = (name: string) => readFileSync(path.join(dir, `${name}.pem`), 'utf8');
    const key = (name: string) => readFileSync(path.join(dir, `${name}.key`), 'utf8');
    issue(dir, 'root', undefined, caExtensions);
    issue(dir, 'inter', 'root', caExtensions);
    issue(dir, 'good', 'inter', signing);
    issue(dir, 'server', 'inter', 'keyUsage=critical,keyEncipherment\nextendedKeyUsage=serverAuth\n');
    issue(dir, 'expired', 'inter', signing, '-1');
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(dir, 'cache') });
    const upload = (modelId: string, sign: object) => store.upload('d', { model: Buffer.from('w'), modelId, sign: sign as never });
    await upload('ok', { privateKey: key('good'), certificateChain: [pem('good'), pem('inter')] });
    const cases: Array<[string, object, RegExp]> = [
      ['not the key', { privateKey: key('server'), certificateChain: [pem('good'), pem('inter')] }, /is not the signing key's certificate/],
      ['no signing usage', { privateKey: key('server'), certificateChain: [pem('server'), pem('inter')] }, /may not sign/],
      ['expired', { privateKey: key('expired'), certificateChain: [pem('expired'), pem('inter')] }, /not valid now/],
      ['out of order', { privateKey: key('good'), certificateChain: [pem('good'), pem('root'), pem('inter')] }, /was not issued by certificate 2/],
    ];
    for (const [, sign, message] of cases) {
      const error = await rejection(upload('bad', sign));
      expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'sign.certificateChain' });
      expect((error as Error).message).toMatch(message);
    }
    await store.signModel('d', 'ok', { privateKey: key('good'), certificateChain: [pem('good'), pem('inter'), pem('root')] }, { overwrite: true });
    expect(await rejection(store.signModel('d', 'ok', { privateKey: key('expired'), certificateChain: pem('expired') }, { overwrite: true }))).toMatchObject({ code: 'INVALID_OPTION', option: 'signer.certificateChain' });
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaError = await rejection(upload('rsa', { privateKey: weak.privateKey }));
    expect(rsaError).toMatchObject({ code: 'SIGNATURE', reason: 'unsupported' });
    expect((rsaError as Error).message).toMatch(/below 2048 bits/);
    expect(await rejection(upload('rsa', { publicKey: weak.publicKey, sign: () => new Uint8Array() }))).toMatchObject({ reason: 'unsupported' });
    expect((await storage.list('operatorai-model-store/d/versions/')).objects.map((object) => object.key)).toEqual(['operatorai-model-store/d/versions/ok.json']);
  });
});
