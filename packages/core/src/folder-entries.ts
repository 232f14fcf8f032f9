/**
 * A folder on disk as archive entries, with one rule for links: what every adapter
 * that stores a folder (raw files, a Hugging Face repository, safetensors shards, GGUF
 * splits) needs, so each refuses the same things with the same errors.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveEntry } from './adapter.js';
import { kindOf, sourceFileError } from './archive.js';
import { InvalidArgumentError, SourceFileError } from './errors.js';

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

/** `SourceFileError` (reason `special`) for a FIFO, socket or device. */
export function specialFileError(file: string, info: Dirent | Stats): SourceFileError {
  return new SourceFileError(
    file,
    'special',
    `Cannot store ${JSON.stringify(file)} in the model: it is ${kindOf(info)}. Nothing was uploaded: only regular files and directories are stored; remove it from the model folder or copy its data into a regular file.`,
  );
}

/** How {@link folderEntries} walks a folder. */
export interface FolderEntriesOptions {
  /**
   * Follow a link to a file wherever it leads (default `false`: only inside the folder).
   * A Hugging Face cache snapshot is a folder of links into `../../blobs/`. Links to
   * folders must still stay inside the folder.
   */
  followFileLinksOutside?: boolean;
  /** Names left out at the top of the folder, e.g. `['.git', '.cache']` (a clone's and a download tool's bookkeeping). */
  skipTopLevel?: readonly string[];
}

/** An entry of {@link folderEntries}: a path on disk, and for a file its size in bytes when listed. */
export interface FolderEntry extends ArchiveEntry {
  source: string;
  /** A file's size in bytes (as stat'd when listed); absent for directories. */
  size?: number;
}

async function walk(folder: string, folderReal: string, directory: string, directoryReal: string, prefix: string, ancestors: Set<string>, out: FolderEntry[], options: FolderEntriesOptions): Promise<void> {
  const entries = await readdir(directory, { withFileTypes: true }).catch((error: unknown) => Promise.reject(sourceFileError(directory, error)));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (prefix === '' && options.skipTopLevel?.includes(entry.name)) continue;
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
        throw sourceFileError(source, error);
      }
      info = await stat(real).catch((error: unknown) => Promise.reject(sourceFileError(source, error)));
      const inside = real === folderReal || real.startsWith(folderReal + path.sep);
      if (!inside && !(options.followFileLinksOutside && info.isFile())) throw linkError(source, 'link-outside', target, folder);
      if (info.isDirectory() && (ancestors.has(real) || real === folderReal)) throw linkError(source, 'link-cycle', target, folder);
    }
    if (info.isDirectory()) {
      // The directory's own mode comes from what the link resolved to (or the folder itself).
      out.push({ path: archivePath, source: real, type: 'directory' });
      await walk(folder, folderReal, entry.isSymbolicLink() ? real : source, real, `${archivePath}/`, new Set(ancestors).add(real), out, options);
    } else if (info.isFile()) {
      // A link is stored as the file it points to, read from the resolved (checked) path.
      const file = entry.isSymbolicLink() ? real : source;
      const size = 'size' in info ? info.size : (await stat(file).catch((error: unknown) => Promise.reject(sourceFileError(file, error)))).size;
      out.push({ path: archivePath, source: file, size });
    } else {
      throw specialFileError(source, info);
    }
  }
}

/**
 * The archive entries of `folder`'s tree, relative to it and sorted by name (so
 * archives are reproducible): a directory entry for every folder (empty ones too) and a
 * file entry for every regular file; modes are taken from disk when packed.
 *
 * Links: a link whose resolved target (realpath) stays inside `folder` is stored as the
 * file or folder it points to (a copy, not a link); a dangling link, a link leading
 * outside `folder` (a link to a file may, with `followFileLinksOutside`) and a link to
 * a folder that holds it (a cycle) are refused with
 * `SourceFileError` (reasons `dangling-link`, `link-outside`, `link-cycle`), as are
 * FIFOs, sockets and devices (`special`) and unreadable entries (`unreadable`).
 *
 * @param folder a directory on disk (a link to one is followed)
 * @throws SourceFileError as above, or when `folder` cannot be read; InvalidArgumentError when it holds no file
 */
export async function folderEntries(folder: string, options: FolderEntriesOptions = {}): Promise<FolderEntry[]> {
  const folderReal = await realpath(folder).catch((error: unknown) => Promise.reject(sourceFileError(folder, error)));
  const entries: FolderEntry[] = [];
  await walk(folder, folderReal, folder, folderReal, '', new Set([folderReal]), entries, options);
  if (!entries.some((entry) => entry.type !== 'directory'))
    throw new InvalidArgumentError(`Cannot store ${JSON.stringify(folder)} as a model: the folder holds no files. Nothing was uploaded: put the model's files in it, or give the folder that holds them.`, { argument: 'model' });
  return entries;
}
