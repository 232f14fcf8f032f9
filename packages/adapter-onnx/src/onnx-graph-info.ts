import { OnnxFormatError, ProtobufReader, type ProtobufField } from './protobuf.js';

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

async function firstField(reader: ProtobufReader, field: ProtobufField, number: number): Promise<ProtobufField | undefined> {
  for await (const part of reader.inside(field)) if (part.number === number) return part;
  return undefined;
}

async function valueInfo(reader: ProtobufReader, field: ProtobufField): Promise<OnnxValueInfo> {
  let name = '';
  let type = 'unknown';
  let shape: OnnxValueInfo['shape'] = null;
  for await (const part of reader.inside(field)) {
    if (part.number === 1 && part.wireType === 2) name = await reader.text(part);
    if (part.number !== 2) continue;
    // TypeProto: tensor_type = 1, sequence_type = 4, map_type = 5, sparse_tensor_type = 8, optional_type = 9.
    for await (const kind of reader.inside(part)) {
      if (kind.number === 4) type = 'sequence';
      else if (kind.number === 5) type = 'map';
      else if (kind.number === 9) type = 'optional';
      else if ((kind.number === 1 || kind.number === 8) && kind.wireType === 2) {
        shape = [];
        for await (const tensor of reader.inside(kind)) {
          if (tensor.number === 1 && tensor.value !== undefined) type = elementTypes[Number(tensor.value)] ?? `tensor(${tensor.value})`;
          if (tensor.number !== 2) continue;
          for await (const dim of reader.inside(tensor)) {
            if (dim.number !== 1 || dim.wireType !== 2) continue;
            let value: number | string | null = null;
            for await (const detail of reader.inside(dim)) {
              if (detail.number === 1 && detail.value !== undefined) value = Number(detail.value);
              if (detail.number === 2 && detail.wireType === 2) value = await reader.text(detail);
            }
            shape.push(value);
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
 * Source of the format: `ModelProto`, `GraphProto`, `ValueInfoProto` and `TypeProto` in
 * onnx/onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 *
 * @param model the model's bytes, or the path of a `.onnx` file
 * @throws OnnxFormatError when it is not a well-formed ONNX protobuf, or has no graph
 * @throws the file system's error when the file cannot be opened or read (callers map it)
 */
export async function readOnnxGraphInfo(model: string | Uint8Array): Promise<OnnxGraphInfo> {
  return typeof model === 'string' ? ProtobufReader.withFile(model, graphInfo) : graphInfo(ProtobufReader.fromBytes(model));
}

async function graphInfo(reader: ProtobufReader): Promise<OnnxGraphInfo> {
  const info: OnnxGraphInfo = { inputs: [], outputs: [], opsets: [] };
  let graph: ProtobufField | undefined;
  // ModelProto: ir_version = 1, graph = 7, opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2).
  for await (const field of reader.fields()) {
    if (field.number === 1 && field.value !== undefined) info.irVersion = Number(field.value);
    if (field.number === 7 && field.wireType === 2) graph = field;
    if (field.number === 8 && field.wireType === 2) {
      let domain = '';
      let version = 0;
      for await (const part of reader.inside(field)) {
        if (part.number === 1 && part.wireType === 2) domain = await reader.text(part);
        if (part.number === 2 && part.value !== undefined) version = Number(part.value);
      }
      info.opsets.push({ domain, version });
    }
  }
  if (!graph) throw new OnnxFormatError('the model has no graph');
  const initializers = new Set<string>();
  const inputs: OnnxValueInfo[] = [];
  // GraphProto: initializer = 5 (TensorProto.name = 8; the weights themselves are skipped), input = 11, output = 12.
  for await (const field of reader.inside(graph)) {
    if (field.wireType !== 2) continue;
    if (field.number === 11) inputs.push(await valueInfo(reader, field));
    if (field.number === 12) info.outputs.push(await valueInfo(reader, field));
    if (field.number === 5) {
      const name = await firstField(reader, field, 8);
      if (name?.wireType === 2) initializers.add(await reader.text(name));
    }
  }
  info.inputs = inputs.filter((input) => !initializers.has(input.name));
  return info;
}
