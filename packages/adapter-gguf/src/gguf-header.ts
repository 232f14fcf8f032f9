import { InvalidArgumentError, sourceFileError, specialFileError } from '@modelstore/core';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { type GgmlType, ggmlTypes } from './ggml-types.js';

/**
 * The GGUF value types, by their id in the file (`gguf_type` of the GGUF spec:
 * https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
 */
const valueTypes: readonly GgufValueType[] = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64'];

/** A GGUF metadata value type name (ids 0 to 12 in the file, in this order). */
export type GgufValueType = 'UINT8' | 'INT8' | 'UINT16' | 'INT16' | 'UINT32' | 'INT32' | 'FLOAT32' | 'BOOL' | 'STRING' | 'ARRAY' | 'UINT64' | 'INT64' | 'FLOAT64';

/** Bytes each element of a value type takes at least (a string: its 8-byte length; v1 files: 4). */
const minimumSize: Record<GgufValueType, number> = { UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, UINT32: 4, INT32: 4, FLOAT32: 4, BOOL: 1, STRING: 8, ARRAY: 12, UINT64: 8, INT64: 8, FLOAT64: 8 };

/**
 * An array value. Only its element type and length are always kept: the elements
 * themselves (`values`) only for arrays of at most {@link maxKeptArrayLength} elements,
 * so a 150,000-token vocabulary costs its reading, not 150,000 JavaScript strings.
 */
export interface GgufArray {
  type: 'array';
  elementType: GgufValueType;
  /** Number of elements. */
  length: number;
  /** The elements, when `length` is at most {@link maxKeptArrayLength}. */
  values?: GgufValue[];
}

/**
 * A metadata value: integers as `number` (or `bigint` for 64-bit values beyond 2^53),
 * floats as `number`, `BOOL` as `boolean`, `STRING` as UTF-8-decoded `string`.
 */
export type GgufValue = number | bigint | boolean | string | GgufArray;

/** One tensor info of the header: where a tensor's data is, never the data itself. */
export interface GgufTensorInfo {
  name: string;
  /** Dimensions in ggml order (`ne[0]`, the innermost, first). */
  shape: number[];
  /** GGML type name (`F32`, `Q4_K`, ...), or `TYPE_<id>` for an id this package does not know. */
  type: string;
  /** Number of elements (the product of `shape`). */
  elements: number;
  /** Offset of the tensor's data from the start of the data section, in bytes. */
  offset: number;
  /** Size of the tensor's data in bytes (`null` for an unknown type). */
  bytes: number | null;
}

/** What a GGUF file's header says, read without its tensor data. */
export interface GgufHeader {
  /** GGUF format version (1, 2 or 3). */
  version: number;
  /** False for the big-endian variant of the format. */
  littleEndian: boolean;
  /** Key/value metadata, in file order (a null-prototype object). */
  metadata: Record<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** `general.alignment`, or 32: tensor data offsets are multiples of it. */
  alignment: number;
  /** Byte offset of the tensor data section (the end of the header, padded to `alignment`). */
  dataOffset: number;
  /** Size of the file in bytes. */
  fileSize: number;
  /** Bytes this reader read from the file (the header, rounded up to its 64 KiB read size); for bytes in memory, the header's length. */
  bytesRead: number;
}

/** Limits {@link readGgufHeader} applies to what a header declares. */
export interface GgufReadOptions {
  /** Longest string kept (a key, a value, a tensor name), in bytes; a longer one is refused. Default 16 MiB. */
  maxStringBytes?: number;
  /** Most bytes of strings kept in all (keys, values, tensor names); a header with more is refused. Default 64 MiB. */
  maxTotalStringBytes?: number;
  /** Most tensors a header may declare; more are refused before any is read. Default 1,000,000 (real models have a few thousand). */
  maxTensorCount?: number;
  /** Deepest nesting of arrays in arrays. Default 4. */
  maxArrayDepth?: number;
}

/** Arrays up to this many elements keep their values in {@link GgufArray.values}. */
export const maxKeptArrayLength = 256;

/** GGML_MAX_DIMS: ggml tensors have at most 4 dimensions. */
const maxDims = 4;
const readSize = 64 * 1024;

/**
 * A GGUF header that cannot be read, or that declares what its file cannot hold: a wrong
 * magic number, a truncated header, a count or length larger than the bytes left, an
 * unknown value type, a tensor whose data lies past the end of the file, a split set
 * whose parts disagree. A kind of `InvalidArgumentError` (code `INVALID_ARGUMENT`,
 * `argument` `'model'`): nothing was uploaded.
 */
export class GgufHeaderError extends InvalidArgumentError {
  constructor(
    message: string,
    /** The file (or `<bytes>` for bytes given in memory). */
    readonly file: string,
    /** Byte offset in the file where reading stopped. */
    readonly offset: number,
    options: { cause?: unknown } = {},
  ) {
    super(`${file}: not a readable GGUF model: ${message} (at byte ${offset})`, { argument: 'model', ...options });
  }
}

/** The GGUF value types of fixed size: their byte size and the `Buffer` read method (with `LE`/`BE` above one byte). */
type ScalarType = 'UINT8' | 'INT8' | 'UINT16' | 'INT16' | 'UINT32' | 'INT32' | 'FLOAT32' | 'FLOAT64' | 'UINT64' | 'INT64';
const scalarReads: Record<ScalarType, [number, string]> = {
  UINT8: [1, 'readUInt8'],
  INT8: [1, 'readInt8'],
  UINT16: [2, 'readUInt16'],
  INT16: [2, 'readInt16'],
  UINT32: [4, 'readUInt32'],
  INT32: [4, 'readInt32'],
  FLOAT32: [4, 'readFloat'],
  FLOAT64: [8, 'readDouble'],
  UINT64: [8, 'readBigUInt64'],
  INT64: [8, 'readBigInt64'],
};

/** Sequential reads over a file (64 KiB at a time) or bytes in memory, bounded by the size. */
class Cursor {
  offset = 0;
  bytesRead = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private bufferStart = 0;
  littleEndian = true;

  constructor(
    readonly file: string,
    readonly size: number,
    private readonly handle: FileHandle | undefined,
    bytes?: Uint8Array,
  ) {
    if (bytes) this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string, at = this.offset): never {
    throw new GgufHeaderError(message, this.file, at);
  }

  /** True when reading a file (false for bytes in memory). */
  get fromFile(): boolean {
    return this.handle !== undefined;
  }

  get remaining(): number {
    return this.size - this.offset;
  }

  /** Makes `length` bytes at `offset` available in the buffer; returns their start in it. */
  private async take(length: number, what: string): Promise<number> {
    if (length > this.remaining) this.fail(`the file ends inside ${what} (${length} bytes needed, ${this.remaining} left: truncated)`);
    const start = this.offset - this.bufferStart;
    if (start >= 0 && start + length <= this.buffer.length) {
      this.offset += length;
      return start;
    }
    if (!this.handle) this.fail(`the bytes end inside ${what}`);
    const want = Math.min(Math.max(length, readSize), this.size - this.offset);
    const buffer = Buffer.allocUnsafe(want);
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await this.handle.read(buffer, filled, want - filled, this.offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.bytesRead += filled;
    if (filled < length) this.fail(`the file ends inside ${what} (it shrank while being read)`);
    this.buffer = buffer.subarray(0, filled);
    this.bufferStart = this.offset;
    this.offset += length;
    return 0;
  }

  async skip(length: number, what: string): Promise<void> {
    if (length > this.remaining) this.fail(`the file ends inside ${what} (${length} bytes declared, ${this.remaining} left)`);
    this.offset += length;
  }

  /** A fixed-size number of GGUF value type `type`, in the file's byte order. */
  async scalar(type: ScalarType, what: string): Promise<number | bigint> {
    const [size, method] = scalarReads[type];
    const at = await this.take(size, what);
    const name = size === 1 ? method : `${method}${this.littleEndian ? 'LE' : 'BE'}`;
    return (this.buffer[name as keyof Buffer] as (offset: number) => number | bigint).call(this.buffer, at);
  }
  async u8(what: string): Promise<number> {
    return (await this.scalar('UINT8', what)) as number;
  }
  async u32(what: string): Promise<number> {
    return (await this.scalar('UINT32', what)) as number;
  }
  async u64(what: string): Promise<bigint> {
    return (await this.scalar('UINT64', what)) as bigint;
  }
  async bytes(length: number, what: string): Promise<Buffer> {
    const at = await this.take(length, what);
    return this.buffer.subarray(at, at + length);
  }
}

/** A 64-bit value as a number when it is exact, else a bigint. */
function exact(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

interface Reader {
  cursor: Cursor;
  version: number;
  options: Required<GgufReadOptions>;
  /** Bytes of strings kept so far. */
  kept: number;
}

/** A count or length (uint32 in GGUF v1, uint64 since v2), checked against the bytes left: each item takes at least `itemSize` bytes. */
async function count(reader: Reader, itemSize: number, what: string): Promise<number> {
  const { cursor } = reader;
  const at = cursor.offset;
  const value = reader.version === 1 ? BigInt(await cursor.u32(what)) : await cursor.u64(what);
  if (value * BigInt(itemSize) > BigInt(cursor.remaining)) cursor.fail(`${what} is ${value}, more than the ${cursor.remaining} bytes left in the file can hold`, at);
  return Number(value);
}

async function readString(reader: Reader, what: string): Promise<string> {
  const length = await count(reader, 1, `the length of ${what}`);
  if (length > reader.options.maxStringBytes) reader.cursor.fail(`${what} is ${length} bytes long, over the ${reader.options.maxStringBytes}-byte limit`);
  reader.kept += length;
  if (reader.kept > reader.options.maxTotalStringBytes) reader.cursor.fail(`the header's strings exceed ${reader.options.maxTotalStringBytes} bytes in all (at ${what})`);
  return (await reader.cursor.bytes(length, what)).toString('utf8');
}

async function skipString(reader: Reader, what: string): Promise<void> {
  const length = await count(reader, 1, `the length of ${what}`);
  await reader.cursor.skip(length, what);
}

async function valueType(reader: Reader, what: string): Promise<GgufValueType> {
  const at = reader.cursor.offset;
  const id = await reader.cursor.u32(what);
  const type = valueTypes[id];
  if (type === undefined) reader.cursor.fail(`${what} is ${id}, not a GGUF value type (0 to 12)`, at);
  return type;
}

async function readValue(reader: Reader, type: GgufValueType, what: string, depth: number, keep: boolean): Promise<GgufValue | undefined> {
  const { cursor } = reader;
  if (type in scalarReads) {
    const value = await cursor.scalar(type as ScalarType, what);
    return typeof value === 'bigint' ? exact(value) : value;
  }
  switch (type) {
    case 'BOOL': {
      const at = cursor.offset;
      const byte = await cursor.u8(what);
      if (byte > 1) cursor.fail(`${what} is a BOOL of value ${byte} (0 or 1 expected)`, at);
      return byte === 1;
    }
    case 'STRING':
      if (keep) return readString(reader, what);
      await skipString(reader, what);
      return undefined;
    case 'ARRAY': {
      if (depth >= reader.options.maxArrayDepth) cursor.fail(`${what} nests arrays deeper than ${reader.options.maxArrayDepth} levels`);
      const elementType = await valueType(reader, `the element type of ${what}`);
      const minimum = reader.version === 1 && elementType === 'STRING' ? 4 : minimumSize[elementType];
      const length = await count(reader, minimum, `the length of ${what}`);
      const kept = keep && length <= maxKeptArrayLength;
      const element = `an element of ${what}`;
      const fixed = elementType === 'STRING' || elementType === 'ARRAY' || elementType === 'BOOL' ? 0 : minimumSize[elementType];
      if (!kept && fixed > 0) {
        await cursor.skip(length * fixed, what);
        return keep ? { type: 'array', elementType, length } : undefined;
      }
      const values: GgufValue[] = [];
      for (let i = 0; i < length; i++) {
        const value = await readValue(reader, elementType, element, depth + 1, kept);
        if (kept) values.push(value!);
      }
      if (!keep) return undefined;
      return kept ? { type: 'array', elementType, length, values } : { type: 'array', elementType, length };
    }
  }
}

/** Bytes of a tensor's data, or null for an unknown type; fails when the innermost dimension is not a whole number of blocks. */
function tensorBytes(cursor: Cursor, ggml: GgmlType | undefined, shape: number[], elements: number, name: string, at: number): number | null {
  if (!ggml) return null;
  const innermost = shape[0] ?? 1;
  if (innermost % ggml.blockSize !== 0) cursor.fail(`tensor ${JSON.stringify(name)} has ${innermost} elements in its first dimension, not a multiple of the ${ggml.name} block size ${ggml.blockSize}`, at);
  return (elements / ggml.blockSize) * ggml.typeSize;
}

/**
 * Reads a GGUF file's header (magic, version, key/value metadata and tensor infos) and
 * checks that the tensor data it declares fits in the file, without reading that data:
 * a multi-gigabyte model costs its header, read sequentially 64 KiB at a time (the
 * header of a 32,000-token llama model is under 1 MiB). Arrays longer than
 * {@link maxKeptArrayLength} are skipped, keeping their element type and length.
 *
 * Format: the GGUF specification, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 * (versions 1 to 3, little- and big-endian).
 *
 * Every count and length is checked against the bytes left before anything is
 * allocated, so a hostile header (2^60 tensors, a string longer than the file) fails at
 * once, with no large allocation.
 *
 * @param source a path to a `.gguf` file, or its bytes
 * @throws GgufHeaderError (an `InvalidArgumentError`) when the header cannot be read or
 *   declares more than the file holds
 * @throws SourceFileError when the path is missing (`missing`), is a folder (`special`) or
 *   cannot be read (`unreadable`), with the file system's error as `cause`
 */
export async function readGgufHeader(source: string | Uint8Array, options: GgufReadOptions = {}): Promise<GgufHeader> {
  let handle: FileHandle | undefined;
  let cursor: Cursor;
  if (typeof source === 'string') {
    try {
      // stat first: opening a FIFO for reading would wait for a writer.
      const kind = await stat(source);
      if (!kind.isFile()) throw kind.isDirectory() ? sourceFileError(source, Object.assign(new Error('a directory'), { code: 'EISDIR' })) : specialFileError(source, kind);
      handle = await open(source, 'r');
      cursor = new Cursor(source, (await handle.stat()).size, handle);
    } catch (error) {
      await handle?.close();
      throw sourceFileError(source, error);
    }
  } else {
    cursor = new Cursor('<bytes>', source.byteLength, undefined, source);
  }
  try {
    return await readHeader(cursor, {
      maxStringBytes: options.maxStringBytes ?? 16 * 1024 * 1024,
      maxTotalStringBytes: options.maxTotalStringBytes ?? 64 * 1024 * 1024,
      maxTensorCount: options.maxTensorCount ?? 1_000_000,
      maxArrayDepth: options.maxArrayDepth ?? 4,
    });
  } catch (error) {
    throw sourceFileError(cursor.file, error);
  } finally {
    await handle?.close();
  }
}

async function readHeader(cursor: Cursor, options: Required<GgufReadOptions>): Promise<GgufHeader> {
  const magic = await cursor.bytes(4, 'the magic number');
  if (magic.toString('latin1') !== 'GGUF') cursor.fail(`the file starts with ${JSON.stringify(magic.toString('latin1'))} (hex ${magic.toString('hex')}), not the GGUF magic "GGUF"`, 0);
  const versionBytes = await cursor.bytes(4, 'the version');
  let version = versionBytes.readUInt32LE(0);
  if (version > 0xffff && versionBytes.readUInt32BE(0) <= 0xffff) {
    cursor.littleEndian = false;
    version = versionBytes.readUInt32BE(0);
  }
  if (version < 1 || version > 3) cursor.fail(`GGUF version ${version} is not supported (1 to 3 are)`, 4);
  const reader: Reader = { cursor, version, options, kept: 0 };
  // A tensor info takes at least 8 (name length) + 4 (dims) + 4 (type) + 8 (offset) bytes; a key/value 8 + 4 + 1.
  const tensorCount = await count(reader, version === 1 ? 16 : 24, 'the tensor count');
  if (tensorCount > options.maxTensorCount) cursor.fail(`the header declares ${tensorCount} tensors, over the limit of ${options.maxTensorCount}`, 8);
  const kvCount = await count(reader, version === 1 ? 9 : 13, 'the metadata key/value count');

  const metadata: Record<string, GgufValue> = Object.create(null);
  for (let i = 0; i < kvCount; i++) {
    const at = cursor.offset;
    const key = await readString(reader, `metadata key ${i}`);
    if (key.length === 0) cursor.fail(`metadata key ${i} is empty`, at);
    if (key in metadata) cursor.fail(`metadata key ${JSON.stringify(key)} appears twice`, at);
    const type = await valueType(reader, `the type of ${key}`);
    metadata[key] = (await readValue(reader, type, key, 0, true))!;
  }

  let alignment = 32;
  if ('general.alignment' in metadata) {
    const value = metadata['general.alignment'];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || (value & (value - 1)) !== 0) cursor.fail(`general.alignment is ${String(value)}, not a power of two`);
    alignment = value;
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = cursor.offset;
    const name = await readString(reader, `the name of tensor ${i}`);
    if (names.has(name)) cursor.fail(`tensor ${JSON.stringify(name)} appears twice`, at);
    names.add(name);
    const dims = await cursor.u32(`the dimension count of tensor ${JSON.stringify(name)}`);
    if (dims > maxDims) cursor.fail(`tensor ${JSON.stringify(name)} has ${dims} dimensions (ggml allows at most ${maxDims})`, at);
    const shape: number[] = [];
    let elements = 1;
    for (let d = 0; d < dims; d++) {
      const dim = version === 1 ? BigInt(await cursor.u32('a tensor dimension')) : await cursor.u64('a tensor dimension');
      if (dim > BigInt(Number.MAX_SAFE_INTEGER)) cursor.fail(`tensor ${JSON.stringify(name)} declares a dimension of ${dim}`, at);
      shape.push(Number(dim));
      elements *= Number(dim);
      if (!Number.isSafeInteger(elements)) cursor.fail(`tensor ${JSON.stringify(name)} declares more than 2^53 elements`, at);
    }
    const typeId = await cursor.u32(`the type of tensor ${JSON.stringify(name)}`);
    const ggml = ggmlTypes[typeId];
    const offset = await cursor.u64(`the data offset of tensor ${JSON.stringify(name)}`);
    if (offset > BigInt(cursor.size)) cursor.fail(`tensor ${JSON.stringify(name)} starts at data offset ${offset}, past the end of the ${cursor.size}-byte file`, at);
    if (Number(offset) % alignment !== 0) cursor.fail(`tensor ${JSON.stringify(name)} starts at data offset ${offset}, not a multiple of the alignment ${alignment}`, at);
    tensors.push({ name, shape, type: ggml?.name ?? `TYPE_${typeId}`, elements, offset: Number(offset), bytes: tensorBytes(cursor, ggml, shape, elements, name, at) });
  }

  const headerEnd = cursor.offset;
  const dataOffset = Math.ceil(headerEnd / alignment) * alignment;
  const dataBytes = cursor.size - dataOffset;
  for (const tensor of tensors) {
    if (tensor.bytes !== null && tensor.offset + tensor.bytes > dataBytes) {
      cursor.fail(`tensor ${JSON.stringify(tensor.name)} needs bytes ${tensor.offset} to ${tensor.offset + tensor.bytes} of the data section, which holds ${Math.max(0, dataBytes)} bytes (truncated file?)`, headerEnd);
    }
  }
  return { version, littleEndian: cursor.littleEndian, metadata, tensors, alignment, dataOffset, fileSize: cursor.size, bytesRead: cursor.fromFile ? cursor.bytesRead : headerEnd };
}
