import { InvalidArgumentError, SourceFileError, sourceFileError } from '@modelstore/core';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { GgufHeaderError, type GgufHeader, type GgufValue, readGgufHeader } from './gguf-header.js';

/**
 * The name llama.cpp gives the parts of a split model (`LLAMA_SPLIT_PATH`, "%s-%05d-of-%05d.gguf"
 * in llama.cpp's src/llama.cpp; gguf-py's `SHARD_NAME_FORMAT`): `<prefix>-00001-of-00003.gguf`.
 */
const splitName = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/;

/** A split part's file name for `prefix`, 1-based `index` and `count`. */
export function splitPartName(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.gguf`;
}

/** The prefix, 1-based part number and part count a file name declares, if it is a split part's name. */
export function parseSplitName(name: string): { prefix: string; index: number; count: number } | undefined {
  const match = splitName.exec(name);
  if (!match) return undefined;
  return { prefix: match[1]!, index: Number(match[2]), count: Number(match[3]) };
}

/** One GGUF file of a model: where it is, the name it gets in the archive, and its header. */
export interface GgufPart {
  /** The file on disk, or the bytes. */
  source: string | Uint8Array;
  /** Its name at the top of the archive. */
  name: string;
  header: GgufHeader;
}

async function requireFile(file: string, context = ''): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw sourceFileError(file, error, context);
  }
  if (!info.isFile()) throw new SourceFileError(file, 'special', `Cannot store ${JSON.stringify(file)} in the model: ${context}it is not a regular file. Nothing was uploaded.`);
}

function header(file: string): Promise<GgufHeader> {
  return readGgufHeader(file);
}

function integer(value: GgufValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/**
 * The files of a GGUF model, each with its header, first part first: one `.gguf` file, or
 * every part of the split set that `model` names (a path to any part, or the list of all
 * parts). A split set must be complete: parts 1 to N, all named `<prefix>-0000i-of-0000N.gguf`
 * with the same prefix and N, each header's `split.no`, `split.count` and
 * `split.tensors.count` agreeing with the names and with the tensors the parts hold.
 *
 * @throws SourceFileError (`missing`) naming the first missing part of a split set, or a path that does not exist
 * @throws GgufHeaderError when a header is unreadable or the parts' headers disagree
 * @throws InvalidArgumentError when `model` is not a path, a list of paths or bytes, or a list mixes sets
 */
export async function resolveGgufParts(model: string | readonly string[] | Uint8Array): Promise<GgufPart[]> {
  if (model instanceof Uint8Array) {
    const parsed = await readGgufHeader(model);
    const count = integer(parsed.metadata['split.count']) ?? 1;
    if (count > 1) throw new GgufHeaderError(`these bytes are part ${(integer(parsed.metadata['split.no']) ?? 0) + 1} of a ${count}-part split set: pass the paths of the parts instead`, '<bytes>', 0);
    return [{ source: model, name: 'model.gguf', header: parsed }];
  }
  let files: string[];
  if (typeof model === 'string') files = [model];
  else if (Array.isArray(model) && model.length > 0 && model.every((file) => typeof file === 'string')) files = [...model];
  else throw new InvalidArgumentError('GgufAdapter saves a path to a .gguf file, the list of paths of a split set, or the bytes of a GGUF file', { argument: 'model' });

  for (const file of files) {
    if (path.extname(file).toLowerCase() !== '.gguf') throw new InvalidArgumentError(`${JSON.stringify(file)} is not a .gguf file: GgufAdapter stores files named *.gguf`, { argument: 'model' });
  }
  const split = files.map((file) => parseSplitName(path.basename(file)));
  if (files.length === 1 && !split[0]) {
    await requireFile(files[0]!);
    const parsed = await header(files[0]!);
    const count = integer(parsed.metadata['split.count']) ?? 1;
    if (count > 1)
      throw new GgufHeaderError(
        `its header says it is part ${(integer(parsed.metadata['split.no']) ?? 0) + 1} of a ${count}-part split set, but its name is not <prefix>-0000i-of-0000N.gguf: rename the parts as llama.cpp names them`,
        files[0]!,
        0,
      );
    return [{ source: files[0]!, name: path.basename(files[0]!), header: parsed }];
  }
  const first = split.find((part) => part);
  if (!first || split.some((part) => !part || part.prefix !== first.prefix || part.count !== first.count)) {
    throw new InvalidArgumentError(`${files.map((file) => JSON.stringify(path.basename(file))).join(', ')} are not the parts of one split set: every part must be named <prefix>-0000i-of-0000N.gguf with the same prefix and N`, {
      argument: 'model',
    });
  }
  const { prefix, count } = first;
  if (count < 1) throw new InvalidArgumentError(`${JSON.stringify(path.basename(files[0]!))} declares a split set of 0 parts`, { argument: 'model' });
  const paths: string[] = [];
  if (files.length === 1) {
    // One part named: the others are its siblings.
    const directory = path.dirname(files[0]!);
    for (let index = 1; index <= count; index++) paths.push(path.join(directory, splitPartName(prefix, index, count)));
  } else {
    const byIndex = new Map<number, string>();
    files.forEach((file, i) => {
      const index = split[i]!.index;
      if (byIndex.has(index)) throw new InvalidArgumentError(`Part ${index} of split set ${JSON.stringify(prefix)} is given twice`, { argument: 'model' });
      byIndex.set(index, file);
    });
    for (let index = 1; index <= count; index++) {
      const file = byIndex.get(index);
      if (!file) {
        const expected = path.join(path.dirname(files[0]!), splitPartName(prefix, index, count));
        throw new SourceFileError(expected, 'missing', `Cannot store split set ${JSON.stringify(prefix)}: part ${index} of ${count} (${splitPartName(prefix, index, count)}) is not in the list. Nothing was uploaded: pass every part.`);
      }
      paths.push(file);
    }
    if (byIndex.size !== count) throw new InvalidArgumentError(`Split set ${JSON.stringify(prefix)} has ${count} parts, but ${byIndex.size} files were given`, { argument: 'model' });
  }
  for (const [i, file] of paths.entries()) {
    try {
      await requireFile(file);
    } catch (error) {
      if (!(SourceFileError.isInstance(error) && error.reason === 'missing')) throw error;
      const name = splitPartName(prefix, i + 1, count);
      throw new SourceFileError(
        file,
        'missing',
        `Cannot store split set ${JSON.stringify(prefix)}: it lacks part ${i + 1} of ${count} (${name}), which is not in ${path.dirname(file)}. Nothing was uploaded: add ${name} beside the other parts (every part of a split set is needed to load it), then upload again.`,
        { cause: error },
      );
    }
  }

  const parts: GgufPart[] = [];
  let tensorTotal = 0;
  let declaredTotal: number | undefined;
  for (const [i, file] of paths.entries()) {
    const parsed = await header(file);
    const no = integer(parsed.metadata['split.no']);
    const declaredCount = integer(parsed.metadata['split.count']);
    const tensors = integer(parsed.metadata['split.tensors.count']);
    if (count > 1 || declaredCount !== undefined) {
      if (no !== i || declaredCount !== count)
        throw new GgufHeaderError(`its header says split.no ${String(no)} and split.count ${String(declaredCount)}, its name part ${i + 1} of ${count} (split.no ${i}, split.count ${count} expected)`, file, 0);
      if (tensors === undefined) throw new GgufHeaderError('a split part without split.tensors.count', file, 0);
      if (declaredTotal !== undefined && tensors !== declaredTotal) throw new GgufHeaderError(`split.tensors.count is ${tensors}, part 1 says ${declaredTotal}`, file, 0);
      declaredTotal = tensors;
    }
    tensorTotal += parsed.tensors.length;
    parts.push({ source: file, name: path.basename(file), header: parsed });
  }
  if (declaredTotal !== undefined && declaredTotal !== tensorTotal) throw new GgufHeaderError(`the parts hold ${tensorTotal} tensors, split.tensors.count says ${declaredTotal}`, paths[0]!, 0);
  return parts;
}
