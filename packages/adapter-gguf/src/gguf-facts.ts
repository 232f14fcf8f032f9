import { llamaFileTypes } from './ggml-types.js';
import type { GgufHeader, GgufValue } from './gguf-header.js';

/**
 * What a GGUF model's headers say, as `GgufAdapter` records it in the metadata's
 * `model.parameters` (snake_case keys, JSON values; Python modelstore keeps
 * `model.parameters` as it is and returns it from `get_model_info`). Every fact comes
 * from the headers, never from the tensor data. A fact the header does not state is `null`.
 */
export interface GgufFacts {
  /** `general.architecture`: `llama`, `qwen2`, `gemma3`, ... */
  architecture: string | null;
  /** `general.name`. */
  name: string | null;
  /** Sum of the element counts of every tensor of every part (weights, norms and embeddings alike). */
  parameter_count: number;
  /** `<architecture>.context_length`: the context the model was trained with, in tokens. */
  context_length: number | null;
  /** `<architecture>.embedding_length`. */
  embedding_length: number | null;
  /** `<architecture>.block_count`: the number of layers. */
  block_count: number | null;
  /** `general.file_type` by llama.cpp's name (`F16`, `Q4_K_M`, ...; `FILE_TYPE_<id>` for an unknown id). */
  file_type: string | null;
  /** How many tensors have each GGML type, e.g. `{ "Q4_K": 193, "F32": 65 }`. */
  tensor_types: Record<string, number>;
  /** `tokenizer.ggml.model`: `llama` (SentencePiece), `gpt2` (byte-level BPE), `bert`, ... */
  tokenizer_model: string | null;
  /** Length of `tokenizer.ggml.tokens`. */
  vocab_size: number | null;
  /** Whether the header holds a chat template (`tokenizer.chat_template`, or named ones `tokenizer.chat_template.<name>`). */
  chat_template: boolean;
  /** GGUF format version of the (first) file. */
  gguf_version: number;
  /**
   * Byte order of the files' numbers: `little` (what llama.cpp writes and reads) or `big`
   * (the variant gguf-py writes with `--bigendian`, for big-endian machines). A big-endian
   * model is stored, but `GgufAdapter.load` refuses it on a little-endian machine.
   */
  byte_order: 'little' | 'big';
  /** Number of tensors, over every part. */
  tensor_count: number;
  /** The model's files at the top of the archive, first part first (one for an unsplit model). */
  files: string[];
  /** Bytes of the files, over every part. */
  size: number;
}

function text(value: GgufValue | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function integer(value: GgufValue | undefined): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/** The facts of a model whose parts' headers are `headers` (first part first) and file names `files`. */
export function ggufFacts(headers: readonly GgufHeader[], files: readonly string[]): GgufFacts {
  const metadata = headers[0]!.metadata;
  const architecture = text(metadata['general.architecture']);
  const key = (name: string) => (architecture === null ? undefined : metadata[`${architecture}.${name}`]);
  const fileType = integer(metadata['general.file_type']);
  const tokens = metadata['tokenizer.ggml.tokens'];
  const tensorTypes: Record<string, number> = {};
  let parameters = 0;
  let tensorCount = 0;
  for (const header of headers) {
    for (const tensor of header.tensors) {
      parameters += tensor.elements;
      tensorTypes[tensor.type] = (tensorTypes[tensor.type] ?? 0) + 1;
    }
    tensorCount += header.tensors.length;
  }
  return {
    architecture,
    name: text(metadata['general.name']),
    parameter_count: parameters,
    context_length: integer(key('context_length')),
    embedding_length: integer(key('embedding_length')),
    block_count: integer(key('block_count')),
    file_type: fileType === null ? null : (llamaFileTypes[fileType] ?? `FILE_TYPE_${fileType}`),
    tensor_types: tensorTypes,
    tokenizer_model: text(metadata['tokenizer.ggml.model']),
    vocab_size: typeof tokens === 'object' && tokens !== null && !(typeof tokens === 'bigint') ? tokens.length : null,
    chat_template: typeof metadata['tokenizer.chat_template'] === 'string' || Object.keys(metadata).some((name) => name.startsWith('tokenizer.chat_template.')),
    gguf_version: headers[0]!.version,
    byte_order: headers[0]!.littleEndian ? 'little' : 'big',
    tensor_count: tensorCount,
    files: [...files],
    size: headers.reduce((total, header) => total + header.fileSize, 0),
  };
}
