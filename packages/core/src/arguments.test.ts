// Unit tests of argument checks: checkOptions' messages for each kind, and guardMethods,
// which types whatever a public method throws but lets aborts through.
import { describe, expect, it } from '@jest/globals';
import { checkOptions, guardMethods, typedError } from './arguments.js';
import { InvalidOptionError, ModelNotFoundError, ModelStoreError } from './errors.js';

const refusal = (run: () => unknown): InvalidOptionError => {
  try {
    run();
  } catch (error) {
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    return error as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
};

interface Options {
  to?: unknown;
  count?: unknown;
  overwrite?: unknown;
  onProgress?: unknown;
  files?: unknown;
  signal?: unknown;
  now?: unknown;
  extra?: unknown;
}
const kinds = { to: 'string', count: 'number', overwrite: 'boolean', onProgress: 'function', files: 'string[]', signal: 'signal', now: 'date', extra: 'object' } as const;

describe('checkOptions', () => {
  it('gives {} for undefined options when nothing is required, and returns the options object itself', () => {
    expect(checkOptions<Options>('download', undefined, kinds)).toEqual({});
    const options = { to: 'x', count: 2, overwrite: false, files: [], signal: new AbortController().signal, now: new Date(), extra: {} };
    expect(checkOptions<Options>('download', options, kinds)).toBe(options);
  });

  it('refuses options that are not an object, saying what is required', () => {
    expect(refusal(() => checkOptions<Options>('download', 'x' as unknown as Options, kinds)).message).toBe('download: options must be an object, got string "x"');
    const missing = refusal(() => checkOptions<Options>('download', undefined, kinds, ['to']));
    expect(missing.option).toBe('options');
    expect(missing.message).toMatch(/^download: options must be an object with to, got undefined/);
    expect(refusal(() => checkOptions<Options>('download', null as unknown as Options, kinds)).message).toBe('download: options must be an object, got null');
    expect(refusal(() => checkOptions<Options>('download', [] as unknown as Options, kinds)).message).toBe('download: options must be an object, got an array');
  });

  it('names a missing required option and its kind', () => {
    const error = refusal(() => checkOptions<Options>('download', {}, kinds, ['to']));
    expect(error.option).toBe('to');
    expect(error.message).toBe('download: to is required (a string)');
    expect(refusal(() => checkOptions<Options>('upload', { to: 'x' }, kinds, ['extra'])).message).toBe('upload: extra is required (an object)');
  });

  it('names the option, the kind expected and the value given, for each kind', () => {
    const cases: [keyof Options, unknown, string][] = [
      ['to', 5, 'to must be a string, got number "5"'],
      ['count', '5', 'count must be a number, got string "5"'],
      ['overwrite', 'yes', 'overwrite must be true or false, got string "yes"'],
      ['onProgress', {}, 'onProgress must be a function, got an object'],
      ['files', ['a', 1], 'files must be an array of strings, got an array'],
      ['files', 'a', 'files must be an array of strings, got string "a"'],
      ['signal', { aborted: false }, 'signal must be an AbortSignal, got an object'],
      ['now', new Date(Number.NaN), 'now must be a valid Date, got an object'],
      ['now', '2024-01-01', 'now must be a valid Date, got string "2024-01-01"'],
      ['extra', [1], 'extra must be an object, got an array'],
      ['extra', null, 'extra must be an object, got null'],
    ];
    for (const [key, value, message] of cases) {
      const error = refusal(() => checkOptions<Options>('method', { [key]: value }, kinds));
      expect([error.option, error.message]).toEqual([key, `method: ${message}`]);
    }
  });

  it('shortens a long value in the message', () => {
    const error = refusal(() => checkOptions<Options>('method', { count: 'x'.repeat(500) }, kinds));
    expect(error.message.length).toBeLessThan(100);
  });

  it('accepts an object that behaves as an AbortSignal and ignores keys it does not list', () => {
    const signalLike = { aborted: false, addEventListener: () => undefined };
    expect(checkOptions<Options>('method', { signal: signalLike, unknown: 1 } as Options, kinds).signal).toBe(signalLike);
  });
});

describe('typedError', () => {
  it('passes typed errors and aborts through, and wraps anything else naming the method and errno', () => {
    const typed = new ModelNotFoundError('d', 'm');
    expect(typedError(typed, 'ModelStore.load')).toBe(typed);
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    expect(typedError(timeout, 'ModelStore.load')).toBe(timeout);
    const errno = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const wrapped = typedError(errno, 'ModelStore.load') as ModelStoreError;
    expect(ModelStoreError.isInstance(wrapped)).toBe(true);
    expect(wrapped.code).toBe('MODELSTORE_ERROR');
    expect(wrapped.message).toBe('ModelStore.load failed (EACCES): EACCES: permission denied');
    expect(wrapped.cause).toBe(errno);
    expect((typedError('a string', 'X.y') as Error).message).toBe('X.y failed: a string');
  });
});

describe('guardMethods', () => {
  class Thing {
    value = 42;
    async throwsTypeError(): Promise<never> {
      // A bug deep inside: reading a property of undefined.
      return (undefined as unknown as { x: { y: never } }).x.y;
    }
    async throwsAbort(): Promise<never> {
      const controller = new AbortController();
      controller.abort();
      throw controller.signal.reason;
    }
    async throwsTyped(): Promise<never> {
      throw new ModelNotFoundError('d', 'm');
    }
    async returnsThis(): Promise<number> {
      return this.value;
    }
    syncThrow(): never {
      throw new RangeError('synchronous');
    }
  }
  guardMethods(Thing.prototype, 'Thing', ['throwsTypeError', 'throwsAbort', 'throwsTyped', 'returnsThis', 'syncThrow']);

  it('wraps a thrown TypeError in a ModelStoreError that keeps it as cause', async () => {
    const error = await new Thing().throwsTypeError().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelStoreError);
    expect((error as ModelStoreError).message).toMatch(/^Thing\.throwsTypeError failed: /);
    expect((error as ModelStoreError).cause).toBeInstanceOf(TypeError);
  });

  it('passes an AbortError through unchanged, and typed errors too', async () => {
    const abort = await new Thing().throwsAbort().catch((caught: unknown) => caught);
    expect((abort as Error).name).toBe('AbortError');
    expect(ModelStoreError.isInstance(abort)).toBe(false);
    const typed = await new Thing().throwsTyped().catch((caught: unknown) => caught);
    expect(typed).toBeInstanceOf(ModelNotFoundError);
  });

  it('keeps this, the method name, and turns a synchronous throw into a typed rejection', async () => {
    const thing = new Thing();
    expect(await thing.returnsThis()).toBe(42);
    expect(Thing.prototype.returnsThis.name).toBe('returnsThis');
    const rejected = (thing.syncThrow as () => Promise<never>)();
    expect(rejected).toBeInstanceOf(Promise);
    const error = await rejected.catch((caught: unknown) => caught);
    expect((error as ModelStoreError).message).toBe('Thing.syncThrow failed: synchronous');
  });

  it('refuses to guard a name that is not a method', () => {
    expect(() => guardMethods(Thing.prototype, 'Thing', ['value'])).toThrow('Thing.value is not a method');
  });
});
