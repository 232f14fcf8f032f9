/**
 * Keys of model signing: reading PEM keys, the algorithm each key signs with (as
 * model_signing's sign_ec_key.py: ECDSA with SHA-256/384/512 by curve, DER signatures),
 * and the key hint (hex sha256 of the public key's SubjectPublicKeyInfo PEM text).
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject, sign as signData, verify as verifyData } from 'node:crypto';
import { SignatureError } from '../errors.js';

const curveHash: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

/** How a key signs: the digest (null for Ed25519) and, for ECDSA, DER signatures. */
export interface KeyAlgorithm {
  digest: string | null;
  dsaEncoding?: 'der';
}

/** The algorithm of `key` (public or private). @throws SignatureError `unsupported` */
export function algorithmOf(key: KeyObject): KeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const digest = curveHash[curve];
      if (!digest) throw new SignatureError('unsupported', `ECDSA keys on curve ${curve || 'unknown'} are not supported: use P-256, P-384 or P-521 (as model_signing)`);
      return { digest, dsaEncoding: 'der' };
    }
    case 'ed25519':
      return { digest: null };
    case 'rsa':
      return { digest: 'sha256' };
    default:
      throw new SignatureError('unsupported', `${key.asymmetricKeyType ?? 'unknown'} keys are not supported: use ECDSA (P-256, P-384, P-521), Ed25519 or RSA`);
  }
}

/** A private key from PEM text or a KeyObject. @throws SignatureError `malformed` */
export function readPrivateKey(key: string | KeyObject, passphrase: string | undefined, what = 'privateKey'): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'private') throw new SignatureError('malformed', `${what} is a ${key.type} key, not a private key`);
    return key;
  }
  if (typeof key !== 'string') throw new SignatureError('malformed', `${what} must be PEM text or a KeyObject`);
  if (/-----BEGIN PUBLIC KEY-----/.test(key) && !/PRIVATE KEY-----/.test(key)) {
    throw new SignatureError('malformed', `${what} is a public key (PEM "BEGIN PUBLIC KEY"): signing needs the private key it belongs to; the public key is what verifiers are given`);
  }
  try {
    return createPrivateKey(passphrase === undefined ? { key, format: 'pem' } : { key, format: 'pem', passphrase });
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(key) || /passphrase|decrypt|bad decrypt/i.test((error as Error).message);
    if (encrypted && passphrase === undefined) throw new SignatureError('malformed', `${what} is encrypted: pass its passphrase (passphrase: '...')`, [], { cause: error });
    if (encrypted) throw new SignatureError('malformed', `${what} cannot be decrypted with the given passphrase: check the passphrase`, [], { cause: error });
    throw new SignatureError('malformed', `${what} cannot be read (not a PEM private key): give a PEM private key (PKCS#8, SEC1 or PKCS#1), with its passphrase if it is encrypted`, [], { cause: error });
  }
}

/** A public key from PEM text (SubjectPublicKeyInfo, or a certificate) or a KeyObject (a private one gives its public half). @throws SignatureError `malformed` */
export function readPublicKey(key: string | KeyObject, what = 'publicKey'): KeyObject {
  if (key instanceof KeyObject) return key.type === 'private' ? createPublicKey(key) : key.type === 'public' ? key : invalidKey(what, 'a secret key');
  if (typeof key !== 'string') throw new SignatureError('malformed', `${what} must be PEM text or a KeyObject`);
  try {
    return createPublicKey({ key, format: 'pem' });
  } catch (error) {
    throw new SignatureError('malformed', `${what} cannot be read: give a PEM public key ("BEGIN PUBLIC KEY")`, [], { cause: error });
  }
}

function invalidKey(what: string, kind: string): never {
  throw new SignatureError('malformed', `${what} is ${kind}, not a public key`);
}

/** The key hint model_signing records: hex sha256 of the public key's SubjectPublicKeyInfo PEM text. */
export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'pem' }) as string)
    .digest('hex');
}

/** Signs `data` with `privateKey` in its algorithm. */
export function signWith(privateKey: KeyObject, data: Buffer): Buffer {
  const { digest, dsaEncoding } = algorithmOf(privateKey);
  return signData(digest, data, dsaEncoding ? { key: privateKey, dsaEncoding } : privateKey);
}

/** Whether `signature` over `data` verifies with `publicKey` (false for a signature that cannot be read). */
export function verifyWith(publicKey: KeyObject, data: Buffer, signature: Uint8Array): boolean {
  const { digest, dsaEncoding } = algorithmOf(publicKey);
  try {
    return verifyData(digest, data, dsaEncoding ? { key: publicKey, dsaEncoding } : publicKey, signature);
  } catch {
    return false;
  }
}
