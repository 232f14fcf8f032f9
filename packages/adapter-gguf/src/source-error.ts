import { ModelStoreError, SourceFileError } from '@modelstore/core';

const errnoReasons: Record<string, [SourceFileError['reason'], string]> = {
  ENOENT: ['missing', 'it does not exist'],
  ENOTDIR: ['missing', 'it does not exist (a folder on its path is a file)'],
  ELOOP: ['link-cycle', 'it is a link that leads into a loop of links'],
  EACCES: ['unreadable', 'permission denied'],
  EPERM: ['unreadable', 'the operation is not permitted'],
  EISDIR: ['special', 'it is a folder, not a .gguf file'],
  ENOTFILE: ['special', 'it is not a regular file (a FIFO, socket or device)'],
};

/** A failed file system call on `file` as a `SourceFileError` naming it (modelstore errors pass through). */
export function sourceError(file: string, error: unknown, context = ''): ModelStoreError {
  if (ModelStoreError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const [reason, why] = (typeof code === 'string' && errnoReasons[code]) || ['unreadable', `it could not be read (${typeof code === 'string' ? code : String((error as Error)?.message ?? error)})`];
  return new SourceFileError(file, reason, `Cannot store ${JSON.stringify(file)} in the model: ${context}${why}. Nothing was uploaded.`, { cause: error });
}
