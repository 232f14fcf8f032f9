import { DestinationExistsError, DomainNotFoundError, InvalidOptionError, ModelExistsError, ModelNotFoundError, ModelStoreError, SignatureError, StateNotFoundError } from '@modelstore/core';

/** What the failing command was doing, for the errors whose advice depends on it. */
export type CommandContext = 'state rm' | 'download' | 'upload' | 'sign' | 'other';

/** A word as it would be typed in a shell: bare when safe, else in single quotes. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._,:@%+=/-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The message of an error in the CLI's words. Core's errors name its JavaScript API
 * (`listModels("churn")`, `createModelState("x")`, `overwrite: true`); the CLI says the
 * command to run instead. Errors are mapped by their code and typed fields, so core's
 * messages can change without the CLI repeating them; any other mention of the API left
 * in a message is translated last.
 */
export function cliMessage(error: unknown, context: CommandContext = 'other'): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!ModelStoreError.isInstance(error)) return message;
  if (ModelNotFoundError.isInstance(error)) {
    return `Model "${error.modelId}" does not exist in domain "${error.domain}": list its models with \`modelstore ls ${shellWord(error.domain)}\``;
  }
  if (DomainNotFoundError.isInstance(error)) {
    return `Domain "${error.domain}" does not exist: list the domains with \`modelstore ls\`, or upload a model to create it`;
  }
  if (StateNotFoundError.isInstance(error)) {
    return context === 'state rm'
      ? `Model state "${error.state}" does not exist: list the states with \`modelstore state ls\``
      : `Model state "${error.state}" does not exist: create it with \`modelstore state create ${shellWord(error.state)}\`, or list the states with \`modelstore state ls\``;
  }
  if (ModelExistsError.isInstance(error)) {
    return error.deleted
      ? `Model "${error.modelId}" of domain "${error.domain}" was deleted, and model ids are never reused: choose another --id or leave it out`
      : `Model "${error.modelId}" already exists in domain "${error.domain}": model ids are never reused, choose another --id or leave it out`;
  }
  if (DestinationExistsError.isInstance(error)) return apiToCli(message).replace(/choose a new directory/, 'choose another --to');
  if (SignatureError.isInstance(error)) return signatureMessage(error, context);
  if (InvalidOptionError.isInstance(error) && /^(?:sign|signer|verify|verification)\b/.test(error.option)) return apiToCli(signingWords(message, context));
  return apiToCli(message);
}

/** Rewrites mentions of the JavaScript API in a message as the matching command or option. */
export function apiToCli(message: string): string {
  return message
    .replace(/listModels\("([^"]*)"\)/g, (_, domain: string) => `\`modelstore ls ${shellWord(domain)}\``)
    .replace(/createModelState\("([^"]*)"\)/g, (_, state: string) => `\`modelstore state create ${shellWord(state)}\``)
    .replace(/listDomains\(\)/g, '`modelstore ls`')
    .replace(/listModelStates\(\)/g, '`modelstore state ls`')
    .replace(/pass overwrite: true/g, 'pass --overwrite')
    .replace(/\boverwrite: true\b/g, '--overwrite')
    .replace(/\bquiesced: true\b/g, '--quiesced')
    .replace(/use deleteModel\(\)/g, 'use `modelstore rm`')
    .replace(/^download: to \(/, 'download: --to (')
    .replace(/^download: to is /, 'download: --to is ')
    .replace(/e\.g\. to: '([^']*)'/g, (_, example: string) => `e.g. --to ${shellWord(example)}`)
    .replace(/\band overwrite would replace it/g, 'and --overwrite would replace it')
    .replace(/\bwhich overwrite or extraction would damage/g, 'which --overwrite or extraction would damage');
}

/** A byte count in binary units, as tables and summaries print it: `512 B`, `1.5 KiB`, `22.0 MiB` (one decimal above bytes; up to TiB). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * A SignatureError in the CLI's words: what failed, and which flag to change. Core's
 * message is kept; the API's option names in it are rewritten as the flags of the
 * command that failed (`download --verify-key`, `upload --sign-key`, `sign --key`,
 * `verify --public-key`), and an unsigned model gets the command that signs it.
 */
export function signatureMessage(error: SignatureError, context: CommandContext = 'other'): string {
  let message = signingWords(error.message, context);
  const unsigned = error.reason === 'unsigned' ? /^(Model "([^"]*)" of domain "([^"]*)" is not signed \([^)]*\)\. Nothing was written\.)/.exec(message) : null;
  if (unsigned) {
    message =
      `${unsigned[1]} If this model was signed before, its signature was removed: do not use it; re-upload it from a trusted source. ` +
      `Only a model whose files you know (you checked them, or uploaded them yourself) should be signed now: \`modelstore sign ${shellWord(unsigned[3]!)} ${shellWord(unsigned[2]!)} --key <private key PEM>\`.`;
  }
  const unbound = error.reason === 'unbound' ? /^(Model "([^"]*)" of domain "([^"]*)" has a signature that is not bound to it .*? at another one\.)/.exec(message) : null;
  if (unbound) {
    message =
      `${unbound[1]} Check the model's files, then bind its signature: \`modelstore sign ${shellWord(unbound[3]!)} ${shellWord(unbound[2]!)} --key <private key PEM> --overwrite\`; ` +
      `or accept the unbound signature with --allow-unbound (verify, download). Nothing was written.`;
  }
  const files = error.reason === 'tampered' && error.files.length && !error.files.every((file) => message.includes(file)) ? ` (${error.files.join(', ')})` : '';
  return `${context === 'sign' || context === 'upload' ? 'signing failed' : 'signature check failed'} (${error.reason}): ${message}${files}`;
}

/** The flags of the command that failed, for the signing options core's messages name. */
function signingFlags(context: CommandContext): { publicKey: string; certificate: string; identity: string; key: string; chain: string } {
  return context === 'download'
    ? { publicKey: '--verify-key', certificate: '--verify-certificate', identity: '--verify-identity', key: '--key', chain: '--certificate-chain' }
    : context === 'upload'
      ? { publicKey: '--public-key', certificate: '--certificate', identity: '--identity', key: '--sign-key', chain: '--sign-certificate-chain' }
      : { publicKey: '--public-key', certificate: '--certificate', identity: '--identity', key: '--key', chain: '--certificate-chain' };
}

/**
 * The flag of a signing option core names in an `InvalidOptionError` (`sign.certificateChain`,
 * `signer.privateKey`, `verify.publicKey`...), or undefined when it is not one.
 */
export function signingOptionFlag(option: string | undefined, context: CommandContext): string | undefined {
  const match = /^(?:sign|signer|verify|verification)\.(\w+)/.exec(option ?? '');
  if (!match) return undefined;
  const flags = signingFlags(context);
  return (
    { certificateChain: flags.chain, privateKey: flags.key, passphrase: '--passphrase-env', publicKey: flags.publicKey, certificate: flags.certificate, identity: flags.identity, allowUnbound: '--allow-unbound' } as Record<string, string>
  )[match[1]!];
}

/** Core's message about signing options in the words of the command that failed: its flags, not the API's option names. */
export function signingWords(text: string, context: CommandContext): string {
  const flags = signingFlags(context);
  return text
    .replace(/^(?:signModel|upload|verifyModel|download|load): /, '')
    .replace(/\b(?:sign|signer)\.certificateChain\b/g, flags.chain)
    .replace(/\b(?:sign|signer)\.privateKey\b/g, flags.key)
    .replace(/\b(?:sign|signer)\.passphrase\b/g, 'the passphrase of --passphrase-env')
    .replace(/pass its passphrase \(passphrase: '\.\.\.'\)/g, 'put its passphrase in a variable and pass --passphrase-env <VARIABLE>')
    .replace(/\bupload without sign\b/g, 'upload without --sign-key')
    .replace(/\b(?:verify|verification)\.publicKey\b/g, flags.publicKey)
    .replace(/\b(?:verify|verification)\.certificate\b/g, flags.certificate)
    .replace(/\bverify: false\b/g, `no ${flags.publicKey} / ${flags.certificate}`)
    .replace(/\boverwrite: true\b/g, '--overwrite')
    .replace(/\ballowUnbound: true\b/g, '--allow-unbound')
    .replace(/\bsignModel\(\)/g, '`modelstore sign`')
    .replace(/\bverifyModel\(\)/g, '`modelstore verify`')
    .replace(/\{ ?publicKey ?\}/g, flags.publicKey)
    .replace(/\{ ?certificate(, identity\??)? ?\}/g, flags.certificate)
    .replace(/\bidentity\b(?=:| option)/g, flags.identity);
}
