import { IntegrityError, type ModelStoreErrorOptions } from '@modelstore/core';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * The element types a safetensors header may name, as upstream's Rust crate spells them
 * (`Dtype` in `safetensors/src/tensor.rs` of https://github.com/huggingface/safetensors).
 */
export type SafetensorsDtype = 'BOOL' | 'F4' | 'F6_E2M3' | 'F6_E3M2' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'F8_E8M0' | 'F8_E4M3FNUZ' | 'F8_E5M2FNUZ' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'C64' | 'F64' | 'I64' | 'U64';

/**
 * Bits per element of each dtype (upstream's `Dtype::bitsize`): `F4` is 4 bits, `F6_*` 6,
 * `BOOL` and the 8-bit types 8, `C64` 64 (two float32). A tensor's byte size is
 * `elements × bits / 8`, which must be a whole number.
 */
export const safetensorsDtypeBits: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
});

/**
 * The largest header accepted: 100,000,000 bytes, upstream's `MAX_HEADER_SIZE`. A file that
 * declares a larger one is refused before any of it is read.
 */
export const maxSafetensorsHeaderSize = 100_000_000;

/** One tensor of a safetensors header. */
export interface SafetensorsTensor {
  /** The tensor's name: its key in the header. */
  name: string;
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first (row-major, as upstream stores them); `[]` for a scalar. */
  shape: number[];
  /** `[begin, end)`: the tensor's bytes, relative to the start of the data buffer (as the header writes them). */
  dataOffsets: [number, number];
  /** `[start, end)`: the same bytes as offsets in the file (`dataOffsets` + `dataStart`). Read them to get the tensor's values, little-endian. */
  fileOffsets: [number, number];
  /** Number of elements (the product of `shape`; 1 for a scalar). */
  parameters: number;
}

/** A safetensors file's header, read and validated (see {@link readSafetensorsHeader}). */
export interface SafetensorsHeader {
  /** Size of the file in bytes. */
  fileSize: number;
  /** N, the JSON header's length in bytes (padding included), from the file's first 8 bytes (little-endian u64). */
  headerSize: number;
  /** Where the data buffer starts in the file, in bytes: `8 + headerSize`. */
  dataStart: number;
  /** The header's `__metadata__` (a string to string map), or `null` when the header has none. */
  metadata: Record<string, string> | null;
  /** Every tensor, in the order of their bytes in the file. */
  tensors: SafetensorsTensor[];
  /** Sum of the tensors' element counts. */
  parameters: number;
}

/** What is wrong with a safetensors file or index (see {@link SafetensorsFormatError}). */
export type SafetensorsFormatReason =
  | 'too-small'
  | 'header-too-large'
  | 'header-past-file'
  | 'not-utf8'
  | 'header-start'
  | 'not-json'
  | 'duplicate-key'
  | 'bad-entry'
  | 'overlap'
  | 'hole'
  | 'past-buffer'
  | 'size-mismatch'
  | 'trailing-bytes'
  | 'index-mismatch';

/** What a format error found at load says: the copy on this machine is damaged, and how to get a good one. */
const damagedCopyAdvice =
  "It was not loaded: the downloaded copy of the model on this machine is damaged (changed or cut short after it was downloaded; the stored model was checked when it was uploaded). Download it again: into a new folder (store.download or modelstore download), or, for ModelStore.load's cache, remove the cached copy (modelstore cache prune --max-size 0 removes every cached model not in use) and load again.";

/**
 * A safetensors file (or a sharded set's index) breaks the format's rules: its header is
 * too large, runs past the file, is not UTF-8 JSON, repeats a key, or declares tensors whose
 * bytes overlap, leave holes, run past the file or do not match their dtype and shape; or an
 * index does not match its shards. An `IntegrityError` (code `INTEGRITY`). Found at upload:
 * nothing was uploaded. Found at load (`SafetensorsAdapter.load`, `readTensorBytes`): the
 * downloaded copy is damaged, and the message says to download it again.
 */
export class SafetensorsFormatError extends IntegrityError {
  constructor(
    /** The file at fault (as given, or as found in the model's folder). */
    readonly file: string,
    /** Which rule it breaks. */
    readonly reason: SafetensorsFormatReason,
    message: string,
    options: ModelStoreErrorOptions & {
      /**
       * Where it was found: `upload` (the default: nothing was uploaded, fix the file) or
       * `load` (the downloaded copy is damaged: the message says to download it again).
       */
      stage?: 'upload' | 'load';
    } = {},
  ) {
    const { stage = 'upload', ...rest } = options;
    super(`${file} is not a valid safetensors ${reason === 'index-mismatch' ? 'set' : 'file'}: ${message}. ${stage === 'load' ? damagedCopyAdvice : 'Nothing was uploaded.'}`, rest);
  }

  /**
   * True for a `SafetensorsFormatError` from this or another copy of the package: an
   * `IntegrityError` with a string `reason` and `file`. (`IntegrityError.isInstance` is true
   * for it too.)
   */
  static override isInstance(error: unknown): error is SafetensorsFormatError {
    return IntegrityError.isInstance(error) && typeof (error as { reason?: unknown }).reason === 'string' && typeof (error as { file?: unknown }).file === 'string';
  }
}

const whitespace = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * The first key that appears twice in one JSON object of `text` (which `JSON.parse` has
 * already accepted), with the key of the object holding it; `undefined` when none does.
 * `JSON.parse` keeps the last of two equal keys silently, and other readers may keep the
 * first: a header that says two things about one tensor is refused instead.
 */
export function findDuplicateKey(text: string): { key: string; parent: string | null } | undefined {
  const objects: Array<{ keys: Set<string>; name: string | null } | null> = [];
  let lastKey: string | null = null;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i++;
      let escaped = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i += 2;
        } else if (d === 0x22) break;
        else i++;
      }
      const end = ++i;
      let j = i;
      while (j < n && whitespace.has(text.charCodeAt(j))) j++;
      const top = objects[objects.length - 1];
      if (top && text.charCodeAt(j) === 0x3a) {
        const key = escaped ? (JSON.parse(text.slice(start, end)) as string) : text.slice(start + 1, end - 1);
        if (top.keys.has(key)) return { key, parent: top.name };
        top.keys.add(key);
        lastKey = key;
        i = j + 1;
      }
      continue;
    }
    if (c === 0x7b) {
      objects.push({ keys: new Set(), name: objects.length === 0 ? null : lastKey });
    } else if (c === 0x5b) objects.push(null);
    else if (c === 0x7d || c === 0x5d) objects.pop();
    i++;
  }
  return undefined;
}

/**
 * Parses JSON text that must be an object, refusing duplicate keys at any depth.
 * @throws SafetensorsFormatError (`not-json`, `duplicate-key`)
 */
export function parseStrictJsonObject(file: string, text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsFormatError(file, 'not-json', `its ${what} is not JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SafetensorsFormatError(file, 'not-json', `its ${what} is JSON but not an object`);
  const duplicate = findDuplicateKey(text);
  if (duplicate) {
    const where = duplicate.parent === null ? 'at the top of' : `in ${JSON.stringify(duplicate.parent)} of`;
    throw new SafetensorsFormatError(file, 'duplicate-key', `the key ${JSON.stringify(duplicate.key)} appears twice ${where} its ${what} (readers disagree on which one counts)`);
  }
  return value as Record<string, unknown>;
}

function isSafeCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function describeTensor(file: string, name: string, entry: unknown): { dtype: SafetensorsDtype; shape: number[]; offsets: [number, number] } {
  const bad = (why: string) => new SafetensorsFormatError(file, 'bad-entry', `tensor ${JSON.stringify(name)} ${why}`);
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw bad('is not an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(safetensorsDtypeBits, dtype)) throw bad(`has dtype ${JSON.stringify(dtype)}, which is not one of ${Object.keys(safetensorsDtypeBits).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every(isSafeCount)) throw bad(`has shape ${JSON.stringify(shape)}: a list of whole numbers from 0 to 2^53-1 is expected`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSafeCount)) throw bad(`has data_offsets ${JSON.stringify(offsets)}: [begin, end] with whole numbers from 0 to 2^53-1 is expected`);
  return { dtype: dtype as SafetensorsDtype, shape: shape as number[], offsets: [offsets[0] as number, offsets[1] as number] };
}

/**
 * Validates a header's JSON text against the file it came from and returns what it
 * declares. `fileSize` is the whole file's size in bytes, `headerSize` the N of its prefix.
 * The rules are upstream's (`Metadata::validate` and `SafeTensors::read_metadata` in
 * `safetensors/src/tensor.rs`), plus: the header starts with `{`, no key appears twice.
 * @throws SafetensorsFormatError
 */
export function validateSafetensorsHeader(file: string, headerText: string, headerSize: number, fileSize: number): SafetensorsHeader {
  if (!headerText.startsWith('{')) throw new SafetensorsFormatError(file, 'header-start', `its header must start with "{" (it starts with ${JSON.stringify(headerText.slice(0, 8))})`);
  const json = parseStrictJsonObject(file, headerText, 'header');
  const dataStart = 8 + headerSize;
  const bufferSize = fileSize - dataStart;
  let metadata: Record<string, string> | null = null;
  const declared: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; offsets: [number, number] }> = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (entry === null) continue;
      if (typeof entry !== 'object' || Array.isArray(entry) || !Object.values(entry as object).every((value) => typeof value === 'string'))
        throw new SafetensorsFormatError(file, 'bad-entry', '__metadata__ must be an object whose values are all strings');
      metadata = Object.assign(Object.create(null) as Record<string, string>, entry as Record<string, string>);
      continue;
    }
    declared.push({ name, ...describeTensor(file, name, entry) });
  }
  declared.sort((a, b) => a.offsets[0] - b.offsets[0] || a.offsets[1] - b.offsets[1]);
  const tensors: SafetensorsTensor[] = [];
  let position = 0;
  let previous: string | undefined;
  let parameters = 0;
  for (const { name, dtype, shape, offsets } of declared) {
    const [begin, end] = offsets;
    const label = JSON.stringify(name);
    if (end < begin) throw new SafetensorsFormatError(file, 'bad-entry', `tensor ${label} ends (byte ${end}) before it begins (byte ${begin})`);
    if (end > bufferSize) throw new SafetensorsFormatError(file, 'past-buffer', `tensor ${label} ends at byte ${end} of the data buffer, which holds only ${Math.max(0, bufferSize)} bytes (the file is ${fileSize} bytes)`);
    if (begin < position) throw new SafetensorsFormatError(file, 'overlap', `tensor ${label} (bytes ${begin}-${end}) overlaps tensor ${JSON.stringify(previous)}, which ends at byte ${position}`);
    if (begin > position) throw new SafetensorsFormatError(file, 'hole', `bytes ${position}-${begin} of the data buffer belong to no tensor (a hole before tensor ${label})`);
    let elements = 1n;
    for (const dimension of shape) elements *= BigInt(dimension);
    const bits = elements * BigInt(safetensorsDtypeBits[dtype]);
    if (bits % 8n !== 0n) throw new SafetensorsFormatError(file, 'size-mismatch', `tensor ${label} (${dtype} ${JSON.stringify(shape)}) does not fill a whole number of bytes`);
    if (bits / 8n !== BigInt(end - begin)) throw new SafetensorsFormatError(file, 'size-mismatch', `tensor ${label} is ${dtype} ${JSON.stringify(shape)}, ${bits / 8n} bytes, but its data_offsets span ${end - begin} bytes`);
    // elements <= 8 × bytes, and bytes fit in the file: a safe integer.
    tensors.push({ name, dtype, shape, dataOffsets: [begin, end], fileOffsets: [dataStart + begin, dataStart + end], parameters: Number(elements) });
    parameters += Number(elements);
    position = end;
    previous = name;
  }
  if (position !== bufferSize)
    throw new SafetensorsFormatError(file, 'trailing-bytes', `its tensors cover ${position} bytes of the data buffer, but the file holds ${bufferSize} bytes after the header: the last tensor must end at the end of the file`);
  return { fileSize, headerSize, dataStart, metadata, tensors, parameters };
}

/**
 * Reads and validates the header of the safetensors file at `file`, reading only its
 * first `8 + N` bytes (never the tensors' data). Format: an 8-byte little-endian u64 N,
 * N bytes of UTF-8 JSON (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 * "__metadata__"?: {string: string}}`), then the data buffer
 * (https://github.com/huggingface/safetensors, README "Format").
 *
 * Refused, with a {@link SafetensorsFormatError} (an `IntegrityError`): a file under 8
 * bytes; N over {@link maxSafetensorsHeaderSize} (checked before reading it); N past the
 * end of the file; a header that is not UTF-8, does not start with `{`, is not a JSON
 * object, or repeats a key in any object; an unknown dtype, a shape or offsets that are
 * not whole numbers (at most 2^53-1); `__metadata__` values that are not strings; tensors
 * whose bytes overlap, leave a hole, or run past the file; a tensor whose byte size is not
 * `elements × dtype bits / 8`; bytes after the last tensor.
 *
 * @throws SafetensorsFormatError as above; the file system's errors (ENOENT, EACCES...) as they are.
 */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 8) throw new SafetensorsFormatError(file, 'too-small', `it is ${size} bytes long, shorter than the 8-byte header size`);
    const prefix = Buffer.alloc(8);
    await readFully(file, handle, prefix, 0);
    const declared = prefix.readBigUInt64LE(0);
    if (declared > BigInt(maxSafetensorsHeaderSize)) throw new SafetensorsFormatError(file, 'header-too-large', `it declares a ${declared}-byte header; at most ${maxSafetensorsHeaderSize} bytes are accepted (upstream's limit)`);
    const headerSize = Number(declared);
    if (8 + headerSize > size) throw new SafetensorsFormatError(file, 'header-past-file', `it declares a ${headerSize}-byte header, but only ${size - 8} bytes follow the header size`);
    const header = Buffer.alloc(headerSize);
    await readFully(file, handle, header, 8);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(header);
    } catch (error) {
      throw new SafetensorsFormatError(file, 'not-utf8', 'its header is not valid UTF-8', { cause: error });
    }
    return validateSafetensorsHeader(file, text, headerSize, size);
  } finally {
    await handle.close();
  }
}

async function readFully(file: string, handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new SafetensorsFormatError(file, 'header-past-file', 'it ended while its header was read (it shrank)');
    done += bytesRead;
  }
}
