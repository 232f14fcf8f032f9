/**
 * Certificate mode (model_signing's sign_certificate.py): the signing certificate and its
 * chain are in the bundle; verification checks the chain up to a trusted root at the
 * signing certificate's notBefore (as model_signing sets its X509Store time), that the
 * certificate may sign (key usage digitalSignature or extended key usage codeSigning),
 * then the identity.
 *
 * Signatures, issuer/subject matching and validity dates are checked by Node's
 * `crypto.X509Certificate` (OpenSSL); the extensions Node does not expose (key usage
 * bits, basic constraints' path length, critical flags, subject alternative names) are
 * read with @peculiar/asn1-x509's schemas — no hand-written ASN.1.
 */
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
  id_kp_codeSigning,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import { SignatureError } from '../errors.js';

/** The most certificates a path may hold (leaf, intermediates and root). */
const maxPathLength = 10;

/** The extensions read from a certificate. */
interface Extensions {
  keyUsage?: number;
  extendedKeyUsage?: string[];
  basicConstraints?: { ca: boolean; pathLength?: number };
  san: string[];
  /** Critical extensions this verifier does not process. */
  unhandledCritical: string[];
}

const handled = new Set([id_ce_basicConstraints, id_ce_keyUsage, id_ce_extKeyUsage, id_ce_subjectAltName, id_ce_authorityKeyIdentifier, id_ce_subjectKeyIdentifier]);

/** Reads the extensions of a DER certificate. @throws SignatureError `malformed` */
function extensionsOf(der: Buffer, what: string): Extensions {
  try {
    const certificate = AsnConvert.parse(der, Certificate);
    const result: Extensions = { san: [], unhandledCritical: [] };
    for (const extension of certificate.tbsCertificate.extensions ?? []) {
      const value = extension.extnValue.buffer;
      if (extension.critical && !handled.has(extension.extnID)) result.unhandledCritical.push(extension.extnID);
      if (extension.extnID === id_ce_keyUsage) result.keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
      else if (extension.extnID === id_ce_extKeyUsage) result.extendedKeyUsage = [...AsnConvert.parse(value, ExtendedKeyUsage)].map(String);
      else if (extension.extnID === id_ce_basicConstraints) {
        const constraints = AsnConvert.parse(value, BasicConstraints);
        result.basicConstraints = { ca: constraints.cA, ...(constraints.pathLenConstraint === undefined ? {} : { pathLength: constraints.pathLenConstraint }) };
      } else if (extension.extnID === id_ce_subjectAltName) {
        for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
          if (name.rfc822Name !== undefined) result.san.push(`email:${name.rfc822Name}`);
          else if (name.uniformResourceIdentifier !== undefined) result.san.push(`URI:${name.uniformResourceIdentifier}`);
          else if (name.dNSName !== undefined) result.san.push(`DNS:${name.dNSName}`);
        }
      }
    }
    return result;
  } catch (error) {
    throw new SignatureError('malformed', `${what} cannot be read as an X.509 certificate`, [], { cause: error });
  }
}

/** One certificate, parsed. */
export interface ParsedCertificate {
  x509: X509Certificate;
  extensions: Extensions;
  der: Buffer;
}

/** A certificate from DER or PEM. @throws SignatureError `malformed` */
export function readCertificate(data: Buffer | string, what: string): ParsedCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(data);
  } catch (error) {
    throw new SignatureError('malformed', `${what} cannot be read as an X.509 certificate`, [], { cause: error });
  }
  return { x509, der: x509.raw, extensions: extensionsOf(x509.raw, what) };
}

/** The certificates in PEM text (one string or several). @throws SignatureError `malformed` */
export function readPemCertificates(pem: string | string[], what: string): ParsedCertificate[] {
  const texts = Array.isArray(pem) ? pem : [pem];
  if (!texts.every((text) => typeof text === 'string')) throw new SignatureError('malformed', `${what} must be PEM text or a list of PEM texts`);
  const blocks = texts.flatMap((text) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []);
  if (blocks.length === 0) throw new SignatureError('malformed', `${what} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  return blocks.map((block, index) => readCertificate(block, `${what} (certificate ${index + 1})`));
}

/** The signing certificate's subject on one line (`CN=..., O=...`). */
export function subjectOf(certificate: ParsedCertificate): string {
  return certificate.x509.subject.split('\n').join(', ');
}

/** The subject's common names. */
function commonNames(certificate: ParsedCertificate): string[] {
  return certificate.x509.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
}

const validAt = (certificate: ParsedCertificate, time: number) => Date.parse(certificate.x509.validFrom) <= time && time <= Date.parse(certificate.x509.validTo);

function untrusted(reason: string): SignatureError {
  return new SignatureError('untrusted-certificate', `The signing certificate is not trusted: ${reason}`);
}

/** Whether `issuer` issued `subject`: names and key identifiers match and its key verifies the signature. */
function issued(subject: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return subject.x509.checkIssued(issuer.x509) && subject.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/** Whether `certificate` may issue certificates with `below` CA certificates under it. */
function checkIssuer(certificate: ParsedCertificate, below: number): void {
  const { basicConstraints, keyUsage, unhandledCritical } = certificate.extensions;
  const name = subjectOf(certificate);
  if (!basicConstraints?.ca) throw untrusted(`"${name}" issued a certificate of the chain but is not a CA (basicConstraints cA is not set)`);
  if (keyUsage !== undefined && (keyUsage & KeyUsageFlags.keyCertSign) === 0) throw untrusted(`"${name}" issued a certificate of the chain but its key usage lacks keyCertSign`);
  if (basicConstraints.pathLength !== undefined && below > basicConstraints.pathLength) throw untrusted(`the chain under "${name}" is longer than its path length constraint (${basicConstraints.pathLength})`);
  if (unhandledCritical.length > 0) throw untrusted(`"${name}" has critical extensions this verifier does not process (${unhandledCritical.join(', ')})`);
}

/**
 * Checks a bundle's chain (leaf first) against trusted roots and returns the signing
 * certificate. The path is built from the leaf through the bundle's certificates to a
 * trusted root; every certificate of it must be valid at the leaf's notBefore.
 * @throws SignatureError `untrusted-certificate`, `identity`, `malformed`
 */
export function verifyChain(chain: Buffer[], roots: ParsedCertificate[], identity: string | undefined): ParsedCertificate {
  const certificates = chain.map((der, index) => readCertificate(der, index === 0 ? 'The signing certificate' : `Certificate ${index + 1} of the bundle's chain`));
  const leaf = certificates[0]!;
  const time = Date.parse(leaf.x509.validFrom);
  if (!validAt(leaf, time)) throw untrusted(`"${subjectOf(leaf)}" is not valid at its own notBefore`);
  if (leaf.extensions.unhandledCritical.length > 0) throw untrusted(`"${subjectOf(leaf)}" has critical extensions this verifier does not process (${leaf.extensions.unhandledCritical.join(', ')})`);
  const isRoot = (certificate: ParsedCertificate) => roots.some((root) => root.x509.fingerprint256 === certificate.x509.fingerprint256);
  let current = leaf;
  let intermediates = 0;
  const pool = certificates.slice(1);
  for (let depth = 1; !isRoot(current); depth++) {
    if (depth >= maxPathLength) throw untrusted(`no path of at most ${maxPathLength} certificates leads to a trusted root`);
    const root = roots.find((candidate) => issued(current, candidate));
    if (root) {
      if (!validAt(root, time)) throw untrusted(`the trusted root "${subjectOf(root)}" was not valid when the signing certificate was issued`);
      checkIssuer(root, intermediates);
      break;
    }
    const index = pool.findIndex((candidate) => issued(current, candidate));
    if (index < 0) throw untrusted(`"${subjectOf(current)}" was not issued by a trusted root or by a certificate of the bundle's chain`);
    const next = pool.splice(index, 1)[0]!;
    if (!validAt(next, time)) throw untrusted(`"${subjectOf(next)}" was not valid when the signing certificate was issued`);
    checkIssuer(next, intermediates);
    intermediates++;
    current = next;
  }
  const { keyUsage, extendedKeyUsage } = leaf.extensions;
  const maySign = (keyUsage !== undefined && (keyUsage & KeyUsageFlags.digitalSignature) !== 0) || (extendedKeyUsage ?? []).includes(id_kp_codeSigning);
  if (!maySign) throw untrusted(`"${subjectOf(leaf)}" may not sign: its key usage lacks digitalSignature and its extended key usage lacks codeSigning`);
  if (identity !== undefined) {
    const names = [...leaf.extensions.san, ...commonNames(leaf).map((name) => `CN:${name}`)];
    const matches = names.some((name) => name.slice(name.indexOf(':') + 1) === identity);
    if (!matches) throw new SignatureError('identity', `The signing certificate names ${names.length > 0 ? names.join(', ') : 'no identity'}, not ${JSON.stringify(identity)}`);
  }
  return leaf;
}

/** Subject alternative names of a certificate (`email:…`, `URI:…`, `DNS:…`). */
export function sanOf(certificate: ParsedCertificate): string[] {
  return [...certificate.extensions.san];
}

/**
 * Why a signer's chain (signing certificate first) cannot sign now, or undefined: the
 * signing certificate must allow signing (key usage digitalSignature or extended key usage
 * codeSigning) and be valid at `now`, and each certificate must be issued by the next.
 * (That the first certificate holds the signing key is checked by the caller.)
 */
export function signingChainProblem(chain: ParsedCertificate[], now: number): string | undefined {
  const leaf = chain[0]!;
  const { keyUsage, extendedKeyUsage } = leaf.extensions;
  const maySign = (keyUsage !== undefined && (keyUsage & KeyUsageFlags.digitalSignature) !== 0) || (extendedKeyUsage ?? []).includes(id_kp_codeSigning);
  if (!maySign) return `the signing certificate "${subjectOf(leaf)}" may not sign: its key usage lacks digitalSignature and its extended key usage lacks codeSigning (a verifier refuses it)`;
  if (!validAt(leaf, now)) return `the signing certificate "${subjectOf(leaf)}" is not valid now (valid from ${leaf.x509.validFrom} to ${leaf.x509.validTo})`;
  for (let index = 0; index + 1 < chain.length; index++) {
    if (!issued(chain[index]!, chain[index + 1]!))
      return `certificate ${index + 1} ("${subjectOf(chain[index]!)}") was not issued by certificate ${index + 2} ("${subjectOf(chain[index + 1]!)}"): give the signing certificate first, then each certificate's issuer in order`;
  }
  return undefined;
}
