import type { ArchiveEntry, ModelAdapter, ModelMetadata, SavedModel } from '@modelstore/core';
import { ModelStoreError } from '@modelstore/core';
import { statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
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

/** Every file under `directory`, as archive entries relative to it (sorted, so archives are reproducible). */
async function filesUnder(directory: string, prefix = ''): Promise<ArchiveEntry[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: ArchiveEntry[] = [];
  for (const entry of entries) {
    const source = path.join(directory, entry.name);
    const archivePath = `${prefix}${entry.name}`;
    // Links are followed to files, so a directory of links to weights works; linked directories are refused (cycles).
    const info = entry.isSymbolicLink() ? await stat(source) : entry;
    if (info.isDirectory()) {
      if (entry.isSymbolicLink()) throw new ModelStoreError(`RawAdapter does not follow links to directories: ${source}`);
      files.push(...(await filesUnder(source, `${archivePath}/`)));
    } else if (info.isFile()) {
      files.push({ path: archivePath, source });
    }
  }
  return files;
}

/**
 * Stores files that are already on disk: one file (at the top of the archive, as
 * Python modelstore's `model_file` does), a directory (its tree kept, relative to
 * it), or a list of files (each at the top, by its base name). `load` returns the
 * directory the model was extracted into.
 */
export class RawAdapter implements ModelAdapter<RawModel, string> {
  readonly library = 'model_file';

  /** Accepts a path that exists, or a non-empty list of paths that all exist. */
  matches(model: unknown): boolean {
    if (typeof model === 'string') return exists(model);
    return isPathList(model) && model.every(exists);
  }

  async save(model: RawModel): Promise<SavedModel> {
    const paths = typeof model === 'string' ? [model] : model;
    if (!isPathList(paths)) throw new TypeError('RawAdapter saves a path, or a list of paths, to files on disk');
    let files: ArchiveEntry[];
    if (typeof model === 'string' && (await stat(model)).isDirectory()) {
      files = await filesUnder(model);
      if (files.length === 0) throw new ModelStoreError(`The directory ${model} holds no files to store`);
    } else {
      files = [];
      for (const file of paths) {
        if (!(await stat(file)).isFile()) throw new ModelStoreError(`RawAdapter stores files; ${file} is not a file (pass a directory on its own)`);
        files.push({ path: path.basename(file), source: file });
      }
      const names = files.map((file) => file.path);
      const duplicate = names.find((name, index) => names.indexOf(name) !== index);
      if (duplicate) throw new ModelStoreError(`Two files are named "${duplicate}": they would overwrite each other at the top of the archive`);
    }
    return { files, parameters: {} };
  }

  async load(directory: string, _metadata: ModelMetadata): Promise<string> {
    return directory;
  }
}
