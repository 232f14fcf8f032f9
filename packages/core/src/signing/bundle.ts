/**
 * The OpenSSF Model Signing (OMS) v1.0 bundle, as the Python `model-signing` 1.1.1
 * package writes it (model_signing/_signing/signing.py, sign_sigstore_pb.py,
 * manifest.py): a Sigstore bundle v0.3 (https://docs.sigstore.dev/about/bundle/) whose
 * `dsseEnvelope` (https://github.com/secure-systems-lab/dsse, v1.0) signs an in-toto
 * Statement v1 (https://github.com/in-toto/attestation/tree/main/spec/v1) listing every
 * file of the model with its sha256.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SignatureError } from '../errors.js';

/** The bundle's file name, in the model's folder and beside the archive in the store. */
export const bundleName = 'model.sig';
export const bundleMediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const inTotoPayloadType = 'application/vnd.in-toto+json';
export const statementType = 'https://in-toto.io/Statement/v1';
export const predicateType = 'https://model_signing/signature/v1.0';

/**
 * What `model_signing sign` leaves out of a folder's manifest by default (hashing.py:
 * the git paths, and the signature file itself), in the order it records them in
 * `predicate.serialization.ignore_paths`. Our manifests leave out the same top-level
 * paths, so that `model_signing verify` of a downloaded folder hashes exactly what we signed.
 */
export const defaultIgnorePaths = ['.gitattributes', '.github', '.gitignore', '.git', bundleName];

/** The storage key of a model's bundle: `<folder of the archive>/model.sig`. */
export function bundleKeyOf(archiveKey: string): string {
  return `${path.posix.dirname(archiveKey)}/${bundleName}`;
}

/** A manifest entry: a posix path relative to the model's folder and its hex sha256. */
export interface SignedFile {
  name: string;
  sha256: string;
}

/** The `<domain>/<model id>` binding our signatures carry in `predicate.modelstore`. */
export interface ModelBinding {
  domain: string;
  model_id: string;
}

/** Whether `name` (a posix path in the model's folder) is one of `ignorePaths` or inside one. */
export function isIgnored(name: string, ignorePaths: readonly string[]): boolean {
  return ignorePaths.some((ignored) => {
    const prefix = ignored.replace(/\/+$/, '');
    return prefix !== '' && (name === prefix || name.startsWith(`${prefix}/`));
  });
}

/** Compares by Unicode code point, as Python's `sorted` orders strings. */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** The manifest of `files` (path → sha256): ignored paths left out, sorted as model_signing sorts. */
export function manifestOf(files: Iterable<[string, string]>, ignorePaths: readonly string[] = defaultIgnorePaths): SignedFile[] {
  return [...files]
    .filter(([name]) => !isIgnored(name, ignorePaths))
    .map(([name, sha256]) => ({ name, sha256 }))
    .sort((a, b) => compareCodePoints(a.name, b.name));
}

/** The in-toto subject digest: sha256 over the raw digests of the resources, in their order. */
function rootDigest(files: readonly SignedFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(Buffer.from(file.sha256, 'hex'));
  return hash.digest('hex');
}

/** The statement our signatures sign (JSON bytes, the DSSE payload). */
export function statementPayload(subjectName: string, files: readonly SignedFile[], binding: ModelBinding | undefined): Buffer {
  const statement = {
    _type: statementType,
    subject: [{ name: subjectName, digest: { sha256: rootDigest(files) } }],
    predicateType,
    predicate: {
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: defaultIgnorePaths },
      resources: files.map((file) => ({ name: file.name, algorithm: 'sha256', digest: file.sha256 })),
      ...(binding ? { modelstore: binding } : {}),
    },
  };
  return Buffer.from(JSON.stringify(statement, null, 2), 'utf8');
}

/** DSSE v1 pre-authentication encoding of an in-toto payload: what is really signed. */
export function pae(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(inTotoPayloadType)} ${inTotoPayloadType} ${payload.length} `, 'utf8'), payload]);
}

/** How a bundle says who signed it. */
export type VerificationMaterial = { kind: 'public-key'; keyHint?: string } | { kind: 'certificate' | 'sigstore'; certificates: Buffer[] };

/** A bundle read from its JSON, before any check of its signature. */
export interface ParsedBundle {
  material: VerificationMaterial;
  /** The DSSE payload (the statement's JSON bytes). */
  payload: Buffer;
  /** The first DSSE signature. */
  signature: Buffer;
}

/** The statement of a bundle (read from its payload, which the signature covers). */
export interface ParsedStatement {
  subjectName: string;
  files: SignedFile[];
  ignorePaths: string[];
  binding: ModelBinding | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64(value: unknown, what: string, where: string): Buffer {
  if (typeof value !== 'string' || !base64.test(value)) throw malformed(where, `${what} is not base64`);
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

function malformed(where: string, reason: string, cause?: unknown): SignatureError {
  return new SignatureError(
    'malformed',
    `The signature bundle ${where} cannot be read: ${reason}. Do not use this model: download it again from a trusted store, or re-upload it from a trusted copy and sign it again`,
    [],
    cause === undefined ? {} : { cause },
  );
}

/**
 * Reads a bundle's JSON. @param where names the bundle in messages (its storage key)
 * @throws SignatureError `malformed` (not JSON, not a Sigstore v0.x bundle with a DSSE envelope), `unsupported` (a message signature bundle)
 */
export function parseBundle(text: string | Uint8Array, where: string): ParsedBundle {
  let bundle: unknown;
  try {
    bundle = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  } catch (error) {
    throw malformed(where, 'it is not JSON', error);
  }
  if (!isObject(bundle)) throw malformed(where, 'it is not a JSON object');
  if (typeof bundle.mediaType !== 'string' || !bundle.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) throw malformed(where, `mediaType is ${JSON.stringify(bundle.mediaType)}, not a Sigstore bundle`);
  const envelope = bundle.dsseEnvelope;
  if (!isObject(envelope)) {
    if (isObject(bundle.messageSignature)) throw new SignatureError('unsupported', `The signature bundle ${where} signs a message, not a model manifest (no dsseEnvelope)`);
    throw malformed(where, 'it has no dsseEnvelope');
  }
  if (envelope.payloadType !== inTotoPayloadType) throw malformed(where, `payloadType is ${JSON.stringify(envelope.payloadType)}, not ${inTotoPayloadType}`);
  const payload = decodeBase64(envelope.payload, 'the payload', where);
  if (!Array.isArray(envelope.signatures) || envelope.signatures.length === 0 || !isObject(envelope.signatures[0])) throw malformed(where, 'it holds no signature');
  const signature = decodeBase64(envelope.signatures[0].sig, 'the signature', where);
  const material = bundle.verificationMaterial;
  if (!isObject(material)) throw malformed(where, 'it has no verificationMaterial');
  const logged = Array.isArray(material.tlogEntries) && material.tlogEntries.length > 0;
  if (isObject(material.publicKey)) {
    const hint = material.publicKey.hint;
    if (hint !== undefined && hint !== null && typeof hint !== 'string') throw malformed(where, 'publicKey.hint is not a string');
    return { material: { kind: 'public-key', ...(typeof hint === 'string' && hint !== '' ? { keyHint: hint } : {}) }, payload, signature };
  }
  const certificates: Buffer[] = [];
  if (isObject(material.x509CertificateChain)) {
    const list = material.x509CertificateChain.certificates;
    if (!Array.isArray(list) || list.length === 0) throw malformed(where, 'x509CertificateChain holds no certificate');
    for (const certificate of list) certificates.push(decodeBase64(isObject(certificate) ? certificate.rawBytes : undefined, 'a certificate', where));
  } else if (isObject(material.certificate)) {
    certificates.push(decodeBase64(material.certificate.rawBytes, 'the certificate', where));
  } else {
    throw malformed(where, 'verificationMaterial holds no public key hint or certificate');
  }
  return { material: { kind: logged ? 'sigstore' : 'certificate', certificates }, payload, signature };
}

/**
 * Reads the statement in a bundle's payload (as model_signing's `dsse_payload_to_manifest`).
 * @throws SignatureError `malformed` (not a v1.0 model statement, inconsistent subject digest), `unsupported` (shard serialization, another hash)
 */
export function parseStatement(payload: Buffer, where: string): ParsedStatement {
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw malformed(where, 'its payload is not JSON', error);
  }
  if (!isObject(statement)) throw malformed(where, 'its payload is not a JSON object');
  if (statement.predicateType !== predicateType) {
    throw new SignatureError('unsupported', `The signature bundle ${where} has predicateType ${JSON.stringify(statement.predicateType)}; this version reads ${predicateType} (model_signing 1.x)`);
  }
  const subjects = statement.subject;
  if (!Array.isArray(subjects) || subjects.length !== 1 || !isObject(subjects[0]) || !isObject(subjects[0].digest) || typeof subjects[0].digest.sha256 !== 'string') {
    throw malformed(where, 'its statement does not have exactly one subject with a sha256 digest');
  }
  const subject = subjects[0] as { name?: unknown; digest: { sha256: string } };
  const predicate = statement.predicate;
  if (!isObject(predicate) || !isObject(predicate.serialization) || !Array.isArray(predicate.resources)) throw malformed(where, 'its predicate lacks serialization or resources');
  const serialization = predicate.serialization;
  if (serialization.method !== 'files') throw new SignatureError('unsupported', `The signature bundle ${where} uses the ${JSON.stringify(serialization.method)} serialization; this version verifies "files"`);
  if (serialization.hash_type !== 'sha256') throw new SignatureError('unsupported', `The signature bundle ${where} hashes with ${JSON.stringify(serialization.hash_type)}; this version verifies sha256`);
  const ignorePaths = serialization.ignore_paths === undefined ? [] : serialization.ignore_paths;
  if (!Array.isArray(ignorePaths) || !ignorePaths.every((item) => typeof item === 'string')) throw malformed(where, 'ignore_paths is not a list of paths');
  const files: SignedFile[] = [];
  const names = new Set<string>();
  for (const resource of predicate.resources) {
    if (!isObject(resource) || typeof resource.name !== 'string' || resource.algorithm !== 'sha256' || typeof resource.digest !== 'string' || !/^[0-9a-f]{64}$/.test(resource.digest)) {
      throw malformed(where, `a resource is not { name, algorithm: "sha256", digest: <64 hex digits> }: ${JSON.stringify(resource).slice(0, 200)}`);
    }
    if (names.has(resource.name)) throw malformed(where, `the manifest lists ${JSON.stringify(resource.name)} twice`);
    names.add(resource.name);
    files.push({ name: resource.name, sha256: resource.digest });
  }
  if (rootDigest(files) !== subject.digest.sha256) throw malformed(where, 'the manifest is inconsistent: its resources do not hash to the subject digest');
  const extension = predicate.modelstore;
  let binding: ModelBinding | undefined;
  if (extension !== undefined) {
    if (!isObject(extension) || typeof extension.domain !== 'string' || typeof extension.model_id !== 'string') throw malformed(where, 'predicate.modelstore is not { domain, model_id }');
    binding = { domain: extension.domain, model_id: extension.model_id };
  }
  return { subjectName: typeof subject.name === 'string' ? subject.name : '', files, ignorePaths: ignorePaths as string[], binding };
}

/** The bundle JSON for a signature, as model_signing writes it (key hint or certificate chain; no transparency log entry). */
export function bundleJson(payload: Buffer, signature: Uint8Array, material: { keyHint: string } | { certificates: Buffer[] }): string {
  return JSON.stringify({
    mediaType: bundleMediaType,
    verificationMaterial: {
      ...('keyHint' in material ? { publicKey: { hint: material.keyHint } } : { x509CertificateChain: { certificates: material.certificates.map((der) => ({ rawBytes: der.toString('base64') })) } }),
      tlogEntries: [],
    },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: inTotoPayloadType, signatures: [{ sig: Buffer.from(signature).toString('base64'), keyid: '' }] },
  });
}
