import { describe, expect, it } from '@jest/globals';
import type { ModelMetadata } from '@modelstore/core';
import { adapterSummary } from '../src/adapter-summaries.js';

function metadata(parameters: Record<string, unknown>): ModelMetadata {
  return { model: { domain: 'chat', model_id: 'm1', model_type: { library: 'gguf', type: 'llama' }, parameters }, storage: { type: 'file_system' }, modelstore: '0.0.0' } as ModelMetadata;
}

describe('modelstore info: the line for a GGUF model', () => {
  it('architecture, parameters, file type, context, tokenizer, chat template and files', () => {
    const summary = adapterSummary(
      metadata({
        architecture: 'llama',
        parameter_count: 112192,
        file_type: 'Q4_K_M',
        context_length: 4096,
        tokenizer_model: 'llama',
        vocab_size: 32000,
        chat_template: true,
        files: ['a-00001-of-00002.gguf', 'a-00002-of-00002.gguf'],
        size: 3 * 1024 * 1024,
      }),
    );
    expect(summary.lines).toHaveLength(1);
    expect(summary.lines[0]![0]).toBe('gguf');
    expect(summary.lines[0]![1]).toMatch(/^llama, 112,192 parameters, file type Q4_K_M, context 4,096 tokens, tokenizer llama \(32,000 tokens\), chat template, 2 files \(split\), 3(\.0)? MiB$/);
    expect(summary.hide).toEqual([]);
  });

  it('says what the header did not state', () => {
    const [[, line]] = adapterSummary(metadata({ architecture: null, parameter_count: 6, file_type: null, context_length: null, tokenizer_model: null, chat_template: false, files: ['model.gguf'], size: 96 })).lines as [[string, string]];
    expect(line).toMatch(/^unknown architecture, 6 parameters, no chat template, 1 file, 96 B$/);
  });
});
