import type { ArchiveEntry, ModelAdapter, ModelMetadata, SavedModel } from '@modelstore/core';
import { InvalidArgumentError, InvalidOptionError, ModelStoreError, SourceFileError } from '@modelstore/core';
import { statSync, type Dirent, type Stats } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** A path to a file or directory, or a list of file paths. */
export type RawModel = string | string[];

function isPathList(model: unknown): model is string[] {
  return Array.isArray(model) && model.length > 0 && model.every((item) => typeof item === 'string');
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

const errnoReasons: Record<string, [SourceFileError['reason'], string]> = {
  ENOENT: ['missing', 'it does not exist (it was removed or renamed while the model was listed)'],
  ENOTDIR: ['missing', 'it does not exist (a folder on its path is a file)'],
  ELOOP: ['link-cycle', 'it is a link that leads into a loop of links'],
  EACCES: ['unreadable', 'permission denied'],
  EPERM: ['unreadable', 'the operation is not permitted'],
};

/** A failed system call on `file` as a `SourceFileError` that names it. */
function sourceError(file: string, error: unknown): ModelStoreError {
  if (ModelStoreError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const [reason, why] = (typeof code === 'string' && errnoReasons[code]) || ['unreadable', `it could not be read (${typeof code === 'string' ? code : String((error as Error)?.message ?? error)})`];
  const advice = reason === 'unreadable' ? 'give the uploading user read access to it, or move it out of the model folder' : 'fix or remove it, then upload again';
  return new SourceFileError(file, reason, `Cannot store ${JSON.stringify(file)} in the model: ${why}. Nothing was uploaded: ${advice}.`, { cause: error });
}

function linkError(link: string, reason: 'dangling-link' | 'link-outside' | 'link-cycle', target: string, folder: string): SourceFileError {
  const why = {
    'dangling-link': `it is a link to ${JSON.stringify(target)}, which does not exist`,
    'link-outside': `it is a link to ${JSON.stringify(target)}, outside the model folder ${JSON.stringify(folder)}`,
    'link-cycle': `it is a link to ${JSON.stringify(target)}, a folder that holds the link itself (a loop)`,
  }[reason];
  const advice = {
    'dangling-link': 'point the link at an existing file in the folder, or remove it',
    'link-outside': 'copy the file into the model folder (or link to one inside it), or remove the link',
    'link-cycle': 'remove the link, or point it at a folder that does not contain it',
  }[reason];
  return new SourceFileError(link, reason, `Cannot store ${JSON.stringify(link)} in the model: ${why}. Nothing was uploaded: ${advice}.`);
}

function kindOf(info: Dirent | Stats): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'neither a regular file nor a directory';
}

function special(file: string, info: Dirent | Stats): SourceFileError {
  return new SourceFileError(
    file,
    'special',
    `Cannot store ${JSON.stringify(file)} in the model: it is ${kindOf(info)}. Nothing was uploaded: only regular files and directories are stored; remove it from the model folder or copy its data into a regular file.`,
  );
}

/**
 * The entries of `directory`'s tree, relative to it (sorted by name, so archives are
 * reproducible): a directory entry for every folder (empty ones too), and a file
 * entry for every regular file. Links: see `RawAdapter`.
 */
async function walk(folder: string, folderReal: string, directory: string, directoryReal: string, prefix: string, ancestors: Set<string>, out: ArchiveEntry[]): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true }).catch((error: unknown) => Promise.reject(sourceError(directory, error)));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const source = path.join(directory, entry.name);
    const archivePath = `${prefix}${entry.name}`;
    let info: Dirent | Stats = entry;
    let real = path.join(directoryReal, entry.name);
    if (entry.isSymbolicLink()) {
      const target = await readlink(source).catch(() => '?');
      try {
        real = await realpath(source);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') throw linkError(source, 'dangling-link', target, folder);
        if (code === 'ELOOP') throw linkError(source, 'link-cycle', target, folder);
        throw sourceError(source, error);
      }
      if (real !== folderReal && !real.startsWith(folderReal + path.sep)) throw linkError(source, 'link-outside', target, folder);
      info = await stat(real).catch((error: unknown) => Promise.reject(sourceError(source, error)));
      if (info.isDirectory() && (ancestors.has(real) || real === folderReal)) throw linkError(source, 'link-cycle', target, folder);
    }
    if (info.isDirectory()) {
      // The directory's own mode comes from what the link resolved to (or the folder itself).
      out.push({ path: archivePath, source: real, type: 'directory' });
      const next = new Set(ancestors).add(real);
      await walk(folder, folderReal, entry.isSymbolicLink() ? real : source, real, `${archivePath}/`, next, out);
    } else if (info.isFile()) {
      // A link is stored as the file it points to, read from the resolved (checked) path.
      out.push({ path: archivePath, source: entry.isSymbolicLink() ? real : source });
    } else {
      throw special(source, info);
    }
  }
}

/**
 * Stores files that are already on disk: one file (at the top of the archive, as
 * Python modelstore's `model_file` does), a directory (its tree kept, relative to
 * it, empty folders included), or a list of files (each at the top, by its base name).
 * `load` returns the directory the model was extracted into.
 *
 * Modes: each file's and folder's permission bits are recorded from disk, narrowed
 * to at most 0o755 (see `fileMode`/`directoryMode` in `@modelstore/core`), so an
 * executable script stays executable and a 0600 key stays 0600 after a download.
 *
 * Links inside a directory: a link whose resolved target (realpath) stays inside the
 * directory is stored as the file or folder it points to (a copy, not a link); a
 * dangling link, a link leading outside the directory, and a link to a folder that
 * holds it (a cycle) are refused with `SourceFileError` (reasons `dangling-link`,
 * `link-outside`, `link-cycle`), as are FIFOs, sockets and devices (`special`) and
 * unreadable entries (`unreadable`). A file or link given directly (a path or a list)
 * is followed wherever it points.
 */
export class RawAdapter implements ModelAdapter<RawModel, string> {
  readonly specificationVersion = 'v1' as const;
  readonly library = 'model_file';

  /** Accepts a path that exists, or a non-empty list of paths that all exist. */
  matches(model: unknown): boolean {
    if (typeof model === 'string') return exists(model);
    return isPathList(model) && model.every(exists);
  }

  /**
   * Lists the model's entries. Throws `InvalidOptionError` for a model that is not a
   * path or a non-empty list of paths, `SourceFileError` for a source that cannot be
   * stored (see the class), and `ModelStoreError` for a directory without files or two
   * listed files with the same base name.
   */
  async save(model: RawModel): Promise<SavedModel> {
    const paths = typeof model === 'string' ? [model] : model;
    if (!isPathList(paths)) throw new InvalidOptionError('model', 'RawAdapter saves a path, or a non-empty list of paths, to files on disk');
    let files: ArchiveEntry[];
    const first = await stat(paths[0]!).catch((error: unknown) => Promise.reject(sourceError(paths[0]!, error)));
    if (typeof model === 'string' && first.isDirectory()) {
      const folderReal = await realpath(model).catch((error: unknown) => Promise.reject(sourceError(model, error)));
      files = [];
      await walk(model, folderReal, model, folderReal, '', new Set([folderReal]), files);
      if (!files.some((file) => file.type !== 'directory')) throw new InvalidArgumentError(`The directory ${model} holds no files to store`, { argument: 'model' });
    } else {
      files = [];
      for (const file of paths) {
        const info = await stat(file).catch((error: unknown) => Promise.reject(sourceError(file, error)));
        if (info.isDirectory()) throw new InvalidArgumentError(`RawAdapter stores files; ${file} is a directory (pass a directory on its own)`, { argument: 'model' });
        if (!info.isFile()) throw special(file, info);
        files.push({ path: path.basename(file), source: file });
      }
      const names = files.map((file) => file.path);
      const duplicate = names.find((name, index) => names.indexOf(name) !== index);
      if (duplicate) throw new InvalidArgumentError(`Two files are named "${duplicate}": they would overwrite each other at the top of the archive`, { argument: 'model' });
    }
    return { files, parameters: {} };
  }

  async load(directory: string, _metadata: ModelMetadata): Promise<string> {
    return directory;
  }
}
