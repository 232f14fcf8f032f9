import { describe, expect, it } from '@jest/globals';
import { packArchive } from '../src/archive.js';
import { bodyToReadable } from '../src/body.js';
import { InvalidArgumentError, type ModelStoreError } from '../src/errors.js';

/** What a call throws. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('what callers get wrong in core is an InvalidArgumentError, never a TypeError or a generic ModelStoreError', () => {
  it('a body of another type, and chunks that are not bytes', async () => {
    const error = thrown(() => bodyToReadable(42 as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('body');
    async function* numbers() {
      yield 1 as unknown as Uint8Array;
    }
    const chunks = bodyToReadable(numbers());
    const failure = await new Promise<unknown>((resolve) => {
      chunks.on('error', resolve);
      chunks.resume();
    });
    expect(failure).toBeInstanceOf(InvalidArgumentError);
    expect((failure as Error).message).toBe('Body chunks must be Uint8Array or string');
  });

  it("two archive entries on one path, or a file on a folder's path", () => {
    const options = { mtime: new Date(0), compressionLevel: 1 };
    const twice = thrown(() =>
      packArchive(
        [
          { path: 'a.bin', source: new Uint8Array(1) },
          { path: 'a.bin', source: new Uint8Array(2) },
        ],
        options,
      ),
    );
    expect(twice).toBeInstanceOf(InvalidArgumentError);
    expect((twice as ModelStoreError).code).toBe('INVALID_ARGUMENT');
    expect((twice as Error).message).toBe('Two entries would be stored at "a.bin" in the archive: rename one of them');
    const fileAndFolder = thrown(() =>
      packArchive(
        [
          { path: 'a', source: new Uint8Array(1) },
          { path: 'a/b', source: new Uint8Array(1) },
        ],
        options,
      ),
    );
    expect(fileAndFolder).toBeInstanceOf(InvalidArgumentError);
  });
});
