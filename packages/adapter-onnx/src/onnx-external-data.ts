import path from 'node:path';
import { OnnxFormatError, ProtobufReader, type ProtobufField } from './protobuf.js';

/**
 * One tensor of an ONNX model whose data lives in another file (ONNX "external data").
 *
 * Source of the format: `TensorProto.external_data` and `TensorProto.data_location` in
 * onnx/onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) and
 * https://onnx.ai/onnx/repo-docs/ExternalData.html: `location` is a POSIX path relative to
 * the directory of the `.onnx` file; `offset` and `length` are byte counts into that file.
 */
export interface OnnxExternalTensor {
  /** The tensor's name (`TensorProto.name`), `''` when it has none. */
  tensor: string;
  /** `location` exactly as written in the model (not resolved, not checked). `''` when missing. */
  location: string;
  /** Byte offset into the file (`offset` key; 0 when absent). `undefined` when not a non-negative integer. */
  offset: number | undefined;
  /** Byte count (`length` key). `null` when absent (the data runs to the end of the file); `undefined` when not a non-negative integer. */
  length: number | null | undefined;
}

/** What {@link readOnnxExternalData} found in one `.onnx` file. */
export interface OnnxExternalDataScan {
  /** Every tensor whose data is external, in the order they appear. */
  tensors: OnnxExternalTensor[];
  /** Bytes of the file read to find them (weights stored inline are skipped, not read). */
  bytesRead: number;
  /** The file's size in bytes. */
  size: number;
}

/** Subgraphs (If/Loop/Scan bodies, functions) nest; a file nesting deeper than this is refused as hostile. */
const maxDepth = 64;

function byteCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,15}$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

/** TensorProto: name = 8, external_data = 13 (StringStringEntryProto: key = 1, value = 2), data_location = 14 (1 = EXTERNAL). */
async function tensor(reader: ProtobufReader, field: ProtobufField, out: OnnxExternalTensor[]): Promise<void> {
  let name = '';
  let external = false;
  const entries = new Map<string, string>();
  for await (const part of reader.fields(field.start!, field.end!)) {
    if (part.number === 8 && part.wireType === 2) name = await reader.text(part);
    else if (part.number === 14 && part.value !== undefined) external = part.value === 1n;
    else if (part.number === 13 && part.wireType === 2) {
      let key = '';
      let value = '';
      for await (const entry of reader.fields(part.start!, part.end!)) {
        if (entry.number === 1 && entry.wireType === 2) key = await reader.text(entry);
        if (entry.number === 2 && entry.wireType === 2) value = await reader.text(entry);
      }
      entries.set(key, value);
    }
  }
  // A tensor with external_data entries but no data_location is still read from outside by some runtimes: report it too.
  if (!external && entries.size === 0) return;
  const length = entries.get('length');
  out.push({ tensor: name, location: entries.get('location') ?? '', offset: entries.has('offset') ? byteCount(entries.get('offset')) : 0, length: length === undefined ? null : byteCount(length) });
}

/** SparseTensorProto: values = 1, indices = 2 (TensorProtos). */
async function sparseTensor(reader: ProtobufReader, field: ProtobufField, out: OnnxExternalTensor[]): Promise<void> {
  for await (const part of reader.fields(field.start!, field.end!)) if ((part.number === 1 || part.number === 2) && part.wireType === 2) await tensor(reader, part, out);
}

/** AttributeProto: t = 5, g = 6, tensors = 10, graphs = 11, sparse_tensor = 22, sparse_tensors = 23. */
async function attribute(reader: ProtobufReader, field: ProtobufField, out: OnnxExternalTensor[], depth: number): Promise<void> {
  for await (const part of reader.fields(field.start!, field.end!)) {
    if (part.wireType !== 2) continue;
    if (part.number === 5 || part.number === 10) await tensor(reader, part, out);
    else if (part.number === 6 || part.number === 11) await graph(reader, part, out, depth + 1);
    else if (part.number === 22 || part.number === 23) await sparseTensor(reader, part, out);
  }
}

/** NodeProto: attribute = 5. */
async function node(reader: ProtobufReader, field: ProtobufField, out: OnnxExternalTensor[], depth: number): Promise<void> {
  for await (const part of reader.fields(field.start!, field.end!)) if (part.number === 5 && part.wireType === 2) await attribute(reader, part, out, depth);
}

/** GraphProto: node = 1, initializer = 5, sparse_initializer = 15. */
async function graph(reader: ProtobufReader, field: ProtobufField, out: OnnxExternalTensor[], depth: number): Promise<void> {
  if (depth > maxDepth) throw new OnnxFormatError(`subgraphs nest deeper than ${maxDepth} levels`);
  for await (const part of reader.fields(field.start!, field.end!)) {
    if (part.wireType !== 2) continue;
    if (part.number === 5) await tensor(reader, part, out);
    else if (part.number === 15) await sparseTensor(reader, part, out);
    else if (part.number === 1) await node(reader, part, out, depth);
  }
}

/**
 * Lists the tensors of an ONNX model (a `.onnx` file) whose data is stored outside it,
 * with the `location`, `offset` and `length` each names, so that a caller can check that
 * every location stays inside the model's folder before a runtime opens it.
 *
 * Walks every place a tensor can sit: the main graph's initializers and sparse
 * initializers, tensor attributes of nodes, subgraphs (If/Loop/Scan bodies) to any depth
 * up to 64, the nodes of model-local functions (`ModelProto.functions`) and training
 * graphs (`ModelProto.training_info`). Weights stored inline are skipped by seeking, not
 * read: the bytes read are the graph's structure plus at most one 8 KiB block per
 * tensor, whatever the weights weigh (reported as `bytesRead`).
 *
 * @param model path of the `.onnx` file, or the model's bytes
 * @returns the external tensors, the bytes read (0 for bytes in memory) and the size (bytes)
 * @throws OnnxFormatError when the file is not a well-formed ONNX protobuf (a field that
 *   runs past its message or the file, an unknown wire type, nesting deeper than 64)
 * @throws the file system's error when the file cannot be opened or read (callers map it)
 */
export async function readOnnxExternalData(model: string | Uint8Array): Promise<OnnxExternalDataScan> {
  return typeof model === 'string' ? ProtobufReader.withFile(model, externalData) : externalData(ProtobufReader.fromBytes(model));
}

async function externalData(reader: ProtobufReader): Promise<OnnxExternalDataScan> {
  const tensors: OnnxExternalTensor[] = [];
  let sawGraph = false;
  // ModelProto: graph = 7, training_info = 20 (TrainingInfoProto: initialization = 1, algorithm = 2), functions = 25 (FunctionProto: node = 7).
  for await (const field of reader.fields()) {
    if (field.wireType !== 2) continue;
    if (field.number === 7) {
      sawGraph = true;
      await graph(reader, field, tensors, 0);
    } else if (field.number === 20) {
      for await (const part of reader.fields(field.start!, field.end!)) if ((part.number === 1 || part.number === 2) && part.wireType === 2) await graph(reader, part, tensors, 1);
    } else if (field.number === 25) {
      for await (const part of reader.fields(field.start!, field.end!)) if (part.number === 7 && part.wireType === 2) await node(reader, part, tensors, 1);
    }
  }
  if (!sawGraph) throw new OnnxFormatError('it has no graph (ModelProto.graph)');
  return { tensors, bytesRead: reader.bytesRead, size: reader.size };
}

/**
 * Resolves an external-data `location` (relative to the folder of the `.onnx` file, per the
 * ONNX spec) to a `/`-separated path inside the model's folder, or says why it is refused:
 * empty, a NUL character, absolute (`/`, `\\`, `C:`, `~`), outside the folder (`..` past its
 * top), or the folder itself. Reads nothing.
 * @param onnxRelative the `.onnx` file's path inside the model folder (`onnx/model.onnx`, `model.onnx`)
 * @param location the tensor's `location`, as {@link readOnnxExternalData} reports it
 * @returns `{ inside }`, the data file's path inside the folder, or `{ refused }`, a phrase (`'an absolute location'`)
 */
export function resolveOnnxLocation(onnxRelative: string, location: string): { inside: string } | { refused: string } {
  if (location === '') return { refused: 'an empty location' };
  if (location.includes('\0')) return { refused: 'a location with a NUL character' };
  const parts = location.split(/[\\/]+/);
  if (location.startsWith('/') || location.startsWith('\\') || /^[A-Za-z]:/.test(location) || location.startsWith('~')) return { refused: 'an absolute location' };
  const base = path.posix
    .dirname(onnxRelative)
    .split('/')
    .filter((part) => part !== '.' && part !== '');
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (base.length === 0) return { refused: 'a location outside the model folder' };
      base.pop();
    } else base.push(part);
  }
  if (base.length === 0) return { refused: 'a location that names the model folder itself' };
  return { inside: base.join('/') };
}
