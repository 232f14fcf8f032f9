import { open } from 'node:fs/promises';
import { maxSafetensorsHeaderSize, parseStrictJsonObject, SafetensorsFormatError } from './header.js';

/**
 * A sharded set's index (`model.safetensors.index.json`, as transformers'
 * `save_pretrained(..., max_shard_size=...)` writes it): which shard holds each tensor.
 */
export interface SafetensorsIndex {
  /** The index's `metadata` object (transformers writes `{"total_size": <bytes of tensor data>}`), or `null` when absent. */
  metadata: Record<string, unknown> | null;
  /** The index's `weight_map`: tensor name → the shard's file name (a plain name, beside the index). */
  weightMap: Record<string, string>;
}

/** The largest index file read: 100,000,000 bytes, the limit a header has too. */
export const maxSafetensorsIndexSize = maxSafetensorsHeaderSize;

function isPlainShardName(name: string): boolean {
  return name.endsWith('.safetensors') && name.length > '.safetensors'.length && !/[/\\\0]/.test(name) && name !== '.' && name !== '..';
}

/**
 * Reads and checks a `*.safetensors.index.json` file: at most {@link maxSafetensorsIndexSize}
 * bytes of UTF-8 JSON, an object with a `weight_map` object whose values are plain file
 * names ending in `.safetensors` (no folder, no `..`), an optional `metadata` object, and no
 * key twice in any object.
 * Format: transformers' sharded checkpoints (`SAFE_WEIGHTS_INDEX_NAME` in
 * https://github.com/huggingface/transformers, `modeling_utils.py`).
 *
 * @throws SafetensorsFormatError (an `IntegrityError`) for an index that breaks these rules;
 *   the file system's errors as they are.
 */
export async function readSafetensorsIndex(file: string): Promise<SafetensorsIndex> {
  const handle = await open(file, 'r');
  let bytes: Buffer;
  try {
    const { size } = await handle.stat();
    if (size > maxSafetensorsIndexSize) throw new SafetensorsFormatError(file, 'header-too-large', `the index is ${size} bytes; at most ${maxSafetensorsIndexSize} bytes are read`);
    bytes = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    bytes = bytes.subarray(0, done);
  } finally {
    await handle.close();
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new SafetensorsFormatError(file, 'not-utf8', 'the index is not valid UTF-8', { cause: error });
  }
  const json = parseStrictJsonObject(file, text, 'index');
  const { weight_map: weightMap, metadata } = json;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) throw new SafetensorsFormatError(file, 'bad-entry', 'the index has no "weight_map" object (tensor name → shard file)');
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || !isPlainShardName(shard))
      throw new SafetensorsFormatError(file, 'bad-entry', `the index maps tensor ${JSON.stringify(tensor)} to ${JSON.stringify(shard)}: a plain file name ending in .safetensors, beside the index, is expected`);
  }
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) throw new SafetensorsFormatError(file, 'bad-entry', 'the index\'s "metadata" is not an object');
  return {
    metadata: (metadata as Record<string, unknown> | null | undefined) ?? null,
    weightMap: Object.assign(Object.create(null) as Record<string, string>, weightMap as Record<string, string>),
  };
}
