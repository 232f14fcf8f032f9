/**
 * Signing and verifying models: the checks of signers and verifications before any I/O,
 * the bundle a signer makes, the signature check of a bundle, and the comparison of an
 * extracted folder with its manifest.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import path from 'node:path';
import { InvalidOptionError, ModelStoreError, SignatureError } from '../errors.js';
import { importOptional } from '../optional-dependency.js';
import { bundleJson, bundleName, compareCodePoints, isIgnored, pae, parseBundle, parseStatement, statementPayload, type ModelBinding, type ParsedBundle, type ParsedStatement, type SignedFile } from './bundle.js';
import { readPemCertificates, sanOf, signingChainProblem, subjectOf, verifyChain, type ParsedCertificate } from './certificates.js';
import { compareWithManifest, describe, hashFolder } from './files.js';
import { algorithmOf, keyHint, readPrivateKey, readPublicKey, signWith, verifyWith } from './keys.js';
import type { ModelSignatureInfo, ModelSigner, ModelVerification } from './types.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The smallest RSA modulus (bits) a signer may use. */
const minRsaBits = 2048;

/** A signer, checked: what signs the DSSE PAE, and what the bundle records. */
export interface PreparedSigner {
  kind: 'public-key' | 'certificate' | 'sigstore';
  /** Makes the bundle JSON for a payload. */
  bundle(payload: Buffer): Promise<string>;
}

/**
 * Checks a `ModelSigner` before any I/O.
 * @throws InvalidOptionError (shape; a `publicKey` that is a private key; a `certificateChain` whose first certificate
 *   is not the key's, that may not sign, is not valid now, or whose certificates are not each issued by the next),
 *   SignatureError `malformed` (a key or certificate that cannot be read) or `unsupported` (a key type, RSA below 2048 bits)
 */
export function prepareSigner(signer: ModelSigner, method: string, option = 'sign'): PreparedSigner {
  if (!isObject(signer)) throw new InvalidOptionError(option, `${method}: ${option} must be { privateKey }, { publicKey, sign } or { sigstore }, got ${signer === null ? 'null' : typeof signer}`);
  if ('sigstore' in signer) {
    const options = signer.sigstore;
    if (!isObject(options) || (options.identityToken !== undefined && typeof options.identityToken !== 'string')) throw new InvalidOptionError(option, `${method}: ${option}.sigstore must be { identityToken?: string }`);
    return { kind: 'sigstore', bundle: (payload) => sigstoreBundle(payload, options.identityToken) };
  }
  const chain = 'certificateChain' in signer && signer.certificateChain !== undefined ? readPemCertificates(signer.certificateChain, `${method}: ${option}.certificateChain`) : undefined;
  let publicKey: KeyObject;
  let signBytes: (data: Buffer) => Promise<Uint8Array>;
  if ('privateKey' in signer) {
    if (signer.passphrase !== undefined && typeof signer.passphrase !== 'string') throw new InvalidOptionError(option, `${method}: ${option}.passphrase must be a string`);
    const privateKey = readPrivateKey(signer.privateKey, signer.passphrase, `${method}: ${option}.privateKey`);
    algorithmOf(privateKey);
    publicKey = createPublicKey(privateKey);
    signBytes = async (data) => signWith(privateKey, data);
  } else if ('publicKey' in signer && typeof signer.sign === 'function') {
    refusePrivateKey(signer.publicKey, `${method}: ${option}.publicKey`, option);
    publicKey = readPublicKey(signer.publicKey, `${method}: ${option}.publicKey`);
    algorithmOf(publicKey);
    const callback = signer.sign.bind(signer);
    signBytes = async (data) => {
      let signature: Uint8Array;
      try {
        signature = await callback(new Uint8Array(data));
      } catch (error) {
        throw new SignatureError(
          'signing-failed',
          `${method}: ${option}.sign failed: ${error instanceof Error ? error.message : String(error)}. Nothing was written: check the signing service (its key, permissions and reachability), then sign again`,
          [],
          { cause: error },
        );
      }
      if (!(signature instanceof Uint8Array)) throw new SignatureError('malformed', `${method}: ${option}.sign returned ${typeof signature}, not the signature's bytes (a Uint8Array)`);
      return signature;
    };
  } else {
    throw new InvalidOptionError(option, `${method}: ${option} must be { privateKey }, { publicKey, sign } or { sigstore }`);
  }
  if (chain && !sameKey(chain[0]!.x509.publicKey, publicKey)) {
    throw new InvalidOptionError(
      `${option}.certificateChain`,
      `${method}: the first certificate of ${option}.certificateChain ("${subjectOf(chain[0]!)}") is not the signing key's certificate: its public key differs. Give the certificate issued for this key first, then its intermediates`,
    );
  }
  const problem = chain ? signingChainProblem(chain, Date.now()) : undefined;
  if (problem !== undefined) throw new InvalidOptionError(`${option}.certificateChain`, `${method}: ${option}.certificateChain cannot sign: ${problem}`);
  if (publicKey.asymmetricKeyType === 'rsa' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < minRsaBits) {
    throw new SignatureError(
      'unsupported',
      `${method}: the signing key is RSA with ${publicKey.asymmetricKeyDetails?.modulusLength ?? 'unknown'} bits: RSA keys below ${minRsaBits} bits are too weak to sign with; use an ECDSA P-256 key (what model_signing verifies) or RSA of ${minRsaBits} bits or more`,
    );
  }
  const hint = keyHint(publicKey);
  return {
    kind: chain ? 'certificate' : 'public-key',
    async bundle(payload) {
      const data = pae(payload);
      const signature = await signBytes(data);
      if (!verifyWith(publicKey, data, signature))
        throw new SignatureError('wrong-key', `${method}: the signature made by ${option}.sign does not verify with ${option}.publicKey: they are not a pair, or the signature is not in the key's format (DER for ECDSA)`);
      return bundleJson(payload, signature, chain ? { certificates: chain.map((certificate) => certificate.der) } : { keyHint: hint });
    },
  };
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

/** Keyless Sigstore signing through the optional `@sigstore/sign` (Fulcio + Rekor, public-good instance; needs network). */
async function sigstoreBundle(payload: Buffer, identityToken: string | undefined): Promise<string> {
  // biome-ignore lint/suspicious/noExplicitAny: an optional peer dependency, typed by its own package when installed
  const sigstore: any = await importOptional(() => import('@sigstore/sign' as string), '@sigstore/sign', 'Keyless (Sigstore) model signing');
  const token = identityToken ?? process.env.SIGSTORE_ID_TOKEN;
  if (!token) throw new InvalidOptionError('sign', 'Keyless (Sigstore) signing needs an OIDC identity token: pass sign: { sigstore: { identityToken } } or set SIGSTORE_ID_TOKEN');
  try {
    const signer = new sigstore.FulcioSigner({ fulcioBaseURL: sigstore.DEFAULT_FULCIO_URL, identityProvider: { getToken: async () => token } });
    const witness = new sigstore.RekorWitness({ rekorBaseURL: sigstore.DEFAULT_REKOR_URL });
    const builder = new sigstore.DSSEBundleBuilder({ signer, witnesses: [witness] });
    const bundle = await builder.create({ data: payload, type: 'application/vnd.in-toto+json' });
    const { bundleToJSON } = await importOptional(() => import('@sigstore/bundle' as string), '@sigstore/bundle', 'Keyless (Sigstore) model signing');
    return JSON.stringify(bundleToJSON(bundle));
  } catch (error) {
    if (ModelStoreError.isInstance(error)) throw error;
    throw new SignatureError('unsupported', `Keyless (Sigstore) signing failed: ${(error as Error).message}`, [], { cause: error });
  }
}

/** A verification, checked. */
export type PreparedVerification = ({ kind: 'public-key'; keys: { publicKey: KeyObject; hint: string }[] } | { kind: 'certificate'; roots: ParsedCertificate[]; identity: string | undefined }) & { allowUnbound: boolean };

/**
 * Checks a `ModelVerification` before any I/O.
 * @throws InvalidOptionError (shape: not an object, both `publicKey` and `certificate`, a private key given as `publicKey`,
 *   `allowUnbound` not a boolean), SignatureError `malformed` (keys, certificates)
 */
export function prepareVerification(verification: ModelVerification, method: string, option = 'verify'): PreparedVerification {
  if (!isObject(verification)) throw new InvalidOptionError(option, `${method}: ${option} must be { publicKey } or { certificate, identity? }, got ${verification === null ? 'null' : typeof verification}`);
  const given = verification as Record<string, unknown>;
  if (given.allowUnbound !== undefined && typeof given.allowUnbound !== 'boolean') throw new InvalidOptionError(option, `${method}: ${option}.allowUnbound must be a boolean`);
  const allowUnbound = given.allowUnbound === true;
  if (given.publicKey !== undefined && given.certificate !== undefined)
    throw new InvalidOptionError(option, `${method}: ${option} has both publicKey and certificate: give { publicKey } for a key-signed model or { certificate, identity? } for a certificate-signed one, not both`);
  if ('publicKey' in verification && verification.publicKey !== undefined) {
    const list = Array.isArray(verification.publicKey) ? (verification.publicKey as unknown[]) : [verification.publicKey];
    if (list.length === 0) throw new InvalidOptionError(option, `${method}: ${option}.publicKey is an empty list: give at least one PEM public key`);
    const keys = list.map((key, index) => {
      const what = list.length > 1 ? `${method}: ${option}.publicKey[${index}]` : `${method}: ${option}.publicKey`;
      refusePrivateKey(key, what, option);
      const publicKey = readPublicKey(key as string | KeyObject, what);
      algorithmOf(publicKey);
      return { publicKey, hint: keyHint(publicKey) };
    });
    return { kind: 'public-key', keys, allowUnbound };
  }
  if ('certificate' in verification && verification.certificate !== undefined) {
    if (verification.identity !== undefined && (typeof verification.identity !== 'string' || verification.identity === ''))
      throw new InvalidOptionError(option, `${method}: ${option}.identity must be a non-empty string (an email, URI or DNS name, or a common name)`);
    return { kind: 'certificate', roots: readPemCertificates(verification.certificate, `${method}: ${option}.certificate`), identity: verification.identity, allowUnbound };
  }
  throw new InvalidOptionError(option, `${method}: ${option} must be { publicKey } or { certificate, identity? }`);
}

/** A private key where a public key belongs: refused, not silently reduced to its public half. @throws InvalidOptionError */
function refusePrivateKey(key: unknown, what: string, option: string): void {
  const isPrivate = key instanceof KeyObject ? key.type === 'private' : typeof key === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key);
  if (isPrivate) {
    throw new InvalidOptionError(option, `${what} is a private key: give the public key (PEM "BEGIN PUBLIC KEY"; \`openssl pkey -in key.pem -pubout -out pub.pem\` makes it), and keep the private key to the signer`);
  }
}

/** A bundle whose signature was checked, and its statement. */
export interface CheckedBundle {
  statement: ParsedStatement;
  info: Omit<ModelSignatureInfo, 'key' | 'verified'>;
}

/** What a bundle says of itself, without checking it. */
function describeBundle(bundle: ParsedBundle, statement: ParsedStatement): Omit<ModelSignatureInfo, 'key' | 'verified'> {
  const info: Omit<ModelSignatureInfo, 'key' | 'verified'> = { kind: bundle.material.kind, files: statement.files.map((file) => ({ ...file })), subjectName: statement.subjectName, bound: statement.binding !== undefined };
  if (bundle.material.kind === 'public-key') {
    if (bundle.material.keyHint !== undefined) info.keyHint = bundle.material.keyHint;
  } else {
    try {
      const [leaf] = readPemCertificatesFromDer(bundle.material.certificates);
      if (leaf) {
        info.certificateSubject = subjectOf(leaf);
        info.certificateSan = sanOf(leaf);
      }
    } catch {
      // An unreadable certificate is reported by the verification, not by the description.
    }
  }
  return info;
}

function readPemCertificatesFromDer(certificates: Buffer[]): ParsedCertificate[] {
  return certificates.slice(0, 1).map((der) => readPemCertificates(`-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----`, 'The signing certificate')[0]!);
}

/** Parses a bundle without checking it (for `getSignature`). @throws SignatureError `malformed`, `unsupported` */
export function readSignature(text: string | Uint8Array, key: string): ModelSignatureInfo {
  const bundle = parseBundle(text, key);
  return { ...describeBundle(bundle, parseStatement(bundle.payload, key)), verified: false, key };
}

/** What to do with a model whose signature does not hold. */
export const doNotUse = 'do not use this model: download it again from a trusted store, or re-upload it from a trusted copy';

/**
 * Checks a bundle's signature against a verification, then reads its statement and its
 * binding. @param binding the model it must be bound to (a bundle without a binding, as
 * model_signing writes for a folder, is refused unless the verification allows unbound bundles)
 * @throws SignatureError `wrong-key`, `untrusted-certificate`, `identity`, `unbound`, `tampered` (bound to another model, or a payload changed under a matching key hint), `malformed`, `unsupported`
 */
export function checkBundle(text: string | Uint8Array, key: string, verification: PreparedVerification, binding: ModelBinding): CheckedBundle {
  const bundle = parseBundle(text, key);
  const data = pae(bundle.payload);
  let usedHint: string | undefined;
  if (verification.kind === 'public-key') {
    if (bundle.material.kind !== 'public-key')
      throw new SignatureError('wrong-key', `The model is signed with a certificate${bundle.material.kind === 'sigstore' ? ' (Sigstore)' : ''}, not with a public key: verify it with { certificate }`);
    const hint = bundle.material.keyHint;
    const given = verification.keys.map((candidate) => candidate.hint);
    const givenPhrase = given.length === 1 ? `the given public key's is ${given[0]}` : `the given public keys' are ${given.join(', ')}`;
    const candidates = hint === undefined ? verification.keys : verification.keys.filter((candidate) => candidate.hint === hint);
    if (candidates.length === 0)
      throw new SignatureError(
        'wrong-key',
        `The model is signed by another key (key hint ${hint}; ${givenPhrase}): verify it with the signer's public key; if ${given.length > 1 ? 'one of these keys' : 'this key'} should have signed it, ${doNotUse}`,
      );
    const matched = candidates.find((candidate) => verifyWith(candidate.publicKey, data, bundle.signature));
    if (!matched) {
      if (hint !== undefined) throw new SignatureError('tampered', `The model's signature does not verify with the key it names (${hint}): the bundle ${key} was changed after it was signed; ${doNotUse}`);
      throw new SignatureError(
        'wrong-key',
        `The model is not signed by the given public key${given.length > 1 ? 's' : ''} (its signature does not verify with ${given.length > 1 ? 'any of them' : 'it'}): verify it with the signer's public key; if ${given.length > 1 ? 'one of these keys' : 'this key'} should have signed it, ${doNotUse}`,
      );
    }
    usedHint = matched.hint;
  } else {
    if (bundle.material.kind === 'public-key') throw new SignatureError('untrusted-certificate', 'The model is signed with a bare public key, not with a certificate: verify it with { publicKey }');
    if (bundle.material.kind === 'sigstore')
      throw new SignatureError('unsupported', 'The model is signed keylessly with Sigstore (a transparency-log entry): verify it with `model_signing verify sigstore`; this version verifies key and certificate signatures');
    const leaf = verifyChain(bundle.material.certificates, verification.roots, verification.identity);
    let algorithmOk = true;
    try {
      algorithmOf(leaf.x509.publicKey);
    } catch {
      algorithmOk = false;
    }
    if (!algorithmOk || !verifyWith(leaf.x509.publicKey, data, bundle.signature))
      throw new SignatureError('tampered', `The model's signature does not verify with its signing certificate ("${subjectOf(leaf)}"): the bundle ${key} was changed after it was signed; ${doNotUse}`);
  }
  const statement = parseStatement(bundle.payload, key);
  if (statement.binding && (statement.binding.domain !== binding.domain || statement.binding.model_id !== binding.model_id)) {
    throw new SignatureError(
      'tampered',
      `The signature belongs to model "${statement.binding.model_id}" of domain "${statement.binding.domain}", not to "${binding.model_id}" of "${binding.domain}": the model's metadata or bundle was swapped; ${doNotUse}`,
    );
  }
  if (!statement.binding && !verification.allowUnbound) {
    throw new SignatureError(
      'unbound',
      `Model "${binding.model_id}" of domain "${binding.domain}" has a signature that is not bound to it (${key} names no domain and model id, as a bundle model_signing made on a folder): ` +
        `it would verify any archive whose files that key signed, so whoever can write the store could point this model at another one. ` +
        `Check the model's files, then bind its signature with signModel("${binding.domain}", "${binding.model_id}", signer, { overwrite: true }); or accept the unbound signature with allowUnbound: true. Nothing was written.`,
    );
  }
  const info = describeBundle(bundle, statement);
  if (usedHint !== undefined) info.keyHint = usedHint;
  return { statement, info };
}

/**
 * Top-level paths `model_signing` never hashes that could run code: git reads `.git/config`
 * (`core.fsmonitor`, hooks) on the first `git status` in the folder, and `.github/` holds
 * workflows. A signature cannot cover them, so a verified folder must not hold them.
 */
export const refusedUnsigned = ['.git', '.github'];

/**
 * Compares the files of an extracted model with a checked bundle's manifest (the bundle's
 * own file, its ignore paths, and those of `alsoIgnore` the manifest does not list, left out).
 * @returns the files the signature does not cover (the bundle's ignore paths, e.g.
 *   `.gitattributes`, `.gitignore`; and `alsoIgnore` but the bundle files `model.sig`), sorted
 * @throws SignatureError `tampered` (a file missing, added or changed; a top-level `.git` or `.github`)
 */
export async function checkFolder(directory: string, statement: ParsedStatement, signal?: AbortSignal, alsoIgnore: string[] = []): Promise<string[]> {
  const extra = alsoIgnore.filter((name) => !statement.files.some((file) => file.name === name));
  const ignore = [...new Set([...statement.ignorePaths, bundleName, ...extra])];
  const skipped: string[] = [];
  const actual = await hashFolder(directory, ignore, signal, skipped);
  const bundles = new Set([bundleName, ...extra.filter((name) => path.posix.basename(name) === bundleName)]);
  const present = [...skipped, ...actual.keys()];
  const dangerous = present.filter((name) => isIgnored(name, refusedUnsigned));
  if (dangerous.length > 0) {
    throw new SignatureError(
      'tampered',
      `The model holds ${describe(dangerous)}: git and GitHub paths (.git/, .github/) are never covered by a model signature (model_signing leaves them out), and git runs commands from .git/config. Nothing was written: do not use this model; download it again from a trusted store, or re-upload it from a trusted copy without .git/ and .github/.`,
      dangerous,
    );
  }
  compareWithManifest(statement.files, actual);
  return skipped.filter((name) => !bundles.has(name)).sort(compareCodePoints);
}

/** The payload our signatures sign: the manifest and the `<domain>/<model id>` binding. */
export function modelPayload(files: SignedFile[], binding: ModelBinding): Buffer {
  return statementPayload(binding.model_id, files, binding);
}
