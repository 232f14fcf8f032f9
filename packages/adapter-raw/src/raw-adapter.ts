import type { ArchiveEntry, ModelAdapter, ModelMetadata, SavedModel } from '@modelstore/core';
import { InvalidArgumentError, InvalidOptionError, folderEntries, sourceFileError, specialFileError } from '@modelstore/core';
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
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
    const first = await stat(paths[0]!).catch((error: unknown) => Promise.reject(sourceFileError(paths[0]!, error)));
    if (typeof model === 'string' && first.isDirectory()) {
      files = await folderEntries(model);
    } else {
      files = [];
      for (const file of paths) {
        const info = await stat(file).catch((error: unknown) => Promise.reject(sourceFileError(file, error)));
        if (info.isDirectory()) throw new InvalidArgumentError(`RawAdapter stores files; ${file} is a directory (pass a directory on its own)`, { argument: 'model' });
        if (!info.isFile()) throw specialFileError(file, info);
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
