/**
 * Model signing in the CLI (OpenSSF Model Signing v1.0, as the Python `model-signing`
 * 1.1.1 package writes and verifies it): `modelstore sign`, `modelstore verify`, the
 * key and certificate files behind `upload --sign-key` and `download --verify-key /
 * --verify-certificate / --verify-identity`, and the signature line of `info`. Over
 * core's `signModel`, `verifyModel`, `getSignature` and the `sign` / `verify` options.
 */
import { InvalidArgumentError, SignatureError, validateDomain, validateModelId, validateStateName, type ModelMetadata, type ModelSignatureInfo, type ModelSigner, type ModelStore, type ModelVerification } from '@modelstore/core';
import { archiveKeyFromLocation } from '@modelstore/core/internal';
import type { Command } from 'commander';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatBytes, shellWord } from './words.js';

/** What the signing commands need from the `modelstore` program. */
export interface SignCommandContext {
  /** Opens the store of a command that reads (an error when it holds no registry). */
  openExisting(): Promise<ModelStore>;
  /** Prints `value` as JSON with `--json`, else the text `human()` returns. */
  output(value: unknown, human: () => string): void;
  /** The environment (`--passphrase-env` names one of its variables). */
  env: Record<string, string | undefined>;
  /** Tells the error report that the running command signs (its failures read "signing failed"). */
  signing(): void;
}

/** Reads a PEM file given to `flag`; a missing or unreadable file is an InvalidArgumentError naming the flag. */
function readPemFile(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message;
    throw new InvalidArgumentError(`${flag} ${file}: ${why}`, { argument: flag });
  }
  if (!text.includes('-----BEGIN ')) throw new InvalidArgumentError(`${flag} ${file} is not a PEM file (no -----BEGIN line)`, { argument: flag });
  return text;
}

/** The certificates of a PEM text, one PEM block each, checked to parse. */
function certificatesOf(text: string, file: string, flag: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InvalidArgumentError(`${flag} ${file} holds no certificate (-----BEGIN CERTIFICATE-----)`, { argument: flag });
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new InvalidArgumentError(`${flag} ${file} holds a certificate that cannot be read: ${(error as Error).message}`, { argument: flag });
    }
  }
  return blocks.map((block) => `${block}\n`);
}

/** Flags that name the signing key, its passphrase and its certificate chain, as one command calls them. */
export interface SignerFlags {
  key: string;
  passphraseEnv: string;
  certificateChain: string;
}

/**
 * The signer of `--key key.pem [--passphrase-env VAR] [--certificate-chain chain.pem]`
 * (or upload's `--sign-key`...): the PEM private key read and checked here, so a bad file
 * is a usage error naming its flag (exit 2), not a signature failure.
 * @throws InvalidArgumentError
 */
export function readSigner(options: { key: string; passphraseEnv?: string; certificateChain?: string }, env: Record<string, string | undefined>, flags: SignerFlags): ModelSigner {
  const pem = readPemFile(options.key, flags.key);
  if (pem.includes('-----BEGIN PUBLIC KEY-----') && !pem.includes('PRIVATE KEY-----')) {
    throw new InvalidArgumentError(
      `${flags.key} ${options.key}: this is a public key; ${flags.key} takes the private key it belongs to (PEM "BEGIN PRIVATE KEY" or "BEGIN EC PRIVATE KEY"); the public key is what verify --public-key and download --verify-key are given`,
      { argument: flags.key },
    );
  }
  let passphrase: string | undefined;
  if (options.passphraseEnv !== undefined) {
    passphrase = env[options.passphraseEnv];
    if (passphrase === undefined) throw new InvalidArgumentError(`${flags.passphraseEnv} ${options.passphraseEnv}: the variable ${options.passphraseEnv} is not set`, { argument: flags.passphraseEnv });
  }
  try {
    const key = createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
    if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'ed25519' && key.asymmetricKeyType !== 'rsa') {
      throw new InvalidArgumentError(`${flags.key} ${options.key} is a ${key.asymmetricKeyType} key: use an ECDSA key (P-256, P-384 or P-521; what model_signing verifies), Ed25519 or RSA`, { argument: flags.key });
    }
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) throw error;
    const message = (error as Error).message;
    const encrypted = /encrypted|passphrase|bad decrypt/i.test(message) || pem.includes('ENCRYPTED');
    if (encrypted && passphrase === undefined) {
      throw new InvalidArgumentError(`${flags.key} ${options.key} is encrypted: put its passphrase in a variable and pass ${flags.passphraseEnv} <VARIABLE>`, { argument: flags.key });
    }
    if (encrypted) throw new InvalidArgumentError(`${flags.key} ${options.key} cannot be decrypted with the passphrase in ${options.passphraseEnv}`, { argument: flags.passphraseEnv });
    throw new InvalidArgumentError(`${flags.key} ${options.key} is not a private key (PEM: PKCS#8, EC or RSA): ${message}`, { argument: flags.key });
  }
  const chain = options.certificateChain === undefined ? undefined : certificatesOf(readPemFile(options.certificateChain, flags.certificateChain), options.certificateChain, flags.certificateChain);
  return { privateKey: pem, ...(passphrase === undefined ? {} : { passphrase }), ...(chain ? { certificateChain: chain } : {}) };
}

/** Flags that name the public key, the trusted certificates and the identity, as one command calls them. */
export interface VerificationFlags {
  publicKey: string;
  certificate: string;
  identity: string;
}

/**
 * The verification of `--public-key pub.pem` or `--certificate ca.pem [--identity x]`
 * (download: `--verify-key`, `--verify-certificate`, `--verify-identity`); undefined when
 * none is given and `required` is false.
 * @throws InvalidArgumentError (both or neither given, `--identity` without a certificate, a file that is not a key or certificate)
 */
export function readVerification(options: { publicKey?: string | string[]; certificate?: string[]; identity?: string; allowUnbound?: boolean }, flags: VerificationFlags, required: boolean): ModelVerification | undefined {
  const certificates = options.certificate ?? [];
  const publicKeys = options.publicKey === undefined ? [] : Array.isArray(options.publicKey) ? options.publicKey : [options.publicKey];
  if (publicKeys.length > 0 && certificates.length > 0) throw new InvalidArgumentError(`give ${flags.publicKey} or ${flags.certificate}, not both`, { argument: flags.certificate });
  if (options.identity !== undefined && certificates.length === 0) {
    throw new InvalidArgumentError(`${flags.identity} checks the signing certificate's identity: it needs ${flags.certificate} <root CA PEM> (a key-signed model has no identity)`, { argument: flags.identity });
  }
  const allowUnbound = options.allowUnbound ? { allowUnbound: true } : {};
  if (publicKeys.length > 0) {
    const pems = publicKeys.map((file) => {
      const pem = readPemFile(file, flags.publicKey);
      if (pem.includes('PRIVATE KEY-----')) {
        throw new InvalidArgumentError(`${flags.publicKey} ${file} is a private key: give the public key (\`openssl pkey -in ${shellWord(file)} -pubout -out pub.pem\`), and keep the private key to the signer`, {
          argument: flags.publicKey,
        });
      }
      try {
        const key = createPublicKey(pem);
        if (key.type !== 'public') throw new Error('not a public key');
      } catch (error) {
        throw new InvalidArgumentError(`${flags.publicKey} ${file} is not a public key (PEM "PUBLIC KEY"): ${(error as Error).message}`, { argument: flags.publicKey });
      }
      return pem;
    });
    return { publicKey: pems.length === 1 ? pems[0]! : pems, ...allowUnbound };
  }
  if (certificates.length > 0) {
    const roots = certificates.flatMap((file) => certificatesOf(readPemFile(file, flags.certificate), file, flags.certificate));
    return { certificate: roots, ...(options.identity === undefined ? {} : { identity: options.identity }), ...allowUnbound };
  }
  if (options.allowUnbound) throw new InvalidArgumentError(`--allow-unbound goes with ${flags.publicKey} or ${flags.certificate}: it accepts a signature that is not bound to the model when verifying one`, { argument: '--allow-unbound' });
  if (required) throw new InvalidArgumentError(`verify needs ${flags.publicKey} <public key PEM> or ${flags.certificate} <root CA PEM>`, { argument: flags.publicKey });
  return undefined;
}

/** What a verification found beside the match: a signature not bound to the model, files it does not cover. */
function verificationNotes(info: ModelSignatureInfo): string {
  const notes = [...(info.bound ? [] : ['the signature is not bound to this model (accepted with --allow-unbound)']), ...(info.unsigned?.length ? [`not covered by the signature: ${info.unsigned.join(', ')}`] : [])];
  return notes.length > 0 ? `; ${notes.join('; ')}` : '';
}

/** Who signed, in one phrase: `public key sha256:ab12…` or `certificate CN=x (email:y)`. */
export function signerPhrase(info: ModelSignatureInfo): string {
  if (info.kind === 'public-key') return `public key${info.keyHint ? ` (hint ${info.keyHint.slice(0, 16)}…)` : ''}`;
  const subject = info.certificateSubject?.replace(/\n/g, ', ');
  const san = info.certificateSan?.length ? ` [${info.certificateSan.join(', ')}]` : '';
  return `${info.kind === 'sigstore' ? 'Sigstore certificate' : 'certificate'}${subject ? ` ${subject}` : ''}${san}`;
}

/**
 * Above this archive size (100 MiB) `info` does not read an archive to look for a
 * `model.sig` inside it (a folder signed with model_signing, then uploaded): core's
 * `getSignature` would stream and gunzip the whole archive when no bundle is stored
 * beside it. Models whose metadata lists their files (this library's uploads) are
 * answered from that list instead, at any size.
 */
export const infoArchiveScanLimit = 100 * 1024 * 1024;

/** `info`'s signature line and `--json` value: the parsed (not verified) signature, `-` / null when unsigned. */
export async function signatureSummary(store: ModelStore, domain: string, modelId: string, metadata: ModelMetadata): Promise<{ json: unknown; line: string }> {
  const archiveKey = archiveKeyFromLocation(metadata.storage);
  if (archiveKey !== undefined && !(await store.storage.head(`${path.posix.dirname(archiveKey)}/model.sig`))) {
    // No bundle beside the archive: only one inside it can sign the model.
    const recorded = metadata.archive?.files;
    if (recorded && !['model.sig', 'extras/model.sig'].some((name) => Object.hasOwn(recorded, name))) return { json: null, line: '-' };
    const size = recorded ? undefined : (metadata.archive?.size ?? (await store.storage.head(archiveKey))?.size);
    if (size !== undefined && size > infoArchiveScanLimit) {
      const message = `no model.sig beside the archive; a model.sig inside this ${formatBytes(size)} archive is not looked for here: \`modelstore verify\` checks it`;
      return { json: { unknown: true, message }, line: `- (${message})` };
    }
  }
  try {
    const info = await store.getSignature(domain, modelId);
    if (!info) return { json: null, line: '-' };
    const how = info.kind === 'public-key' ? `--public-key pub.pem` : '--certificate ca.pem';
    return {
      json: info,
      line: `signed, ${signerPhrase(info)}, ${info.files.length} file(s)${info.bound ? '' : ', not bound to this model (model_signing on a folder)'}; not verified: run \`modelstore verify ${shellWord(domain)} ${shellWord(modelId)} ${how}${info.bound ? '' : ' --allow-unbound'}\``,
    };
  } catch (error) {
    if (!SignatureError.isInstance(error)) throw error;
    return { json: { error: { code: error.code, reason: error.reason, message: error.message } }, line: `unreadable (${error.reason}): ${error.message}` };
  }
}

/** Registers `modelstore sign` and `modelstore verify`. */
export function registerSignCommands(program: Command, context: SignCommandContext): void {
  program
    .command('sign')
    .description('sign a stored model (OpenSSF Model Signing, verifiable with Python model_signing); the bundle is stored beside the archive as model.sig')
    .argument('<domain>', 'the domain')
    .argument('<modelId>', 'the model')
    .requiredOption('--key <file>', 'the private key, PEM (ECDSA P-256/P-384/P-521: what model_signing verifies; Ed25519 and RSA are accepted)')
    .option('--certificate-chain <file>', 'certificate mode: PEM certificates, the signing certificate (of --key) first, then intermediates')
    .option('--passphrase-env <VARIABLE>', 'the environment variable that holds the passphrase of an encrypted --key')
    .option('--overwrite', 'replace an existing signature (a new key or certificate)')
    .action(async (domain: string, modelId: string, options: { key: string; certificateChain?: string; passphraseEnv?: string; overwrite?: boolean }) => {
      context.signing();
      validateDomain(domain);
      validateModelId(modelId);
      const signer = readSigner(options, context.env, { key: '--key', passphraseEnv: '--passphrase-env', certificateChain: '--certificate-chain' });
      const store = await context.openExisting();
      const info = await store.signModel(domain, modelId, signer, { overwrite: options.overwrite ?? false });
      context.output({ domain, modelId, ...info }, () => `signed ${domain}/${modelId}: ${info.files.length} file(s), ${signerPhrase(info)}; bundle ${info.key}\n`);
    });

  program
    .command('verify')
    .description("check a model's signature and every file against it (reads and hashes the model; writes nothing); exit 5 when it does not hold")
    .argument('<domain>', 'the domain')
    .argument('[modelId]', 'the model (default: the latest, or the newest in --state)')
    .option('--public-key <file>', "the signer's public key, PEM (key-signed models: model_signing sign key); repeatable: any one of the keys (rotation)", (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--certificate <file>', 'a trusted root CA certificate, PEM (certificate-signed models; repeatable)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--identity <name>', 'with --certificate: the email, URI or DNS name (or the subject CN) the signing certificate must name')
    .option('--allow-unbound', 'accept a signature not bound to this model (made by model_signing on a folder; see SECURITY.md)')
    .option('--state <state>', 'the newest model in this state instead of the latest')
    .action(async (domain: string, modelId: string | undefined, options: { publicKey?: string[]; certificate?: string[]; identity?: string; allowUnbound?: boolean; state?: string }) => {
      validateDomain(domain);
      if (modelId !== undefined) validateModelId(modelId);
      if (options.state !== undefined) validateStateName(options.state);
      if (modelId !== undefined && options.state !== undefined) throw new InvalidArgumentError('give a model id or --state, not both: --state picks the newest model in that state', { argument: '--state' });
      const verification = readVerification(options, { publicKey: '--public-key', certificate: '--certificate', identity: '--identity' }, true)!;
      const store = await context.openExisting();
      const id = modelId ?? (options.state !== undefined ? await store.getLatestModel(domain, { state: options.state }) : await store.getDomain(domain)).model.model_id;
      const info = await store.verifyModel(domain, id, verification);
      context.output({ domain, modelId: id, ...info }, () => `verified ${domain}/${id}: ${info.files.length} file(s) match the signature of ${signerPhrase(info)}${verificationNotes(info)}\n`);
    });
}
