import { InvalidArgumentError } from '@modelstore/core';
import { type FileHandle, open } from 'node:fs/promises';

/**
 * A file or bytes that are not a well-formed ONNX protobuf: a field that runs past the
 * message that holds it or past the end of the file, a truncated varint, an unknown wire
 * type, a model without a graph, subgraphs nested deeper than 64 levels, or a file that
 * changed while it was read. A kind of `InvalidArgumentError` (code `INVALID_ARGUMENT`,
 * `argument` `'model'`); the message says what is wrong, without the file's name.
 */
export class OnnxFormatError extends InvalidArgumentError {
  constructor(message: string) {
    super(message, { argument: 'model' });
  }
}

/** One protobuf field of a message (wire types 0 and 2; fixed-size fields are skipped, not reported). */
export interface ProtobufField {
  /** The field number, as in the `.proto` file. */
  number: number;
  /** 0: varint, 2: length-delimited. */
  wireType: number;
  /** Varint fields: the value. */
  value?: bigint;
  /** Length-delimited fields: where the payload starts and ends (byte offsets). */
  start?: number;
  end?: number;
}

/** Read-ahead window: small fields are read from a file in blocks of this many bytes, large payloads are skipped. */
const windowSize = 8 * 1024;

/**
 * Walks the fields of protobuf messages (ONNX's `ModelProto` and what it holds) with random
 * access, so payloads nobody asks for (weights) are skipped rather than read. A file is read
 * through one cached 8 KiB window, and `bytesRead` counts what was read; bytes in memory
 * cost nothing. Source of the wire format: https://protobuf.dev/programming-guides/encoding/.
 */
export class ProtobufReader {
  /** Bytes read from the file so far. */
  bytesRead = 0;
  private windowStart = 0;

  private constructor(
    /** The size in bytes of the file or the bytes. */
    readonly size: number,
    private window: Buffer,
    private readonly handle?: FileHandle,
  ) {}

  /** A reader over bytes in memory. */
  static fromBytes(bytes: Uint8Array): ProtobufReader {
    return new ProtobufReader(bytes.byteLength, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /**
   * Opens `file`, passes a reader over it to `use` and closes the file afterwards.
   * @throws the file system's error when the file cannot be opened or read (callers map it).
   */
  static async withFile<T>(file: string, use: (reader: ProtobufReader) => Promise<T>): Promise<T> {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      return await use(new ProtobufReader(size, Buffer.alloc(0), handle));
    } finally {
      await handle.close();
    }
  }

  /** `length` bytes at `offset`. @throws OnnxFormatError past the end. */
  async bytes(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || offset + length > this.size) throw new OnnxFormatError(`a field runs past the end of the file (byte ${offset + length} of ${this.size})`);
    if (offset >= this.windowStart && offset + length <= this.windowStart + this.window.length) {
      return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
    }
    if (length > windowSize) {
      const buffer = Buffer.alloc(length);
      await this.read(buffer, offset);
      return buffer;
    }
    const buffer = Buffer.alloc(Math.min(windowSize, this.size - offset));
    await this.read(buffer, offset);
    this.window = buffer;
    this.windowStart = offset;
    return buffer.subarray(0, length);
  }

  private async read(buffer: Buffer, offset: number): Promise<void> {
    if (!this.handle) throw new OnnxFormatError('a read outside the bytes given');
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, done, buffer.length - done, offset + done);
      if (bytesRead === 0) throw new OnnxFormatError('the file ended early (it changed while it was read)');
      done += bytesRead;
      this.bytesRead += bytesRead;
    }
  }

  private async varint(offset: number): Promise<{ value: bigint; next: number }> {
    const chunk = await this.bytes(offset, Math.min(10, this.size - offset));
    let value = 0n;
    for (let i = 0; i < chunk.length; i++) {
      value |= BigInt(chunk[i]! & 0x7f) << BigInt(7 * i);
      if ((chunk[i]! & 0x80) === 0) return { value, next: offset + i + 1 };
    }
    throw new OnnxFormatError('a truncated or malformed protobuf varint');
  }

  /**
   * The fields of the message between `start` and `end` (the whole file or bytes by default),
   * without reading length-delimited payloads.
   * @throws OnnxFormatError for a field that runs past its message, or an unknown wire type.
   */
  async *fields(start = 0, end = this.size): AsyncGenerator<ProtobufField> {
    let offset = start;
    while (offset < end) {
      const tag = await this.varint(offset);
      offset = tag.next;
      const number = Number(tag.value >> 3n);
      const wireType = Number(tag.value & 7n);
      if (wireType === 0) {
        const varint = await this.varint(offset);
        offset = varint.next;
        yield { number, wireType, value: varint.value };
      } else if (wireType === 1 || wireType === 5) {
        offset += wireType === 1 ? 8 : 4;
      } else if (wireType === 2) {
        const length = await this.varint(offset);
        const payloadEnd = length.next + Number(length.value);
        if (length.value > BigInt(end - length.next)) throw new OnnxFormatError('a protobuf field runs past the message that holds it');
        yield { number, wireType, start: length.next, end: payloadEnd };
        offset = payloadEnd;
      } else {
        throw new OnnxFormatError(`an unsupported protobuf wire type ${wireType}`);
      }
      if (offset > end) throw new OnnxFormatError('a protobuf field runs past the message that holds it');
    }
  }

  /** The sub-message fields of a length-delimited `field` (empty for another wire type). */
  async *inside(field: ProtobufField): AsyncGenerator<ProtobufField> {
    if (field.wireType === 2) yield* this.fields(field.start!, field.end!);
  }

  /** A length-delimited field's payload as UTF-8 text. */
  async text(field: ProtobufField): Promise<string> {
    return (await this.bytes(field.start!, field.end! - field.start!)).toString('utf8');
  }
}
