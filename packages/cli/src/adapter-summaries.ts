import type { ModelMetadata } from '@modelstore/core';

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

/** The summary of `metadata`'s library, or none. */
export function adapterSummary(metadata: ModelMetadata): AdapterSummary {
  const parameters = metadata.model.parameters;
  if (!parameters || typeof parameters !== 'object') return { lines: [], hide: [] };
  if (metadata.model.model_type?.library === 'safetensors') return safetensors(parameters as Record<string, unknown>);
  return { lines: [], hide: [] };
}
