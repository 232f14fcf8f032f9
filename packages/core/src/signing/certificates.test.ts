import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { folderPerTest } from '../../test/support.js';
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
function issue(folder: string, name: string, issuer: string | undefined, extensions: string): Buffer {
  writeFileSync(path.join(folder, `${name}.ext`), extensions);
  if (issuer === undefined) {
    openssl(folder, 'req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`, '-days', '365', '-extensions', 'v3', '-config', writeConfig(folder, name, extensions));
  } else {
    openssl(folder, 'req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(folder, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-extfile', `${name}.ext`);
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
    // A critical extension this verifier does not process is refused, not ignored.
    const constrained = issue(dir, 'constrained', 'root', `${signing}policyConstraints=critical,requireExplicitPolicy:0\n`);
    expect(() => verifyChain([constrained], roots, undefined)).toThrow(expect.objectContaining({ reason: 'untrusted-certificate', message: expect.stringMatching(/critical extensions/) }));
    // Garbage where a certificate should be.
    expect(() => verifyChain([Buffer.from('not a certificate')], roots, undefined)).toThrow(expect.objectContaining({ code: 'SIGNATURE', reason: 'malformed' }));
  });
});
