/** Hashing a model's folder as model_signing does (every regular file, posix paths relative to the folder) and comparing it with a signed manifest. */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pMap from 'p-map';
import { SignatureError } from '../errors.js';
import { sha256Of } from '../sha256.js';
import { isIgnored, type SignedFile } from './bundle.js';

/**
 * Every file under `directory` (posix path → hex sha256), the `ignorePaths` left out (and,
 * when `skipped` is given, the files found under them pushed to it, unhashed).
 * Anything that is not a regular file or a directory (a link, a FIFO) is listed with an
 * empty digest, so that it never matches a manifest. Big files are hashed on core's
 * worker threads.
 */
export async function hashFolder(directory: string, ignorePaths: readonly string[], signal?: AbortSignal, skipped?: string[]): Promise<Map<string, string>> {
  const found: { name: string; file: string; size: number; special: boolean }[] = [];
  /** Lists what an ignored path holds (files, and a folder with nothing in it as `name/`), hashing nothing. */
  const list = async (file: string, name: string, isDirectory: boolean): Promise<void> => {
    if (!isDirectory) {
      skipped!.push(name);
      return;
    }
    const entries = await readdir(file, { withFileTypes: true });
    if (entries.length === 0) skipped!.push(`${name}/`);
    for (const entry of entries) await list(path.join(file, entry.name), `${name}/${entry.name}`, entry.isDirectory());
  };
  const walk = async (folder: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (isIgnored(name, ignorePaths)) {
        if (skipped) await list(path.join(folder, entry.name), name, entry.isDirectory());
        continue;
      }
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(file, name);
      else if (entry.isFile()) found.push({ name, file, size: (await stat(file)).size, special: false });
      else found.push({ name, file, size: 0, special: true });
    }
  };
  await walk(directory, '');
  const digests = await pMap(
    found,
    async ({ file, size, special }) => {
      signal?.throwIfAborted();
      return special ? '' : (await sha256Of(createReadStream(file, { highWaterMark: 1 << 20 }), size)).sha256;
    },
    { concurrency: 4 },
  );
  return new Map(found.map(({ name }, index) => [name, digests[index]!]));
}

/** Lists up to five names and how many more. */
export function describe(names: string[]): string {
  return names
    .slice(0, 5)
    .map((name) => JSON.stringify(name))
    .join(', ')
    .concat(names.length > 5 ? ` and ${names.length - 5} more` : '');
}

/**
 * Compares a folder's files with a signed manifest.
 * @throws SignatureError `tampered` naming the files missing, added or changed
 */
export function compareWithManifest(signed: readonly SignedFile[], actual: Map<string, string>): void {
  const expected = new Map(signed.map((file) => [file.name, file.sha256]));
  const missing = [...expected.keys()].filter((name) => !actual.has(name));
  const added = [...actual.keys()].filter((name) => !expected.has(name));
  const changed = [...expected].filter(([name, sha256]) => actual.has(name) && actual.get(name) !== sha256).map(([name]) => name);
  if (missing.length + added.length + changed.length === 0) return;
  const parts = [changed.length ? `changed: ${describe(changed)}` : '', missing.length ? `missing: ${describe(missing)}` : '', added.length ? `not signed: ${describe(added)}` : ''].filter(Boolean);
  throw new SignatureError(
    'tampered',
    `The model's files do not match its signature (${parts.join('; ')}): it was changed after it was signed. Nothing was written: do not use this model; download it again from a trusted store, or re-upload it from a trusted copy.`,
    [...changed, ...missing, ...added],
  );
}
