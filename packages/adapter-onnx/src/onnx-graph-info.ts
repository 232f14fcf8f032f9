import { open } from 'node:fs/promises';

/** One graph input or output, as recorded in the model's metadata. */
export interface OnnxValueInfo {
  name: string;
  /** `float32`, `int64`, ... (`tensor(<n>)` for an unknown element type, `sequence`/`map`/`optional` for non-tensors). */
  type: string;
  /** Dimensions: numbers, symbolic names, or `null` when unknown. `null` for non-tensors. */
  shape: Array<number | string | null> | null;
}

export interface OnnxGraphInfo {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  irVersion?: number;
  opsets: Array<{ domain: string; version: number }>;
}

/** TensorProto.DataType names, as onnxruntime's tensor types spell them. */
const elementTypes: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

/** Random access to the model's bytes, so weights are skipped rather than read. */
interface Source {
  read(offset: number, length: number): Promise<Buffer>;
  size: number;
}

interface Field {
  number: number;
  wireType: number;
  /** Varint fields: the value. */
  value?: bigint;
  /** Length-delimited fields: where the payload starts and ends. */
  start?: number;
  end?: number;
}

async function readVarint(source: Source, offset: number): Promise<{ value: bigint; next: number }> {
  const bytes = await source.read(offset, Math.min(10, source.size - offset));
  let value = 0n;
  for (let i = 0; i < bytes.length; i++) {
    value |= BigInt(bytes[i]! & 0x7f) << BigInt(7 * i);
    if ((bytes[i]! & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  throw new Error('truncated or malformed protobuf varint');
}

/** The fields of the message between `start` and `end`, without reading length-delimited payloads. */
async function* fields(source: Source, start: number, end: number): AsyncGenerator<Field> {
  let offset = start;
  while (offset < end) {
    const tag = await readVarint(source, offset);
    offset = tag.next;
    const number = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    if (wireType === 0) {
      const varint = await readVarint(source, offset);
      offset = varint.next;
      yield { number, wireType, value: varint.value };
    } else if (wireType === 1) {
      offset += 8;
    } else if (wireType === 5) {
      offset += 4;
    } else if (wireType === 2) {
      const length = await readVarint(source, offset);
      const payloadStart = length.next;
      const payloadEnd = payloadStart + Number(length.value);
      if (payloadEnd > end) throw new Error('protobuf field runs past its message');
      yield { number, wireType, start: payloadStart, end: payloadEnd };
      offset = payloadEnd;
    } else {
      throw new Error(`unsupported protobuf wire type ${wireType}`);
    }
  }
}

async function text(source: Source, field: Field): Promise<string> {
  return (await source.read(field.start!, field.end! - field.start!)).toString('utf8');
}

async function firstField(source: Source, start: number, end: number, number: number): Promise<Field | undefined> {
  for await (const field of fields(source, start, end)) if (field.number === number) return field;
  return undefined;
}

async function valueInfo(source: Source, start: number, end: number): Promise<OnnxValueInfo> {
  let name = '';
  let type = 'unknown';
  let shape: OnnxValueInfo['shape'] = null;
  for await (const field of fields(source, start, end)) {
    if (field.number === 1 && field.wireType === 2) name = await text(source, field);
    if (field.number !== 2 || field.wireType !== 2) continue;
    // TypeProto: tensor_type = 1, sequence_type = 4, map_type = 5, sparse_tensor_type = 8, optional_type = 9.
    for await (const kind of fields(source, field.start!, field.end!)) {
      if (kind.number === 4) type = 'sequence';
      else if (kind.number === 5) type = 'map';
      else if (kind.number === 9) type = 'optional';
      else if ((kind.number === 1 || kind.number === 8) && kind.wireType === 2) {
        shape = [];
        for await (const part of fields(source, kind.start!, kind.end!)) {
          if (part.number === 1 && part.value !== undefined) type = elementTypes[Number(part.value)] ?? `tensor(${part.value})`;
          if (part.number === 2 && part.wireType === 2) {
            for await (const dim of fields(source, part.start!, part.end!)) {
              if (dim.number !== 1 || dim.wireType !== 2) continue;
              let value: number | string | null = null;
              for await (const detail of fields(source, dim.start!, dim.end!)) {
                if (detail.number === 1 && detail.value !== undefined) value = Number(detail.value);
                if (detail.number === 2 && detail.wireType === 2) value = await text(source, detail);
              }
              shape.push(value);
            }
          }
        }
        if (kind.number === 8) type = `sparse(${type})`;
      }
    }
  }
  return { name, type, shape };
}

/**
 * Reads an ONNX model's graph inputs and outputs (names, element types, shapes),
 * IR version and opsets from its protobuf, seeking past weights instead of reading
 * them, so a multi-gigabyte model costs a few kilobytes of reads. Inputs that are
 * initializers (weights listed as inputs by older exporters) are left out.
 */
export async function readOnnxGraphInfo(model: string | Uint8Array): Promise<OnnxGraphInfo> {
  let close = async () => undefined as void;
  let source: Source;
  if (typeof model === 'string') {
    const handle = await open(model, 'r');
    close = () => handle.close();
    const { size } = await handle.stat();
    source = {
      size,
      async read(offset, length) {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        await handle.read(buffer, 0, buffer.length, offset);
        return buffer;
      },
    };
  } else {
    const bytes = Buffer.from(model.buffer, model.byteOffset, model.byteLength);
    source = { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
  }
  try {
    const info: OnnxGraphInfo = { inputs: [], outputs: [], opsets: [] };
    let graph: Field | undefined;
    for await (const field of fields(source, 0, source.size)) {
      if (field.number === 1 && field.value !== undefined) info.irVersion = Number(field.value);
      if (field.number === 7 && field.wireType === 2) graph = field;
      if (field.number === 8 && field.wireType === 2) {
        let domain = '';
        let version = 0;
        for await (const part of fields(source, field.start!, field.end!)) {
          if (part.number === 1 && part.wireType === 2) domain = await text(source, part);
          if (part.number === 2 && part.value !== undefined) version = Number(part.value);
        }
        info.opsets.push({ domain, version });
      }
    }
    if (!graph) throw new Error('the model has no graph');
    const initializers = new Set<string>();
    const inputs: OnnxValueInfo[] = [];
    for await (const field of fields(source, graph.start!, graph.end!)) {
      if (field.wireType !== 2) continue;
      if (field.number === 11) inputs.push(await valueInfo(source, field.start!, field.end!));
      if (field.number === 12) info.outputs.push(await valueInfo(source, field.start!, field.end!));
      if (field.number === 5) {
        // TensorProto.name = 8; the weights themselves are skipped.
        const name = await firstField(source, field.start!, field.end!, 8);
        if (name) initializers.add(await text(source, name));
      }
    }
    info.inputs = inputs.filter((input) => !initializers.has(input.name));
    return info;
  } finally {
    await close();
  }
}
