import { describe, expect, it } from '@jest/globals';
import { gguf } from '@huggingface/gguf';
import { execFileSync } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { ggmlTypes, type GgufArray, ggufFacts, llamaFileTypes, maxKeptArrayLength, readGgufHeader } from '../src/index.js';
import { expected, model, testEnv } from './helpers.js';

/** @huggingface/gguf 0.4.6 on a local file through its `fetch` option, counting the bytes it asks for and gets. */
async function huggingFace(file: string) {
  const { size } = await stat(file);
  let bytes = 0;
  const handle = await open(file, 'r');
  const counting = (async (_url: string, init?: RequestInit) => {
    const [, start, end] = /bytes=(\d+)-(\d+)/.exec(String((init?.headers as Record<string, string> | undefined)?.Range ?? ''))!;
    const from = Number(start);
    const to = Math.min(Number(end), size - 1);
    const buffer = Buffer.alloc(Math.max(0, to - from + 1));
    await handle.read(buffer, 0, buffer.length, from);
    bytes += buffer.length;
    return new Response(buffer, { status: 206, headers: { 'content-range': `bytes ${from}-${to}/${size}` } });
  }) as typeof fetch;
  try {
    const parsed = await gguf('http://127.0.0.1/model.gguf', { fetch: counting, computeParametersCount: true });
    return { parsed, bytes };
  } finally {
    await handle.close();
  }
}

describe('readGgufHeader', () => {
  it('reads what the gguf Python package wrote: facts, tensor infos, and only the header (64 KiB of a 447 KiB file)', async () => {
    const want = expected();
    const header = await readGgufHeader(model('tiny-llama.gguf'));
    expect(header.version).toBe(want.gguf_version);
    expect(header.metadata['general.architecture']).toBe('llama');
    expect(header.metadata['tokenizer.chat_template']).toBe(want.chat_template);
    expect((header.metadata['tokenizer.ggml.tokens'] as GgufArray).length).toBe(want.vocab_size);
    expect(header.tensors).toHaveLength(want.tensor_count);
    expect(header.tensors.reduce((sum, tensor) => sum + tensor.elements, 0)).toBe(want.parameter_count);
    expect(header.bytesRead).toBe(64 * 1024);
    expect(header.fileSize).toBe((await stat(model('tiny-llama.gguf'))).size);
  });

  it('agrees with @huggingface/gguf on every scalar, every array length and every tensor info', async () => {
    for (const file of [model('tiny-llama.gguf'), model('big-header.gguf'), ...expected().split_files.map(model)]) {
      const ours = await readGgufHeader(file);
      const { parsed } = await huggingFace(file);
      const theirs = parsed.metadata as unknown as Record<string, unknown>;
      const keys = Object.keys(theirs).filter((key) => key !== 'version' && key !== 'tensor_count' && key !== 'kv_count');
      expect(Object.keys(ours.metadata)).toEqual(keys);
      for (const key of keys) {
        const value = ours.metadata[key];
        if (typeof value === 'object' && value !== null && !(typeof value === 'bigint')) {
          expect([key, value.length]).toEqual([key, (theirs[key] as unknown[]).length]);
          if (value.values) expect([key, value.values]).toEqual([key, theirs[key]]);
        } else if (typeof value === 'number' && !Number.isInteger(value)) {
          expect(value).toBeCloseTo(theirs[key] as number, 6);
        } else {
          expect([key, typeof value === 'bigint' ? value : value]).toEqual([key, typeof theirs[key] === 'bigint' ? exactNumber(theirs[key] as bigint) : theirs[key]]);
        }
      }
      expect(ours.tensors.map((t) => [t.name, t.shape, t.offset])).toEqual(parsed.tensorInfos.map((t) => [t.name, t.shape.map(Number).slice(0, t.n_dims), Number(t.offset)]));
      expect(ours.dataOffset).toBe(Number(parsed.tensorDataOffset));
    }
  });

  it('reads less than @huggingface/gguf does: a 151,936-token header costs at most its own size plus 64 KiB', async () => {
    const file = model('big-header.gguf');
    const ours = await readGgufHeader(file);
    const { parsed, bytes } = await huggingFace(file);
    const headerBytes = Number(parsed.tensorDataOffset);
    expect(ours.dataOffset).toBe(headerBytes);
    // Arrays of fixed-size elements (token types, scores) are skipped, not read: at most the header plus one 64 KiB read.
    expect(ours.bytesRead).toBeLessThan(headerBytes + 64 * 1024);
    // @huggingface/gguf reads 2 MB ranges until 500 kB past what it parses: more than the header.
    expect(bytes).toBeGreaterThan(ours.bytesRead);
    if (process.env.MODELSTORE_TEST_VERBOSE) process.stderr.write(`header ${headerBytes} B: readGgufHeader read ${ours.bytesRead} B, @huggingface/gguf ${bytes} B, file ${ours.fileSize} B\n`);
    // Arrays past maxKeptArrayLength keep their length, not their 151,936 strings.
    const tokens = ours.metadata['tokenizer.ggml.tokens'] as GgufArray;
    expect(tokens.length).toBe(151_936);
    expect(tokens.values).toBeUndefined();
    expect(maxKeptArrayLength).toBeLessThan(tokens.length);
    expect(parsed.parameterCount).toBe(ours.tensors[0]!.elements);
  });

  it('knows the GGML tensor types and llama.cpp file types the gguf Python package knows, with the same block sizes', () => {
    const script = [
      'import gguf, json',
      'types = {int(t): [t.name, *gguf.GGML_QUANT_SIZES[t]] for t in gguf.GGMLQuantizationType}',
      'ftypes = {int(f): f.name.replace("MOSTLY_", "").replace("ALL_", "") for f in gguf.LlamaFileType}',
      'print(json.dumps({"types": types, "ftypes": ftypes}))',
    ].join('\n');
    const python = JSON.parse(execFileSync(testEnv().modelsPython, ['-c', script], { encoding: 'utf8' })) as { types: Record<string, [string, number, number]>; ftypes: Record<string, string> };
    const ours = Object.fromEntries(Object.entries(ggmlTypes).map(([id, type]) => [id, [type.name, type.blockSize, type.typeSize]]));
    expect(ours).toEqual(python.types);
    expect(llamaFileTypes).toEqual(python.ftypes);
  });

  it('reads the big-endian variant the gguf package writes: the same keys, values and tensor infos', async () => {
    const little = await readGgufHeader(model('tiny-llama.gguf'));
    const big = await readGgufHeader(model('tiny-llama-be.gguf'));
    expect(big.littleEndian).toBe(false);
    expect(little.littleEndian).toBe(true);
    expect(big.metadata).toEqual(little.metadata);
    expect(big.tensors).toEqual(little.tensors);
    expect(ggufFacts([big], ['x.gguf'])).toEqual({ ...ggufFacts([little], ['x.gguf']), byte_order: 'big' });
    expect(ggufFacts([little], ['x.gguf']).byte_order).toBe('little');
  });

  it('applies its limits: tensors, one string, all strings', async () => {
    const file = model('tiny-llama.gguf');
    await expect(readGgufHeader(file, { maxTensorCount: 20 })).rejects.toThrow(/the header declares 21 tensors, over the limit of 20 \(at byte 8\)/);
    await expect(readGgufHeader(file, { maxStringBytes: 100 })).rejects.toThrow(/tokenizer.chat_template is 1\d\d bytes long, over the 100-byte limit/);
    await expect(readGgufHeader(file, { maxTotalStringBytes: 1000 })).rejects.toThrow(/the header's strings exceed 1000 bytes in all/);
  });

  it('reads a header from bytes in memory, reporting the header length as bytes read', async () => {
    const { readFileSync } = await import('node:fs');
    const header = await readGgufHeader(readFileSync(model('tiny-llama.gguf')));
    expect(header.tensors).toHaveLength(expected().tensor_count);
    expect(header.bytesRead).toBeLessThanOrEqual(header.dataOffset);
    expect(header.bytesRead).toBeGreaterThan(header.dataOffset - header.alignment);
  });
});

function exactNumber(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
