import type { ModelMetadata } from '@modelstore/core';
import { formatBytes } from './words.js';

/** What `modelstore info` adds for a model of a known adapter's library: summary lines, and `model.parameters` keys too long to print as one line. */
export interface AdapterSummary {
  /** `[label, value]` lines printed with the model's other facts. */
  lines: Array<[string, string]>;
  /** Keys of `model.parameters` left out of the `parameters:` list (each replaced by a short line saying how many entries `--json` prints). */
  hide: string[];
}

const count = (value: unknown) => (typeof value === 'number' ? value.toLocaleString('en-US') : '?');

/** `@modelstore/adapter-safetensors`: tensors, parameters, files and dtypes on one line; the tensor list is left to `--json`. */
function safetensors(parameters: Record<string, unknown>): AdapterSummary {
  const dtypes = Object.entries((parameters.dtypes as Record<string, { tensors?: unknown; parameters?: unknown }> | undefined) ?? {})
    .map(([dtype, share]) => `${dtype} ${count(share?.parameters)}`)
    .join(', ');
  const files = typeof parameters.file_count === 'number' ? `${parameters.file_count} file${parameters.file_count === 1 ? '' : 's'}${parameters.sharded ? ' (sharded)' : ''}` : '';
  const line = [`${count(parameters.tensor_count)} tensors`, `${count(parameters.total_parameters)} parameters`, files, dtypes && `dtypes ${dtypes}`].filter(Boolean).join(', ');
  return { lines: [['safetensors', line]], hide: ['tensors', 'dtypes'] };
}

/** `@modelstore/adapter-transformers`: the architecture and task on one line, then one line per ONNX variant (dtype, file, bytes with its external data). */
function transformersJs(parameters: Record<string, unknown>): AdapterSummary {
  const architectures = Array.isArray(parameters.architectures) ? parameters.architectures.filter((name) => typeof name === 'string') : [];
  const task = typeof parameters.task === 'string' ? `task ${parameters.task}${parameters.task_source === 'architectures' ? ' (inferred from architectures)' : ''}` : 'no task recorded';
  const files = typeof parameters.files === 'number' ? `${parameters.files} file${parameters.files === 1 ? '' : 's'}${typeof parameters.size === 'number' ? `, ${formatBytes(parameters.size)}` : ''}` : '';
  const model = `${typeof parameters.model_type === 'string' ? parameters.model_type : '?'}${architectures.length ? ` (${architectures.join(', ')})` : ''}`;
  const lines: Array<[string, string]> = [['transformers.js', [model, task, files].filter(Boolean).join(', ')]];
  const variants = Array.isArray(parameters.onnx) ? (parameters.onnx as Array<Record<string, unknown>>) : [];
  for (const variant of variants) {
    const external = Array.isArray(variant?.external_data) ? (variant.external_data as Array<{ file?: unknown }>).map((data) => String(data?.file)) : [];
    const size = typeof variant?.total_size === 'number' ? formatBytes(variant.total_size) : '?';
    lines.push(['onnx', `${String(variant?.dtype ?? '?')} ${String(variant?.file ?? '?')} ${size}${external.length ? ` (with ${external.join(', ')})` : ''}`]);
  }
  return { lines, hide: ['onnx'] };
}

/** `@modelstore/adapter-gguf`: architecture, parameters, file type, context, tokenizer, chat template and files on one line. */
function gguf(parameters: Record<string, unknown>): AdapterSummary {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const files = Array.isArray(parameters.files) ? parameters.files.length : undefined;
  const tokenizer = text(parameters.tokenizer_model);
  const line = [
    text(parameters.architecture) ?? 'unknown architecture',
    `${count(parameters.parameter_count)} parameters`,
    text(parameters.file_type) && `file type ${text(parameters.file_type)}`,
    typeof parameters.context_length === 'number' && `context ${count(parameters.context_length)} tokens`,
    tokenizer && `tokenizer ${tokenizer}${typeof parameters.vocab_size === 'number' ? ` (${count(parameters.vocab_size)} tokens)` : ''}`,
    parameters.chat_template === true ? 'chat template' : 'no chat template',
    files !== undefined && `${files} file${files === 1 ? '' : 's'}${files > 1 ? ' (split)' : ''}${typeof parameters.size === 'number' ? `, ${formatBytes(parameters.size)}` : ''}`,
  ]
    .filter(Boolean)
    .join(', ');
  return { lines: [['gguf', line]], hide: [] };
}

/** The summary of `metadata`'s library, or none. */
export function adapterSummary(metadata: ModelMetadata): AdapterSummary {
  const parameters = metadata.model.parameters;
  if (!parameters || typeof parameters !== 'object') return { lines: [], hide: [] };
  if (metadata.model.model_type?.library === 'safetensors') return safetensors(parameters as Record<string, unknown>);
  if (metadata.model.model_type?.library === 'transformers.js') return transformersJs(parameters as Record<string, unknown>);
  if (metadata.model.model_type?.library === 'gguf') return gguf(parameters as Record<string, unknown>);
  return { lines: [], hide: [] };
}
