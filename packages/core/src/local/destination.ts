/**
 * Where `download` and `load` put a model on the local disk: the destination as it is
 * found in deployments (a missing folder, an empty one, a symlink to one, a mount point
 * such as a Kubernetes `emptyDir` volume), a staging folder on the same file system,
 * and the move into place once every byte is verified. Staging folders carry the host
 * and process id that made them, so a later download into the same place removes those
 * of dead processes, and never one in use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { DestinationExistsError, InvalidOptionError, LocalFileError, ModelStoreError } from '../errors.js';

/** How a verified staging folder becomes the destination. */
export interface Destination {
  /** The destination directory (a symlink to a directory is resolved to it). */
  directory: string;
  /**
   * `rename`: staging is a sibling folder renamed onto the destination (atomic).
   * `in-place`: the destination cannot be replaced (a mount point, or a folder whose parent is
   * not writable), so staging is a hidden folder inside it whose entries are moved in once verified.
   */
  mode: 'rename' | 'in-place';
  /** The staging folder (created). */
  staging: string;
  /** The first folder this call created for the destination's parent, if any (removed again on failure). */
  createdParent: string | undefined;
}

const marker = '.modelstore-staging-';
// The host, hashed to 8 characters: host names run to 64 bytes, and file names stop at 255.
export const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/**
 * The part of a destination's name that its staging folder repeats: the name itself up to
 * 64 UTF-8 bytes, else its first characters and a hash of it, so that a staging folder's
 * name stays under the 255-byte limit of file names however long the destination's is.
 */
function shortName(name: string): string {
  if (Buffer.byteLength(name) <= 64) return name;
  let kept = '';
  for (const character of name) {
    if (Buffer.byteLength(kept + character) > 48) break;
    kept += character;
  }
  return `${kept}~${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

/** `<prefix><host>-<pid>-<random>`: a staging (or replaced-entries) folder name owned by this process. */
export function ownName(prefix: string): string {
  return `${prefix}${host}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes, in `folder`, the entries named `<prefix><host>-<pid>-...` whose process on this
 * host is gone (SIGKILLed downloads). Entries of live processes, of other hosts (a shared
 * network file system) or with another shape are left alone. Best effort.
 * Without `prefix`, every staging folder in `folder` is considered.
 * @returns the paths removed
 */
export async function removeStaleStaging(folder: string, prefix?: string, options: { dryRun?: boolean } = {}): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    // Without a prefix: every staging folder in `folder`, whatever destination it was for.
    const at = prefix === undefined ? name.lastIndexOf(marker) : name.startsWith(prefix) ? 0 : -1;
    if (at < 0) continue;
    const match = /^(.*)-(\d+)-[0-9a-f]{12}(?:-old)?$/.exec(name.slice(prefix === undefined ? at + marker.length : prefix.length));
    if (!match || match[1] !== host || isAlive(Number(match[2]))) continue;
    const full = path.join(folder, name);
    if (options.dryRun) {
      removed.push(full);
      continue;
    }
    if (
      await rm(full, { recursive: true, force: true }).then(
        () => true,
        () => false,
      )
    )
      removed.push(full);
  }
  return removed;
}

/** Staging folder prefixes used for a destination `to` in `rename` mode (in its parent) and `in-place` mode (inside it). */
export const stagingPrefix = { beside: (to: string) => `.${shortName(path.basename(to))}${marker}`, inside: () => marker };

/** Wraps a file system error of the destination in a `LocalFileError` saying what to do; typed errors pass through. */
export function localError(error: unknown, target: string, doing: string): unknown {
  if (ModelStoreError.isInstance(error)) return error;
  const errno = (error as { code?: unknown }).code;
  if (typeof errno !== 'string') return error;
  const hints: Record<string, string> = {
    ENOSPC: 'the disk is full: free space or choose a destination on another disk',
    EDQUOT: 'the disk quota is exhausted: free space or choose another destination',
    EACCES: 'permission denied: choose a destination you can write to',
    EPERM: 'operation not permitted: choose a destination you can write to',
    EROFS: 'the file system is read-only: choose a writable destination',
    ENAMETOOLONG: 'a path is too long for this file system: choose a shorter destination',
    ENOTDIR: 'a part of the path is a file, not a folder: choose another destination',
    EMFILE: 'too many open files: raise the limit (ulimit -n) or open fewer at once',
    EIO: 'the disk reported an I/O error',
  };
  const hint = hints[errno] ?? (error as Error).message;
  return new LocalFileError(`Could not ${doing} ${JSON.stringify(target)} (${errno}): ${hint}. Nothing was left half-written at the destination.`, target, { cause: error, errno });
}

/**
 * Checks the destination and creates a staging folder for it. The destination may be
 * missing, an empty directory, or (with `overwrite` or `keepExisting`) a non-empty one;
 * a symlink to a directory is followed (the model goes into the directory it points to);
 * anything else is refused with `DestinationExistsError`.
 * @throws DestinationExistsError, LocalFileError
 */
export async function prepareDestination(to: string, options: { overwrite?: boolean; keepExisting?: boolean }): Promise<Destination> {
  let directory = to;
  let mode: Destination['mode'] = 'rename';
  const found = await lstat(to).catch((error: { code?: string }) => (error.code === 'ENOENT' ? undefined : Promise.reject(localError(error, to, 'inspect the download destination'))));
  if (found) {
    if (found.isSymbolicLink()) {
      const target = await stat(to).catch(() => undefined);
      if (!target?.isDirectory()) throw new DestinationExistsError(to, `is a symbolic link to ${target ? 'something that is not a directory' : 'nothing (it dangles)'}: choose a directory, or point the link at one`);
      directory = await realpath(to).catch((error: unknown) => Promise.reject(localError(error, to, 'resolve the download destination')));
    } else if (!found.isDirectory()) {
      throw new DestinationExistsError(to, `exists and is ${found.isFile() ? 'a file' : 'not a directory'}: choose a directory path`);
    }
    const names = await readdir(directory).catch((error: unknown) => Promise.reject(localError(error, directory, 'read the download destination')));
    const entries = names.filter((name) => !name.startsWith(marker));
    if (entries.length > 0 && !options.overwrite && !options.keepExisting) throw new DestinationExistsError(to);
    // An existing folder is filled in place, never replaced: it may be a mount point (a
    // Kubernetes volume, a bind mount: they cannot be renamed or removed), someone's current
    // folder, or carry its own owner, group and mode. The load cache's own entries (which
    // this process creates) are renamed into place unless they cannot be.
    if (!options.keepExisting) mode = 'in-place';
    else {
      const parent = path.dirname(directory);
      const [self, above] = await Promise.all([stat(directory), stat(parent).catch(() => undefined)]);
      const parentWritable = await access(parent, constants.W_OK).then(
        () => true,
        () => false,
      );
      if (!above || self.dev !== above.dev || !parentWritable) mode = 'in-place';
    }
  }
  let createdParent: string | undefined;
  if (mode === 'rename') {
    createdParent = await mkdir(path.dirname(directory), { recursive: true }).catch((error: unknown) => Promise.reject(localError(error, path.dirname(directory), 'create the folder of the download destination')));
    await removeStaleStaging(path.dirname(directory), stagingPrefix.beside(directory));
  } else {
    await removeStaleStaging(directory, stagingPrefix.inside());
  }
  const staging = mode === 'rename' ? path.join(path.dirname(directory), ownName(stagingPrefix.beside(directory))) : path.join(directory, ownName(stagingPrefix.inside()));
  await mkdir(staging).catch((error: unknown) => Promise.reject(localError(error, staging, 'create a staging folder for')));
  return { directory, mode, staging, createdParent };
}

/**
 * Moves the verified staging folder into place: a rename onto the destination (the only
 * moment it changes), or for an in-place destination the staging folder's entries moved
 * in one by one (replaced entries first moved aside, then removed).
 * @returns false when `keepExisting` and another process filled the destination first (its copy is kept)
 * @throws DestinationExistsError when the destination filled up meanwhile and neither option allows replacing it
 */
export async function placeVerified(destination: Destination, options: { overwrite?: boolean; keepExisting?: boolean }): Promise<boolean> {
  const { directory, staging } = destination;
  if (destination.mode === 'in-place') {
    const current = (await readdir(directory)).filter((name) => !name.startsWith(marker));
    if (current.length > 0) {
      if (options.keepExisting) return false;
      if (!options.overwrite) throw new DestinationExistsError(directory);
      const aside = path.join(directory, `${path.basename(staging)}-old`);
      await mkdir(aside);
      for (const name of current) await rename(path.join(directory, name), path.join(aside, name));
      for (const name of await readdir(staging)) await rename(path.join(staging, name), path.join(directory, name));
      await rm(aside, { recursive: true, force: true });
    } else {
      for (const name of await readdir(staging)) await rename(path.join(staging, name), path.join(directory, name));
    }
    await rmdir(staging);
    return true;
  }
  try {
    await rmdir(directory).catch((error: { code?: string }) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, directory);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  // Another process filled the cache entry first: its copy is the same model.
  if (options.keepExisting) return false;
  if (!options.overwrite) throw new DestinationExistsError(directory);
  const old = `${staging}-old`;
  await rename(directory, old);
  await rename(staging, directory);
  await rm(old, { recursive: true, force: true });
  return true;
}

const isWithin = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);

/** `target` with symlinks of its existing part resolved (the rest appended as given). */
async function resolvedPath(target: string): Promise<string> {
  const missing: string[] = [];
  let current = path.resolve(target);
  for (;;) {
    const real = await realpath(current).catch(() => undefined);
    if (real !== undefined) return path.join(real, ...missing.reverse());
    const parent = path.dirname(current);
    if (parent === current) return path.resolve(target);
    missing.push(path.basename(current));
    current = parent;
  }
}

/**
 * Refuses destinations whose replacement would destroy something other than a previous
 * download: an empty path, the file system's root, the current folder or one holding
 * it (with `overwrite`), and the registry itself — a folder that is, holds or sits
 * inside the root of a file-system store (`storeRoot`).
 * @throws InvalidOptionError
 */
export async function checkDestination(to: string, options: { overwrite?: boolean; storeRoot?: string | undefined; method: string }): Promise<string> {
  if (to.trim() === '') throw new InvalidOptionError('to', `${options.method}: to is empty: give the folder to create, e.g. to: './models/churn'`);
  const target = await resolvedPath(to);
  if (path.dirname(target) === target) throw new InvalidOptionError('to', `${options.method}: to is the root of the file system (${target}): give a folder of its own`);
  if (options.storeRoot !== undefined) {
    const root = await resolvedPath(options.storeRoot);
    if (isWithin(target, root) || isWithin(root, target)) {
      const relation = target === root ? 'is' : isWithin(target, root) ? 'is inside' : 'holds';
      throw new InvalidOptionError('to', `${options.method}: to (${target}) ${relation} the registry's own folder (${root}), which overwrite or extraction would damage: download into a folder outside the store`);
    }
  }
  if (options.overwrite) {
    const cwd = await resolvedPath(process.cwd());
    if (isWithin(cwd, target)) throw new InvalidOptionError('to', `${options.method}: to (${target}) is the current folder or holds it, and overwrite would replace it: give a folder of its own`);
  }
  return target;
}
