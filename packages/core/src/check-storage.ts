/**
 * What a store really does, compared with what its `capabilities` claim: `checkStorage`
 * (a full probe, for `modelstore doctor`) and `ensureConditionalWrites` (the cheap
 * write-time guard `ModelStore` runs once per storage object before its first write).
 *
 * Probes write only under `operatorai-model-store/.modelstore-probe/<random>/` (checkStorage)
 * or at `operatorai-model-store/.modelstore-probe-<random>` (the guard), and remove what
 * they wrote. Nothing reads those keys: Python modelstore lists `domains/*.json`,
 * `model_states/*.json` and `<domain>/versions/`; `collectGarbage` considers only
 * `<domain>/versions/...json` and `<domain>/<stamp>/<id>/artifacts.tar.gz` (no probe key
 * has those shapes), so a probe that crashed halfway leaves keys nothing trips on, and
 * the next `checkStorage` removes those over an hour old.
 */
import { randomBytes } from 'node:crypto';
import { InvalidOptionError, ModelStoreError, PreconditionFailedError, StorageCapabilityError, StorageError } from './errors.js';
import { compareKeys } from './keys.js';
import { registryRoot } from './registry-layout.js';
import type { ObjectInfo, Storage, StorageCapabilities } from './storage.js';

/** Every probe key starts with this (`operatorai-model-store/.modelstore-probe`). */
export const probeKeyPrefix = `${registryRoot}/.modelstore-probe`;

/** Probe keys older than this (1 hour, in ms) are left by a probe that died: `checkStorage` removes them. */
export const staleProbeAge = 3600_000;

/** The checks `checkStorage` runs, in this order. */
export type StorageCheckName = 'create-only' | 'read-after-write' | 'compare-and-swap-stale' | 'compare-and-swap-current' | 'range-read' | 'list-order' | 'list-pagination' | 'delete' | 'cleanup';

/** One check of {@link checkStorage}. */
export interface StorageCheck {
  name: StorageCheckName;
  /**
   * True when what the store claims holds. A check of a capability the store does not
   * claim (`conditionalWrites: false`) is ok whatever it observes: `detail` says what that was.
   */
  ok: boolean;
  /** What was done and seen, in one or two sentences. */
  detail: string;
  /** True when the check did not run (a capability not claimed, or an earlier step failed). */
  skipped?: boolean;
  /** Wall time of the check, in milliseconds. */
  durationMs: number;
}

/** What {@link checkStorage} found. */
export interface StorageCheckReport {
  /** True when every check is ok: everything the store claims holds. */
  ok: boolean;
  /** The capabilities the store declares (`storage.capabilities`). */
  claims: StorageCapabilities;
  /**
   * What the store did: `conditionalWrites` true when it refused both a second create-only
   * write and a stale compare-and-swap, false when it accepted either; `rangeReads` true when
   * every range read returned exactly the asked bytes. `undefined` when not determined
   * (the check failed for another reason, or was skipped).
   */
  observed: { conditionalWrites: boolean | undefined; rangeReads: boolean | undefined };
  /** One entry per check, in the order run. */
  checks: StorageCheck[];
  /** What to set or do for each claim that does not hold (empty when `ok`). */
  advice: string[];
  /** The folder the probe wrote in (removed afterwards), relative to the storage's root. */
  probePrefix: string;
  /** Probe keys of earlier runs (over an hour old) that this run removed. */
  staleRemoved: string[];
  /** Wall time of the whole run, in milliseconds. */
  durationMs: number;
}

/** Options of {@link checkStorage}. */
export interface CheckStorageOptions {
  /** Stops the probe between steps; the promise rejects with the signal's reason (what it wrote is still removed). */
  signal?: AbortSignal;
}

/** What to set when a store claims conditional writes but ignores them. */
export const conditionalWritesAdvice =
  'Open it with conditionalWrites: false (S3Storage option, or ?conditionalWrites=false in the store URI; a custom backend declares capabilities.conditionalWrites false) ' +
  'and keep to one writer at a time, or use a store that honours them (AWS S3, recent MinIO and R2, Google Cloud Storage, Azure Blob Storage, a local folder)';

const conditionalWritesRisk = "writes are unconditional, so keep to one writer at a time: two concurrent uploads of one model id, or two writers moving a domain's latest pointer, overwrite each other without an error";

function describeError(error: unknown): string {
  if (StorageError.isInstance(error)) return `StorageError: ${error.message}`;
  if (ModelStoreError.isInstance(error)) return `${error.name} (${error.code}): ${error.message}`;
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  return `${name}: ${message} (not a modelstore error: the backend breaks the Storage contract)`;
}

/** A raw error from a backend that breaks the contract, as the StorageError it should have been. */
function asStorageError(error: unknown, what: string): unknown {
  if (ModelStoreError.isInstance(error) || (error as { name?: unknown } | null)?.name === 'AbortError') return error;
  return new StorageError(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** `'refused'` when the write lost its condition (PreconditionFailedError), else the write's result. */
async function attempt(write: () => Promise<ObjectInfo>): Promise<ObjectInfo | 'refused'> {
  try {
    return await write();
  } catch (error) {
    if (PreconditionFailedError.isInstance(error)) return 'refused';
    throw error;
  }
}

async function readAll(storage: Storage, key: string, range?: { start: number; end?: number }): Promise<Buffer | undefined> {
  const object = await storage.get(key, range ? { range } : {});
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function checkStorageArgument(storage: Storage, where: string): void {
  const capabilities = (storage as Partial<Storage> | null | undefined)?.capabilities;
  if (!storage || typeof storage.put !== 'function' || typeof storage.list !== 'function' || typeof capabilities !== 'object' || capabilities === null) {
    throw new InvalidOptionError('storage', `${where}: pass a Storage (an object with capabilities, put, get, head, list and delete)`);
  }
}

/** Lists every key under `prefix`, following cursors (at most `maxPages` pages). */
async function listAll(storage: Storage, prefix: string, maxPages = 1000): Promise<ObjectInfo[]> {
  const objects: ObjectInfo[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await storage.list(prefix, cursor === undefined ? {} : { cursor });
    objects.push(...page.objects);
    cursor = page.cursor;
  } while (cursor !== undefined && ++pages < maxPages);
  return objects;
}

// Keys whose byte order differs from a naive walk of folders ("x/1" sorts between "x.y"
// and "x0"), with non-ASCII names. No name is above U+FFFF, where UTF-8 and UTF-16 orders
// differ: Azurite 3.35 lists such names in UTF-16 order (Azure documents only "alphabetical
// order"), and the registry never depends on it. No key is a folder of another's name on a
// case-insensitive file system.
const listNames = ['x-1', 'x.y', 'x/1', 'x/2', 'x0', 'x~', 'é', '\uFF01'];

/**
 * Probes what `storage` really does, under a probe folder it removes afterwards
 * (`operatorai-model-store/.modelstore-probe/<random>/`), about 40 requests of a few
 * bytes each. The checks, in order (see {@link StorageCheckName}):
 *
 * - `create-only`: `put(k, ifNoneMatch: '*')` of a new key succeeds, a second one fails
 *   with `PreconditionFailedError` and leaves the first bytes;
 * - `read-after-write`: an unconditional overwrite is read back at once (bytes, etag and size of `head`);
 * - `compare-and-swap-stale`: `put(ifMatch: <the etag before the overwrite>)` fails and changes nothing;
 * - `compare-and-swap-current`: `put(ifMatch: <the current etag>)` succeeds;
 * - `range-read` (when `capabilities.rangeReads`): ranges `0-0`, `3-9`, `30-` and one past the end return exactly those bytes;
 * - `list-order`: a listing returns every key under the prefix, none outside it, in UTF-8 byte order
 *   (names with `-`, `.`, `/`, `~` and non-ASCII characters up to U+FFFF);
 * - `list-pagination`: with `limit: 2`, no page holds more than 2 keys and the cursor walks every key exactly once;
 * - `delete`: `true` for an existing key, then the key is gone, then `false`;
 * - `cleanup`: the probe folder lists empty after the probe removed its keys.
 *
 * A conditional-write check of a store that declares `conditionalWrites: false` is ok
 * whatever it sees (the store said so), and says what it saw. Probe keys older than an
 * hour, left by a probe that died, are removed first.
 *
 * @param storage any `Storage`
 * @returns the report: `ok` is true when every claim holds; `advice` says what to set otherwise
 * @throws StorageError when the store cannot be reached at all (the first request, a listing of the probe folder, fails)
 * @throws InvalidOptionError when `storage` is not a Storage
 */
export async function checkStorage(storage: Storage, options: CheckStorageOptions = {}): Promise<StorageCheckReport> {
  checkStorageArgument(storage, 'checkStorage');
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidOptionError('options', 'checkStorage: options must be an object ({ signal? })');
  const { signal } = options;
  signal?.throwIfAborted();
  const started = performance.now();
  const claims: StorageCapabilities = { conditionalWrites: storage.capabilities.conditionalWrites === true, rangeReads: storage.capabilities.rangeReads === true };
  const probePrefix = `${probeKeyPrefix}/${randomBytes(8).toString('hex')}/`;

  // Reachability: an unreachable store is an error, not a report. The same listing finds
  // what earlier probes that died left behind.
  let leftovers: ObjectInfo[];
  try {
    leftovers = await listAll(storage, probeKeyPrefix, 20);
  } catch (error) {
    throw asStorageError(error, 'Listing the store');
  }
  const staleRemoved: string[] = [];
  for (const object of leftovers) {
    if (Date.now() - object.lastModified.getTime() < staleProbeAge) continue;
    if (await storage.delete(object.key).catch(() => false)) staleRemoved.push(object.key);
  }

  const checks: StorageCheck[] = [];
  const observed: StorageCheckReport['observed'] = { conditionalWrites: undefined, rangeReads: undefined };
  const written = new Set<string>();
  const run = async (name: StorageCheckName, body: () => Promise<{ ok: boolean; detail: string; skipped?: boolean }>): Promise<boolean> => {
    signal?.throwIfAborted();
    const start = performance.now();
    let outcome: { ok: boolean; detail: string; skipped?: boolean };
    try {
      outcome = await body();
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'AbortError' && signal?.aborted) throw error;
      outcome = { ok: false, detail: describeError(error) };
    }
    checks.push({ name, ok: outcome.ok, detail: outcome.detail, ...(outcome.skipped ? { skipped: true } : {}), durationMs: Math.round((performance.now() - start) * 10) / 10 });
    return outcome.ok && !outcome.skipped;
  };
  const skip = (name: StorageCheckName, why: string) => checks.push({ name, ok: false, detail: `not run: ${why}`, skipped: true, durationMs: 0 });
  const put: Storage['put'] = async (key, body, putOptions) => {
    written.add(key);
    return storage.put(key, body, putOptions);
  };

  const key = `${probePrefix}object`;
  const bytes = {
    first: Buffer.from('modelstore probe: first write'),
    second: Buffer.from('modelstore probe: second create-only write'),
    third: Buffer.from('modelstore probe: overwrite, 0123456789abcdefghijklmnopqrstuvwxyz'),
    stale: Buffer.from('modelstore probe: stale compare-and-swap'),
    current: Buffer.from('modelstore probe: compare-and-swap, 0123456789abcdefghijklmnopqrstuvwxyz!'),
  };
  let createRefused: boolean | undefined;
  let staleRefused: boolean | undefined;
  let firstInfo: ObjectInfo | undefined;
  let overwriteInfo: ObjectInfo | undefined;
  let currentBytes: Buffer | undefined;

  try {
    await run('create-only', async () => {
      try {
        firstInfo = await put(key, bytes.first, { ifNoneMatch: '*', contentType: 'text/plain' });
      } catch (error) {
        return { ok: false, detail: `a create-only write of a new key failed: ${describeError(error)}` };
      }
      currentBytes = bytes.first;
      const again = await attempt(() => put(key, bytes.second, { ifNoneMatch: '*', contentType: 'text/plain' }));
      createRefused = again === 'refused';
      if (!createRefused) currentBytes = bytes.second;
      const after = await readAll(storage, key);
      if (createRefused) {
        if (!after?.equals(bytes.first)) return { ok: false, detail: 'a second create-only write was refused with PreconditionFailedError, but the object changed anyway' };
        return {
          ok: true,
          detail: claims.conditionalWrites ? 'a second create-only write of the key failed with PreconditionFailedError and left the first bytes' : 'the store refused a second create-only write although it does not claim conditionalWrites',
        };
      }
      return claims.conditionalWrites
        ? { ok: false, detail: 'a second create-only write (ifNoneMatch: "*") of an existing key succeeded: the store ignores If-None-Match, so two uploads of one model id both succeed and one model is lost' }
        : { ok: true, detail: `not claimed (conditionalWrites: false): a second create-only write succeeded, as declared; ${conditionalWritesRisk}` };
    });

    if (firstInfo === undefined) {
      skip('read-after-write', 'the probe object could not be written');
    } else {
      await run('read-after-write', async () => {
        overwriteInfo = await put(key, bytes.third, { contentType: 'text/plain' });
        currentBytes = bytes.third;
        const read = await readAll(storage, key);
        const head = await storage.head(key);
        if (!read) return { ok: false, detail: 'the key was not found right after it was overwritten' };
        if (!read.equals(bytes.third)) return { ok: false, detail: `an overwrite read back as ${read.length} bytes that are not the bytes written (stale read?)` };
        if (!head || head.size !== bytes.third.length) return { ok: false, detail: `head after the overwrite says ${head ? `${head.size} bytes` : 'not found'}, ${bytes.third.length} were written` };
        if (head.etag !== overwriteInfo.etag) return { ok: false, detail: `the etag put returned (${overwriteInfo.etag}) is not the one head returns (${head.etag}): compare-and-swap with it would fail` };
        return { ok: true, detail: 'an overwrite was read back at once: same bytes, and head gives the size and etag put returned' };
      });
    }

    if (firstInfo === undefined || overwriteInfo === undefined) {
      skip('compare-and-swap-stale', 'the probe object could not be written and overwritten');
      skip('compare-and-swap-current', 'the probe object could not be written and overwritten');
    } else {
      // The first version was replaced (by the overwrite, or by an ignored second create).
      const stale = firstInfo.etag;
      await run('compare-and-swap-stale', async () => {
        if (stale === overwriteInfo!.etag) {
          staleRefused = false;
          return claims.conditionalWrites
            ? { ok: false, detail: 'the etag did not change when different bytes were written: compare-and-swap cannot tell versions apart' }
            : { ok: true, detail: 'not claimed (conditionalWrites: false): the etag did not change when different bytes were written' };
        }
        const result = await attempt(() => put(key, bytes.stale, { ifMatch: stale, contentType: 'text/plain' }));
        staleRefused = result === 'refused';
        if (staleRefused) {
          const after = await readAll(storage, key);
          if (!after?.equals(currentBytes!)) return { ok: false, detail: 'a stale compare-and-swap was refused with PreconditionFailedError, but the object changed anyway' };
          return {
            ok: true,
            detail: claims.conditionalWrites ? 'a write with ifMatch of a replaced version failed with PreconditionFailedError and changed nothing' : 'the store refused a stale compare-and-swap although it does not claim conditionalWrites',
          };
        }
        currentBytes = bytes.stale;
        return claims.conditionalWrites
          ? { ok: false, detail: "a write with ifMatch of a replaced version succeeded: the store ignores If-Match, so two writers moving a domain's latest pointer overwrite each other" }
          : { ok: true, detail: `not claimed (conditionalWrites: false): a stale compare-and-swap succeeded, as declared; ${conditionalWritesRisk}` };
      });
      await run('compare-and-swap-current', async () => {
        const head = await storage.head(key);
        if (!head) return { ok: false, detail: 'the probe object vanished' };
        const result = await attempt(() => put(key, bytes.current, { ifMatch: head.etag, contentType: 'text/plain' }));
        if (result === 'refused') {
          return claims.conditionalWrites
            ? { ok: false, detail: `a write with ifMatch of the current etag (${head.etag}, from head) failed with PreconditionFailedError: the latest pointer could never move` }
            : { ok: true, detail: 'not claimed (conditionalWrites: false), and a write with ifMatch of the current etag was refused' };
        }
        currentBytes = bytes.current;
        const after = await readAll(storage, key);
        if (!after?.equals(bytes.current)) return { ok: false, detail: 'a compare-and-swap with the current etag succeeded but the new bytes were not read back' };
        return { ok: true, detail: 'a write with ifMatch of the current etag succeeded and was read back' };
      });
    }

    if (!claims.rangeReads) {
      checks.push({ name: 'range-read', ok: true, detail: 'not claimed (rangeReads: false): not checked', skipped: true, durationMs: 0 });
    } else if (currentBytes === undefined) {
      skip('range-read', 'the probe object could not be written');
    } else {
      await run('range-read', async () => {
        const whole = currentBytes!;
        const ranges: Array<{ start: number; end?: number }> = [{ start: 0, end: 0 }, { start: 3, end: 9 }, { start: 30 }, { start: whole.length - 2, end: whole.length + 100 }];
        const wrong: string[] = [];
        for (const range of ranges) {
          const read = await readAll(storage, key, range);
          const expected = whole.subarray(range.start, range.end === undefined ? undefined : range.end + 1);
          if (!read) wrong.push(`${range.start}-${range.end ?? ''}: not found`);
          else if (!read.equals(expected)) wrong.push(`${range.start}-${range.end ?? ''}: ${read.length} bytes, expected ${expected.length}`);
        }
        observed.rangeReads = wrong.length === 0;
        return wrong.length === 0
          ? { ok: true, detail: `ranges ${ranges.map((range) => `${range.start}-${range.end ?? ''}`).join(', ')} of a ${whole.length}-byte object returned exactly those bytes (end inclusive, clamped to the object)` }
          : { ok: false, detail: `range reads returned the wrong bytes (${wrong.join('; ')}): downloads that resume after a broken connection would be corrupt` };
      });
    }

    // Listing: keys under list/, and one beside it that a listing of list/ must not return.
    const listPrefix = `${probePrefix}list/`;
    const listKeys = listNames.map((name) => `${listPrefix}${name}`);
    const outside = `${probePrefix}list-outside`;
    let listed = false;
    try {
      for (const listKey of [...listKeys, outside]) await put(listKey, listKey, { contentType: 'text/plain' });
      listed = true;
    } catch (error) {
      skip('list-order', `writing the listing's keys failed: ${describeError(error)}`);
      skip('list-pagination', `writing the listing's keys failed: ${describeError(error)}`);
    }
    const expected = [...listKeys].sort(compareKeys);
    if (listed) {
      await run('list-order', async () => {
        const keys = (await listAll(storage, listPrefix, 50)).map((object) => object.key);
        if (keys.includes(outside)) return { ok: false, detail: `a listing of "…/list/" returned "…/list-outside": prefixes ending in "/" must match whole folders` };
        const missing = expected.filter((listKey) => !keys.includes(listKey));
        if (missing.length > 0 || keys.length !== expected.length) {
          return { ok: false, detail: `a listing of ${expected.length} keys returned ${keys.length}${missing.length ? `, missing ${missing.map((k) => JSON.stringify(k.slice(listPrefix.length))).join(', ')}` : ''}` };
        }
        if (keys.some((listKey, index) => listKey !== expected[index])) {
          return {
            ok: false,
            detail: `keys are not listed in UTF-8 byte order: got ${keys.map((k) => JSON.stringify(k.slice(listPrefix.length))).join(' ')}, expected ${expected.map((k) => JSON.stringify(k.slice(listPrefix.length))).join(' ')}`,
          };
        }
        return { ok: true, detail: `${expected.length} keys (with "-", ".", "/", "~" and non-ASCII names) listed in UTF-8 byte order, nothing outside the prefix` };
      });
      await run('list-pagination', async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await storage.list(listPrefix, { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
          pages++;
          if (page.objects.length > 2) return { ok: false, detail: `a page asked with limit 2 held ${page.objects.length} keys` };
          if (page.cursor !== undefined && page.cursor === cursor) return { ok: false, detail: 'the cursor did not move: a listing would never end' };
          seen.push(...page.objects.map((object) => object.key));
          cursor = page.cursor;
        } while (cursor !== undefined && pages < expected.length * 2 + 2);
        if (cursor !== undefined) return { ok: false, detail: `the listing had not ended after ${pages} pages of at most 2 keys, for ${expected.length} keys` };
        const duplicates = seen.filter((listKey, index) => seen.indexOf(listKey) !== index);
        const missing = expected.filter((listKey) => !seen.includes(listKey));
        if (duplicates.length > 0 || missing.length > 0 || seen.length !== expected.length) {
          return {
            ok: false,
            detail:
              `walking the cursor with limit 2 returned ${seen.length} keys for ${expected.length}` +
              (duplicates.length ? `; repeated: ${[...new Set(duplicates)].map((k) => JSON.stringify(k.slice(listPrefix.length))).join(', ')}` : '') +
              (missing.length ? `; skipped: ${missing.map((k) => JSON.stringify(k.slice(listPrefix.length))).join(', ')}` : ''),
          };
        }
        return { ok: true, detail: `limit 2 honoured; the cursor walked all ${expected.length} keys exactly once in ${pages} pages` };
      });
    }

    if (currentBytes === undefined) {
      skip('delete', 'the probe object could not be written');
    } else {
      await run('delete', async () => {
        const existed = await storage.delete(key);
        if (!existed) return { ok: false, detail: 'delete of an existing key returned false' };
        written.delete(key);
        if (await storage.head(key)) return { ok: false, detail: 'the key is still there after delete returned true' };
        const ghost = await storage.get(key);
        if (ghost) {
          (ghost.body as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
          return { ok: false, detail: 'get still reads the key after delete returned true' };
        }
        if (await storage.delete(key)) return { ok: false, detail: 'a second delete of the key returned true' };
        return { ok: true, detail: 'delete returned true, the key was gone at once (head, get), and a second delete returned false' };
      });
    }
  } finally {
    // Remove what the probe wrote, whatever happened.
    for (const probeKey of written) await storage.delete(probeKey).catch(() => undefined);
  }

  await run('cleanup', async () => {
    const remaining = (await listAll(storage, probePrefix, 20)).map((object) => object.key);
    return remaining.length === 0 ? { ok: true, detail: `every probe key was removed (${probePrefix} lists empty)` } : { ok: false, detail: `probe keys remain: ${remaining.join(', ')}` };
  });

  if (createRefused !== undefined && staleRefused !== undefined) observed.conditionalWrites = createRefused && staleRefused;
  else if (createRefused === false || staleRefused === false) observed.conditionalWrites = false;

  const failed = new Set(checks.filter((check) => !check.ok).map((check) => check.name));
  const advice: string[] = [];
  if (claims.conditionalWrites && (failed.has('create-only') || failed.has('compare-and-swap-stale') || failed.has('compare-and-swap-current'))) {
    const ignored = [createRefused === false ? 'If-None-Match' : '', staleRefused === false ? 'If-Match' : ''].filter(Boolean).join(' and ');
    advice.push(`${ignored ? `This store ignores ${ignored}` : 'Conditional writes do not work on this store'}: ${conditionalWritesAdvice.charAt(0).toLowerCase()}${conditionalWritesAdvice.slice(1)}.`);
  }
  if (!claims.conditionalWrites && observed.conditionalWrites === true) {
    advice.push('This store honours conditional writes although it is opened with conditionalWrites: false: open it with conditionalWrites: true (the default) so that concurrent writers are safe.');
  }
  if (failed.has('range-read')) advice.push('Range reads return the wrong bytes: downloads that resume after a broken connection cannot be trusted on this store; use a store that honours HTTP Range.');
  if (failed.has('list-order') || failed.has('list-pagination')) {
    advice.push('Listings do not follow the Storage contract (every key once, in UTF-8 byte order, pages of at most `limit`): registry listings that span pages can skip or repeat models; use another store or fix the backend.');
  }
  if (failed.has('read-after-write') || failed.has('delete')) advice.push('Writes or deletes are not visible at once: the registry assumes read-after-write consistency (S3, GCS and Azure give it); use a store that does.');
  if (failed.has('cleanup')) advice.push(`Remove the probe keys left under ${probePrefix} by hand, or run the check again after an hour (it removes older probe keys).`);
  return { ok: failed.size === 0, claims, observed, checks, advice, probePrefix, staleRemoved, durationMs: Math.round(performance.now() - started) };
}

const verified = new WeakMap<Storage, Promise<void>>();

async function probeConditionalWrites(storage: Storage): Promise<void> {
  const key = `${probeKeyPrefix}-${randomBytes(8).toString('hex')}`;
  let wrote = false;
  try {
    const first = await storage.put(key, 'modelstore conditional-write probe: 1', { ifNoneMatch: '*', contentType: 'text/plain' });
    wrote = true;
    if ((await attempt(() => storage.put(key, 'modelstore conditional-write probe: 2', { ifNoneMatch: '*', contentType: 'text/plain' }))) !== 'refused') {
      throw new StorageCapabilityError(
        'conditionalWrites',
        'This store claims conditional writes but ignores If-None-Match: a second create-only write of one key succeeded, so two uploads of one model id would both succeed and one model would be lost. Nothing was written',
        conditionalWritesAdvice,
      );
    }
    const second = await storage.put(key, 'modelstore conditional-write probe: 3 (overwrite)', { contentType: 'text/plain' });
    if (second.etag === first.etag || (await attempt(() => storage.put(key, 'modelstore conditional-write probe: 4', { ifMatch: first.etag, contentType: 'text/plain' }))) !== 'refused') {
      throw new StorageCapabilityError(
        'conditionalWrites',
        "This store claims conditional writes but ignores If-Match: a write with the etag of a replaced version succeeded, so two writers moving a domain's latest pointer would overwrite each other. Nothing was written",
        conditionalWritesAdvice,
      );
    }
  } catch (error) {
    throw asStorageError(error, 'The conditional-write probe');
  } finally {
    if (wrote) await storage.delete(key).catch(() => undefined);
  }
}

/**
 * The write-time guard `ModelStore` runs before its first write: when `storage` claims
 * `conditionalWrites`, checks once per storage object (about 5 requests of a few bytes,
 * at `operatorai-model-store/.modelstore-probe-<random>`, removed afterwards) that a second
 * create-only write of one key and a compare-and-swap against a replaced etag both fail
 * with `PreconditionFailedError`. Concurrent callers share one probe; a store that passed
 * is not probed again, a store that failed keeps failing at once, and a probe that failed
 * for another reason (the network) runs again on the next call.
 *
 * A store that declares `conditionalWrites: false` is not probed: it said so, and its
 * writes are unconditional (keep to one writer at a time).
 *
 * @param storage the store about to be written
 * @param check `false` skips the probe (`ModelStoreOptions.checkConditionalWrites`)
 * @throws StorageCapabilityError when the store claims conditional writes but ignores them (cached for this storage object)
 * @throws StorageError when the probe itself could not run (not cached)
 * @throws InvalidOptionError when `storage` is not a Storage
 */
export function ensureConditionalWrites(storage: Storage, check = true): Promise<void> {
  if (!check) return Promise.resolve();
  try {
    checkStorageArgument(storage, 'ensureConditionalWrites');
  } catch (error) {
    return Promise.reject(error);
  }
  if (storage.capabilities.conditionalWrites !== true) return Promise.resolve();
  let pending = verified.get(storage);
  if (!pending) {
    const probe = probeConditionalWrites(storage);
    pending = probe;
    verified.set(storage, probe);
    probe.catch((error: unknown) => {
      if (!StorageCapabilityError.isInstance(error) && verified.get(storage) === probe) verified.delete(storage);
    });
  }
  return pending;
}
