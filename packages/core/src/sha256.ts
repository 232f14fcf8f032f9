/**
 * sha256 of streams, on worker threads when the stream is large.
 *
 * Node's `createHash('sha256')` runs at about 1.8 GB/s here (OpenSSL with SHA-NI), but on
 * the thread that calls `update`: an upload hashes every byte twice (the file and the
 * archive), which kept a 1 GiB upload on one core. A large stream is therefore hashed by
 * one of a few worker threads shared by the process: its chunks are copied into a small
 * ring of shared-memory slots (8 × 256 KiB per stream; a copy runs at about 16 GB/s), the
 * worker hashes each slot with the same OpenSSL sha256 and gives it back. Memory stays
 * bounded (a producer waits for a free slot), and the hashing runs beside the reading,
 * packing and writing on the other cores (one worker per core but one, at most 4).
 * Candidates measured (MiB/s on one core, 1 MiB chunks): Node crypto 1,808; hash-wasm
 * 4.13: 201; so the workers use Node's crypto.
 *
 * Streams smaller than {@link workerThreshold}, machines with one core, and
 * `MODELSTORE_HASH_THREADS=0` hash inline (a worker's start costs about 30 ms).
 */
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ModelStoreError } from './errors.js';

/** Streams of at least this many bytes (16 MiB) are hashed on a worker thread. */
export const workerThreshold = 16 * 1024 * 1024;
const slotSize = 256 * 1024;
const slotCount = 8;

/** A running sha256: `update` as bytes pass (await what it returns: the backpressure of a busy worker), then `digest` once. */
export interface Sha256 {
  /** Adds bytes; returns a promise when the caller must wait before the next update (no slot free), else `undefined`. */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** The sha256 of everything added, as 64 lowercase hex digits. Call once, after the last update. */
  digest(): Promise<string>;
  /** Drops the hash (a failed transfer); frees its worker slot. */
  abort(): void;
}

/**
 * A sha256 for a stream of about `expectedBytes` bytes: on a worker thread when that is
 * at least {@link workerThreshold} and the machine has more than one core, else inline.
 */
export function createSha256(expectedBytes = 0): Sha256 {
  if (expectedBytes >= workerThreshold && workerCount() > 0) {
    const worker = pool.pick();
    if (worker) return new WorkerSha256(worker);
  }
  return new InlineSha256();
}

class InlineSha256 implements Sha256 {
  readonly #hash: Hash = createHash('sha256');
  update(chunk: Uint8Array): undefined {
    this.#hash.update(chunk);
    return undefined;
  }
  async digest(): Promise<string> {
    return this.#hash.digest('hex');
  }
  abort(): void {}
}

let warnedConfiguration = false;

/** How many hash workers the process may start: one per core but one, at most 4 (none on one core); `MODELSTORE_HASH_THREADS` overrides (0 hashes inline). */
function workerCount(): number {
  const configured = process.env.MODELSTORE_HASH_THREADS;
  if (configured !== undefined && /^\d+$/.test(configured.trim())) return Math.min(Number(configured), 16);
  if (configured !== undefined && !warnedConfiguration) {
    warnedConfiguration = true;
    process.emitWarning(`MODELSTORE_HASH_THREADS=${JSON.stringify(configured)} is not a whole number of threads (0 hashes on the calling thread): the default is used`, { code: 'MODELSTORE_HASH_THREADS' });
  }
  // The calling thread keeps a core busy reading, packing and writing: one worker per
  // other core (on two cores, one worker hashing both of an upload's streams measured as
  // fast as two, with 10 MiB less memory).
  return Math.min(4, availableParallelism() - 1);
}

// The worker's code, evaluated: no file to resolve from a bundle or a test runner, and
// valid as a script or a module (\`--input-type=module\` reaches eval'd workers).
const workerSource = `
const { parentPort } = process.getBuiltinModule('node:worker_threads');
const { createHash } = process.getBuiltinModule('node:crypto');
const streams = new Map();
parentPort.on('message', (message) => {
  const stream = streams.get(message.id);
  switch (message.op) {
    case 'start':
      streams.set(message.id, { hash: createHash('sha256'), memory: message.memory, slotSize: message.slotSize });
      break;
    case 'update':
      stream.hash.update(new Uint8Array(stream.memory, message.slot * stream.slotSize, message.length));
      parentPort.postMessage({ op: 'free', id: message.id, slot: message.slot });
      break;
    case 'end':
      streams.delete(message.id);
      parentPort.postMessage({ op: 'digest', id: message.id, hex: stream.hash.digest('hex') });
      break;
    case 'abort':
      streams.delete(message.id);
      break;
  }
});
`;

interface WorkerStream {
  free(slot: number): void;
  done(hex: string): void;
  fail(error: Error): void;
}

/** One hash worker: its streams by id, referenced (keeping the process alive) only while it has some. */
class HashWorker {
  readonly streams = new Map<number, WorkerStream>();
  readonly #worker: Worker;
  #failed: Error | undefined;

  constructor() {
    this.#worker = new Worker(workerSource, { eval: true, name: 'modelstore sha256', execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
    this.#worker.unref();
    this.#worker.on('message', (message: { op: string; id: number; slot: number; hex: string }) => {
      const stream = this.streams.get(message.id);
      if (!stream) return;
      if (message.op === 'free') stream.free(message.slot);
      else if (message.op === 'digest') {
        this.release(message.id);
        stream.done(message.hex);
      }
    });
    const fail = (error: Error) => {
      this.#failed = new ModelStoreError(`The sha256 worker thread stopped (${error.message}): the transfer was not verified; try again`, 'MODELSTORE_ERROR', { cause: error });
      pool.remove(this);
      for (const [id, stream] of [...this.streams]) {
        this.release(id);
        stream.fail(this.#failed);
      }
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  get failed(): Error | undefined {
    return this.#failed;
  }

  post(message: unknown): void {
    this.#worker.postMessage(message);
  }

  add(id: number, stream: WorkerStream): void {
    if (this.streams.size === 0) this.#worker.ref();
    this.streams.set(id, stream);
  }

  release(id: number): void {
    if (this.streams.delete(id) && this.streams.size === 0) this.#worker.unref();
  }
}

/** The process's hash workers, started on first use; a new stream goes to the least busy. */
const pool = {
  workers: [] as HashWorker[],
  broken: false,
  pick(): HashWorker | undefined {
    if (this.broken) return undefined;
    let best = this.workers.find((worker) => worker.streams.size === 0);
    if (!best && this.workers.length < workerCount()) {
      try {
        best = new HashWorker();
        this.workers.push(best);
      } catch {
        // Worker threads unavailable (a restricted runtime): hash inline from now on.
        this.broken = true;
        return undefined;
      }
    }
    return best ?? this.workers.reduce((a, b) => (b.streams.size < a.streams.size ? b : a));
  },
  remove(worker: HashWorker) {
    this.workers = this.workers.filter((other) => other !== worker);
  },
};

let nextId = 1;

class WorkerSha256 implements Sha256 {
  readonly #worker: HashWorker;
  readonly #id = nextId++;
  readonly #memory = new SharedArrayBuffer(slotSize * slotCount);
  readonly #freeSlots: number[] = Array.from({ length: slotCount }, (_, slot) => slot);
  #waiting: (() => void) | undefined;
  #digest: Promise<string>;
  #settle!: { resolve(hex: string): void; reject(error: Error): void };
  #slot = -1;
  #filled = 0;
  #error: Error | undefined;

  constructor(worker: HashWorker) {
    this.#worker = worker;
    this.#digest = new Promise<string>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.#digest.catch(() => undefined);
    worker.add(this.#id, {
      free: (slot) => {
        this.#freeSlots.push(slot);
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting?.();
      },
      done: (hex) => this.#settle.resolve(hex),
      fail: (error) => {
        this.#error = error;
        this.#settle.reject(error);
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting?.();
      },
    });
    worker.post({ op: 'start', id: this.#id, memory: this.#memory, slotSize });
  }

  update(chunk: Uint8Array): Promise<void> | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#error) throw this.#error;
      if (this.#slot < 0) {
        const slot = this.#freeSlots.pop();
        if (slot === undefined) return this.#waitThenUpdate(chunk.subarray(offset));
        this.#slot = slot;
        this.#filled = 0;
      }
      const take = Math.min(slotSize - this.#filled, chunk.length - offset);
      new Uint8Array(this.#memory, this.#slot * slotSize + this.#filled, take).set(chunk.subarray(offset, offset + take));
      this.#filled += take;
      offset += take;
      if (this.#filled === slotSize) this.#send();
    }
    return undefined;
  }

  async #waitThenUpdate(rest: Uint8Array): Promise<void> {
    while (this.#freeSlots.length === 0 && !this.#error) await new Promise<void>((resolve) => (this.#waiting = resolve));
    await this.update(rest);
  }

  #send(): void {
    this.#worker.post({ op: 'update', id: this.#id, slot: this.#slot, length: this.#filled });
    this.#slot = -1;
    this.#filled = 0;
  }

  digest(): Promise<string> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#slot >= 0 && this.#filled > 0) this.#send();
    this.#worker.post({ op: 'end', id: this.#id });
    return this.#digest;
  }

  abort(): void {
    if (this.#worker.streams.has(this.#id)) {
      this.#worker.release(this.#id);
      if (!this.#worker.failed) this.#worker.post({ op: 'abort', id: this.#id });
    }
  }
}

/**
 * Passes `source`'s chunks through, hashing and counting them; `result()` gives the
 * sha256 (hex) and size in bytes of what passed through, once the stream has been
 * read to its end. `expectedBytes` (the body's size, when known) lets a large body be
 * hashed on a worker thread.
 */
export function sha256PassThrough(source: AsyncIterable<Uint8Array>, expectedBytes = 0): { stream: AsyncGenerator<Uint8Array>; result(): { sha256: string; size: number }; bytes(): number } {
  let size = 0;
  let digest: string | undefined;
  async function* stream() {
    const hash = createSha256(expectedBytes);
    try {
      for await (const chunk of source) {
        const wait = hash.update(chunk);
        if (wait) await wait;
        size += chunk.length;
        yield chunk;
      }
      digest = await hash.digest();
    } finally {
      if (digest === undefined) hash.abort();
    }
  }
  return {
    stream: stream(),
    bytes: () => size,
    result: () => {
      if (digest === undefined) throw new ModelStoreError('The sha256 of a stream was asked for before the stream was read to its end');
      return { sha256: digest, size };
    },
  };
}

/** sha256 (hex) and size in bytes of a whole body; `expectedBytes` as for {@link sha256PassThrough}. */
export async function sha256Of(source: AsyncIterable<Uint8Array>, expectedBytes = 0): Promise<{ sha256: string; size: number }> {
  const hashing = sha256PassThrough(source, expectedBytes);
  for await (const _chunk of hashing.stream);
  return hashing.result();
}
