/**
 * Checks of the arguments of the public methods, before any I/O, so that a wrong type
 * is an `InvalidOptionError` naming the method and the argument — never a `TypeError`
 * from deep inside — and the catch-all that keeps any other error from escaping untyped.
 */
import { InvalidOptionError, ModelStoreError } from './errors.js';

type Kind = 'string' | 'function' | 'boolean' | 'number' | 'object' | 'string[]' | 'signal' | 'date';

const describeValue = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(String(value)).slice(0, 40)}`);

function matches(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'signal':
      return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' && typeof (value as AbortSignal).addEventListener === 'function';
    case 'date':
      return value instanceof Date && !Number.isNaN(value.getTime());
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === kind;
  }
}

const kindName: Record<Kind, string> = {
  string: 'a string',
  function: 'a function',
  boolean: 'true or false',
  number: 'a number',
  object: 'an object',
  'string[]': 'an array of strings',
  signal: 'an AbortSignal',
  date: 'a valid Date',
};

/**
 * `options` as an object (undefined → `{}`), each listed key either absent or of its kind.
 * @throws InvalidOptionError naming `method` and the key
 */
export function checkOptions<T extends object>(method: string, options: T | undefined, kinds: Partial<Record<keyof T & string, Kind>>, required: (keyof T & string)[] = []): T {
  if (options === undefined && required.length === 0) return {} as T;
  if (!matches(options, 'object')) throw new InvalidOptionError('options', `${method}: options must be an object${required.length ? ` with ${required.join(', ')}` : ''}, got ${describeValue(options)}`);
  for (const key of required) {
    if ((options as Record<string, unknown>)[key] === undefined) throw new InvalidOptionError(key, `${method}: ${key} is required (${kindName[kinds[key] ?? 'object']})`);
  }
  for (const [key, kind] of Object.entries(kinds) as [string, Kind][]) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && !matches(value, kind)) throw new InvalidOptionError(key, `${method}: ${key} must be ${kindName[kind]}, got ${describeValue(value)}`);
  }
  return options as T;
}

/** Whether `error` is an abort (the signal's reason, or an `AbortError`), which is passed on as it is. */
function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ((error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError');
}

/**
 * The error a public method throws: typed errors and aborts as they are; anything else (a
 * bug, or a failure of code this library calls, e.g. an adapter) wrapped in a
 * `ModelStoreError` that keeps it as `cause`.
 */
export function typedError(error: unknown, method: string): unknown {
  if (ModelStoreError.isInstance(error) || isAbort(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const errno = typeof (error as { code?: unknown })?.code === 'string' ? ` (${(error as { code: string }).code})` : '';
  return new ModelStoreError(`${method} failed${errno}: ${message}`, 'MODELSTORE_ERROR', { cause: error });
}

/** Wraps the listed async methods of `prototype` so that what they throw is typed (see `typedError`). */
export function guardMethods(prototype: object, className: string, names: string[]): void {
  for (const name of names) {
    const original = (prototype as Record<string, unknown>)[name];
    if (typeof original !== 'function') throw new Error(`${className}.${name} is not a method`);
    Object.defineProperty(prototype, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: {
        async [name](this: unknown, ...args: unknown[]) {
          try {
            return await (original as (...values: unknown[]) => Promise<unknown>).apply(this, args);
          } catch (error) {
            throw typedError(error, `${className}.${name}`);
          }
        },
      }[name],
    });
  }
}
