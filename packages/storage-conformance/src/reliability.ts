import { RawAdapter } from '@modelstore/adapter-raw';
import { DomainNotFoundError, ModelStore, ModelStoreError, StateNotFoundError, type Storage } from '@modelstore/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, createReadStream, existsSync, readFileSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededRandom } from './seeded-random.js';

export { seededRandom } from './seeded-random.js';

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A registry invariant that does not hold. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export interface RegistryCheckOptions {
  /** The state whose members must all be listed models. */
  state: string;
  /** A folder for the downloads (created and emptied). */
  work: string;
  /** When given, every downloaded model's `path.basename(modelFile)` must have these bytes. */
  modelFile?: string;
  /** The sha256 of `modelFile` when already known (it is hashed otherwise). */
  modelSha256?: string;
}

export interface RegistryCheck {
  /** Models listed, newest first. */
  ids: string[];
  /** The domain's latest model, if the domain exists. */
  latest: string | undefined;
  /** Models in `state`. */
  inState: string[];
  /** Models downloaded and verified (all of `ids`). */
  downloads: number;
}

/**
 * Checks what a reader relies on: every listed model downloads and verifies
 * (archive and file digests, and the model's bytes when `modelFile` is given); the
 * domain's latest pointer names a listed model; no model in `state` is missing.
 * Throws `InvariantError` on the first violation.
 */
export async function checkRegistry(store: ModelStore, domain: string, options: RegistryCheckOptions): Promise<RegistryCheck> {
  const missingDomain =
    <T>(fallback: T) =>
    (error: unknown): T => {
      if (DomainNotFoundError.isInstance(error)) return fallback;
      throw error;
    };
  const ids = await store.listModels(domain).catch(missingDomain([] as string[]));
  const expected = options.modelFile === undefined ? undefined : (options.modelSha256 ?? (await sha256(options.modelFile)));
  let downloads = 0;
  for (const id of ids) {
    const to = path.join(options.work, `${id}-${downloads}`);
    try {
      await store.download(domain, { modelId: id, to });
    } catch (error) {
      throw new InvariantError(`listed model ${id} does not download: ${(error as Error).message}`, { cause: error });
    }
    if (expected !== undefined) {
      const file = path.join(to, path.basename(options.modelFile!));
      if (!existsSync(file) || (await sha256(file)) !== expected) throw new InvariantError(`listed model ${id} downloaded with other bytes than were uploaded (${(await readdir(to)).join(', ')})`);
    }
    await rm(to, { recursive: true, force: true });
    downloads++;
  }
  const latest = await store.getDomain(domain).then((metadata) => metadata.model.model_id, missingDomain(undefined));
  if (latest !== undefined && !ids.includes(latest)) throw new InvariantError(`the latest pointer names ${latest}, which is not listed`);
  if (latest === undefined && ids.length > 0) throw new InvariantError(`${ids.length} models are listed but the domain has no latest pointer`);
  const inState = await store.listModels(domain, { state: options.state }).catch((error: unknown) => {
    if (DomainNotFoundError.isInstance(error) || StateNotFoundError.isInstance(error)) return [] as string[];
    throw error;
  });
  const strays = inState.filter((id) => !ids.includes(id));
  if (strays.length > 0) throw new InvariantError(`state "${options.state}" names models that are not listed: ${strays.join(', ')}`);
  return { ids, latest, inState, downloads };
}

export interface ChurnOptions {
  domain: string;
  /** A file uploaded as the model, again and again. */
  modelFile: string;
  state: string;
  seed: number;
  /** Called once the first model is committed. */
  onReady?: () => void;
  /**
   * A file that records, synchronously, `upload <id>` before each upload starts and
   * `done <id>` once it returned: after a kill, the uploads whose commit may still
   * land are those without `done`.
   */
  journal?: string;
}

/**
 * Uploads, deletes, and moves models in and out of `state` on one domain, forever:
 * the work a crash-injection worker does until it is killed.
 */
export async function churn(store: ModelStore, options: ChurnOptions): Promise<never> {
  const random = seededRandom(options.seed);
  const upload = async () => {
    const modelId = randomUUID();
    if (options.journal !== undefined) appendFileSync(options.journal, `upload ${modelId}\n`);
    await store.upload(options.domain, { model: options.modelFile, modelId });
    if (options.journal !== undefined) appendFileSync(options.journal, `done ${modelId}\n`);
  };
  await store.createModelState(options.state);
  // One model first, so that every run has something to check.
  await upload();
  options.onReady?.();
  for (;;) {
    const ids = await store.listModels(options.domain).catch(() => [] as string[]);
    const pick = () => ids[Math.floor(random() * ids.length)]!;
    const roll = random();
    if (roll < 0.5 || ids.length === 0) await upload();
    else if (roll < 0.7) await store.deleteModel(options.domain, pick());
    else if (roll < 0.9) await store.setModelState(options.domain, pick(), options.state);
    else await store.removeModelState(options.domain, pick(), options.state);
  }
}

export interface CrashInjectionOptions {
  /** Kills, one worker process each. */
  runs: number;
  seed: number;
  /**
   * Starts a worker that runs `churn` on the registry (with `journal` as its
   * journal) and writes "ready" to stdout once it has.
   */
  spawnWorker(run: number, journal: string): ChildProcess;
  /**
   * The storage under `store`: after each kill, the checks wait until two listings
   * of the registry 250 ms apart agree (the store has quiesced).
   */
  storage?: Storage;
  /**
   * How many requests the store has received and not yet applied (our S3 and GCS
   * test servers report it: `requestsInFlight` of `@modelstore/test-servers`). After
   * each kill the checks also wait until it is 0 twice in a row.
   */
  inFlight?: () => Promise<number>;
  /** A store on the same registry, used to check it after each kill. */
  store: ModelStore;
  domain: string;
  state: string;
  work: string;
  modelFile?: string;
  /** Time between "ready" and the kill, in ms: uniform in [min, max] (default [30, 430]). */
  killAfter?: [number, number];
}

export interface CrashInjectionResult {
  kills: number;
  /** Listed models downloaded and verified, over all checks. */
  downloads: number;
  /** Objects `collectGarbage` removed: what the crashes left behind. */
  collected: number;
  /** Models listed after the last run. */
  models: number;
  /** The longest wait, after a kill, until the store had quiesced (ms). */
  quiesceMs: number;
  /**
   * Models that appeared between the check before and the check after garbage
   * collection: commits of uploads in flight at the kill, applied late (each was
   * downloaded and verified by the second check).
   */
  lateCommits: number;
}

/** The uploads a worker started and did not see finish: their commits may still land. */
function uploadsInFlight(journal: string): Set<string> {
  const open = new Set<string>();
  if (!existsSync(journal)) return open;
  for (const line of readFileSync(journal, 'utf8').split('\n')) {
    const [what, id] = line.split(' ');
    if (id === undefined) continue;
    if (what === 'upload') open.add(id);
    else if (what === 'done') open.delete(id);
  }
  return open;
}

/** Every key of the registry with its version and size: two equal snapshots in a row mean no write is landing. */
async function snapshot(storage: Storage): Promise<string> {
  const lines: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.list('operatorai-model-store/', cursor === undefined ? {} : { cursor });
    for (const object of page.objects) lines.push(`${object.key} ${object.etag} ${object.size}`);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return lines.join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the store has applied every request a killed worker left in flight:
 * its own count of requests in progress is 0 twice in a row (when it reports one),
 * then two listings 250 ms apart agree. Throws `InvariantError` after `timeoutMs`.
 */
export async function waitForQuiescence(options: { storage?: Storage; inFlight?: () => Promise<number>; timeoutMs?: number }): Promise<number> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 60_000);
  const late = (what: string) => new InvariantError(`the store did not quiesce within ${options.timeoutMs ?? 60_000} ms after a kill: ${what}`);
  if (options.inFlight) {
    for (let zeros = 0, last = -1; zeros < 2; ) {
      last = await options.inFlight();
      zeros = last === 0 ? zeros + 1 : 0;
      if (zeros < 2) {
        if (Date.now() > deadline) throw late(`${last} requests still in progress`);
        await sleep(50);
      }
    }
  }
  if (options.storage) {
    let previous = await snapshot(options.storage);
    for (;;) {
      await sleep(250);
      const next = await snapshot(options.storage);
      if (next === previous) break;
      if (Date.now() > deadline) throw late('the registry was still changing');
      previous = next;
    }
  }
  return Date.now() - started;
}

/**
 * What changed in a registry between two checks in ways a crash check does not
 * allow: a listed model that vanished, a model that appeared although no upload of
 * it was in flight (`uploadsInFlight`, from the killed worker's journal), a latest
 * model that moved to anything but such a late commit, or a change of the models
 * in `state`. Empty when the two checks agree up to late commits.
 */
export function registryChanges(before: RegistryCheck, after: RegistryCheck, uploadsInFlight: ReadonlySet<string>, state: string): string[] {
  const vanished = before.ids.filter((id) => !after.ids.includes(id));
  const appeared = after.ids.filter((id) => !before.ids.includes(id));
  const unexplained = appeared.filter((id) => !uploadsInFlight.has(id));
  const problems: string[] = [];
  if (vanished.length > 0) problems.push(`${vanished.length} listed models vanished (${vanished.join(', ')})`);
  if (unexplained.length > 0) problems.push(`${unexplained.length} models appeared that no upload in flight at the kill explains (${unexplained.join(', ')})`);
  // A late commit may also become the latest (getDomain names the newest committed model when the pointer is missing).
  if (after.latest !== before.latest && !(after.latest !== undefined && appeared.includes(after.latest))) problems.push(`the latest model changed from ${before.latest} to ${after.latest}`);
  if (JSON.stringify([...after.inState].sort()) !== JSON.stringify([...before.inState].sort())) problems.push(`the models in "${state}" changed from [${before.inState.join(', ')}] to [${after.inState.join(', ')}]`);
  return problems;
}

/**
 * Kills `runs` workers with SIGKILL at seeded random moments. After each kill it
 * waits until the store has quiesced (`waitForQuiescence`: a request the worker had
 * sent may still be applied, as real stores do with a request whose body they
 * received), checks the registry (`checkRegistry`), collects garbage with no grace
 * period (`quiesced: true`: the worker is dead and its requests applied), and checks
 * again: the same models must be listed, latest and in state, all verified. The one
 * difference allowed is a model that appears, if its upload was in flight at the
 * kill (the worker's journal says so) — a commit applied later still; a model that
 * disappears, or one that nobody was uploading, is an `InvariantError`.
 */
export async function runCrashInjection(options: CrashInjectionOptions): Promise<CrashInjectionResult> {
  const random = seededRandom(options.seed);
  const [min, max] = options.killAfter ?? [30, 430];
  const result: CrashInjectionResult = { kills: 0, downloads: 0, collected: 0, models: 0, quiesceMs: 0, lateCommits: 0 };
  const check = { state: options.state, work: path.join(options.work, 'check'), ...(options.modelFile === undefined ? {} : { modelFile: options.modelFile, modelSha256: await sha256(options.modelFile) }) };
  for (let run = 0; run < options.runs; run++) {
    const journal = path.join(options.work, `journal-${run}.log`);
    const child = options.spawnWorker(run, journal);
    let stderr = '';
    child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (data: Buffer) => data.toString().includes('ready') && resolve());
      child.on('exit', () => reject(new Error(`run ${run}: the worker exited before it was killed: ${stderr}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, min + random() * (max - min)));
    child.kill('SIGKILL');
    await exited;
    if (stderr !== '') throw new Error(`run ${run}: the worker wrote to stderr before it was killed: ${stderr}`);
    result.kills++;
    const inFlightAtKill = uploadsInFlight(journal);
    const quiet = await waitForQuiescence({ ...(options.storage ? { storage: options.storage } : {}), ...(options.inFlight ? { inFlight: options.inFlight } : {}) });
    result.quiesceMs = Math.max(result.quiesceMs, quiet);
    const before = await checkRegistry(options.store, options.domain, check).catch((error: Error) => {
      throw new InvariantError(`after kill ${run + 1}: ${error.message}`, { cause: error });
    });
    const garbage = await options.store.collectGarbage({ olderThan: 0, quiesced: true });
    result.collected += garbage.removed.length;
    const after = await checkRegistry(options.store, options.domain, check).catch((error: Error) => {
      throw new InvariantError(`after kill ${run + 1}, after garbage collection: ${error.message}`, { cause: error });
    });
    const problems = registryChanges(before, after, inFlightAtKill, options.state);
    const appeared = after.ids.filter((id) => !before.ids.includes(id));
    if (problems.length > 0) {
      throw new InvariantError(
        `after kill ${run + 1}: garbage collection changed the registry — ${before.ids.length} models listed before \`collectGarbage({ olderThan: 0, quiesced: true })\`, ${after.ids.length} after (all downloaded and verified); ${problems.join('; ')}`,
      );
    }
    result.lateCommits += appeared.length;
    result.downloads += before.downloads + after.downloads;
    result.models = after.ids.length;
  }
  return result;
}

export interface FaultWorkloadOptions {
  /** A store whose storage goes through the faults. */
  store: ModelStore;
  /** A store on the same registry without faults, for the final check. */
  verifier: ModelStore;
  domain: string;
  state: string;
  modelFile: string;
  work: string;
  /** Operations in all (default 200), spread over `concurrency` writers (default 4). */
  operations?: number;
  concurrency?: number;
  seed: number;
  /** Called between the workload and the final check, e.g. to switch the faults off. */
  beforeCheck?: () => void | Promise<void>;
}

export interface FaultWorkloadResult {
  operations: number;
  succeeded: number;
  /** Operations that failed with a typed error, by error code. */
  failedCleanly: Record<string, number>;
  /** The first message of each code in `failedCleanly`, as `<operation>: <message>`. */
  examples: Record<string, string>;
  /** Operations that failed with anything else (must stay empty). */
  untyped: string[];
  /** Successful uploads not listed at the end, and listed models that failed to verify (must be 0). */
  lost: number;
  /** Models listed at the end, all verified. */
  models: number;
  /** Failed downloads that left something at their destination (must be 0). */
  leftovers: number;
}

/**
 * Runs uploads, downloads, state changes and deletes through a faulty store. Each
 * writer works on its own models, so the outcome of every operation that succeeded
 * is known: at the end (checked through `verifier`) every model whose upload
 * succeeded and whose delete did not is listed, none whose delete succeeded is, the
 * state holds exactly the models whose last state change succeeded with "set", and
 * `checkRegistry` holds. Operations that failed must have failed with a typed error.
 */
export async function runFaultWorkload(options: FaultWorkloadOptions): Promise<FaultWorkloadResult> {
  const random = seededRandom(options.seed);
  const total = options.operations ?? 200;
  const concurrency = options.concurrency ?? 4;
  const result: FaultWorkloadResult = { operations: 0, succeeded: 0, failedCleanly: {}, examples: {}, untyped: [], lost: 0, models: 0, leftovers: 0 };
  type Expectation = { listed: boolean | undefined; inState: boolean | undefined };
  const models = new Map<string, Expectation>();
  const failed = (error: unknown, operation: string) => {
    if (ModelStoreError.isInstance(error)) {
      const code = (error as ModelStoreError).code;
      result.failedCleanly[code] = (result.failedCleanly[code] ?? 0) + 1;
      result.examples[code] ??= `${operation}: ${(error as Error).message.slice(0, 300)}`;
    } else {
      result.untyped.push(`${operation}: ${(error as Error)?.stack ?? String(error)}`);
    }
  };
  await options.verifier.createModelState(options.state);
  const expected = await sha256(options.modelFile);
  let next = 0;
  let downloads = 0;
  const worker = async (writer: number) => {
    const own: string[] = [];
    let uploads = 0;
    while (next < total) {
      next++;
      result.operations++;
      const roll = random();
      const id = own[Math.floor(random() * own.length)];
      const expectation = id === undefined ? undefined : models.get(id)!;
      // 40% uploads (and always while the writer has no model), 20% downloads, 25% state changes, 15% deletes.
      const operation = roll < 0.4 || id === undefined ? 'upload' : roll < 0.6 ? 'download' : roll < 0.75 ? 'set state' : roll < 0.85 ? 'unset state' : 'delete';
      try {
        switch (operation) {
          case 'upload': {
            const modelId = `w${writer}-${uploads++}`;
            own.push(modelId);
            // Until the upload answers, the model may or may not exist.
            models.set(modelId, { listed: undefined, inState: false });
            await options.store.upload(options.domain, { model: options.modelFile, modelId });
            models.set(modelId, { listed: true, inState: false });
            break;
          }
          case 'download': {
            const to = path.join(options.work, 'downloads', `${writer}-${downloads++}`);
            try {
              await options.store.download(options.domain, { modelId: id!, to });
              if ((await sha256(path.join(to, path.basename(options.modelFile)))) !== expected) {
                throw new InvariantError(`model ${id} downloaded through faults with other bytes than were uploaded`);
              }
            } catch (error) {
              if (existsSync(to)) result.leftovers++;
              throw error;
            } finally {
              await rm(to, { recursive: true, force: true });
            }
            break;
          }
          case 'set state':
            expectation!.inState = undefined;
            await options.store.setModelState(options.domain, id!, options.state);
            expectation!.inState = true;
            break;
          case 'unset state':
            expectation!.inState = undefined;
            await options.store.removeModelState(options.domain, id!, options.state);
            expectation!.inState = false;
            break;
          case 'delete':
            expectation!.listed = undefined;
            expectation!.inState = undefined;
            await options.store.deleteModel(options.domain, id!);
            expectation!.listed = false;
            expectation!.inState = false;
            own.splice(own.indexOf(id!), 1);
            break;
        }
        result.succeeded++;
      } catch (error) {
        if (error instanceof InvariantError) throw error;
        failed(error, operation);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, writer) => worker(writer)));
  await options.beforeCheck?.();

  const check = await checkRegistry(options.verifier, options.domain, { state: options.state, work: path.join(options.work, 'check'), modelFile: options.modelFile, modelSha256: expected });
  result.models = check.ids.length;
  const problems: string[] = [];
  for (const [id, expectation] of models) {
    const listed = check.ids.includes(id);
    if (expectation.listed === true && !listed) {
      result.lost++;
      problems.push(`${id} was uploaded but is not listed`);
    }
    if (expectation.listed === false && listed) problems.push(`${id} was deleted but is listed`);
    if (!listed || expectation.listed === false) continue;
    const inState = check.inState.includes(id);
    if (expectation.inState !== undefined && inState !== expectation.inState) problems.push(`${id} is ${inState ? '' : 'not '}in "${options.state}" although its last state change said otherwise`);
  }
  if (problems.length > 0) throw new InvariantError(`after ${result.operations} operations through faults: ${problems.join('; ')}`);
  return result;
}

/** What `runFaultScenario` needs of a fault-injecting proxy. */
export interface FaultInjector {
  readonly counts: { requests: number } & Record<string, number>;
  setRate(rate: number): void;
}

export interface FaultScenarioOptions {
  proxy: FaultInjector;
  /** Fraction of requests the proxy breaks during the workload. */
  rate: number;
  /** A storage that talks to the store through the proxy... */
  faulty: Storage;
  /** ...and one on the same registry that does not. */
  direct: Storage;
  work: string;
  /** Size of the model uploaded (random bytes), e.g. larger than one part to exercise multipart uploads. */
  modelSize: number;
  operations: number;
  seed: number;
}

export interface FaultScenarioResult extends FaultWorkloadResult {
  /** The proxy's counts: requests seen and faults injected by kind. */
  injected: Record<string, number>;
}

/**
 * `runFaultWorkload` with `ModelStore`s on `faulty` and `direct`: turns the proxy's
 * faults on for the workload and off for the final check.
 */
export async function runFaultScenario(options: FaultScenarioOptions): Promise<FaultScenarioResult> {
  const modelFile = path.join(options.work, 'weights.bin');
  await writeFile(modelFile, randomBytes(options.modelSize));
  const storeOn = (storage: Storage, cache: string) => new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(options.work, cache) });
  options.proxy.setRate(options.rate);
  try {
    const result = await runFaultWorkload({
      store: storeOn(options.faulty, 'cache-faulty'),
      verifier: storeOn(options.direct, 'cache-direct'),
      domain: 'faults',
      state: 'production',
      modelFile,
      work: options.work,
      operations: options.operations,
      seed: options.seed,
      beforeCheck: () => options.proxy.setRate(0),
    });
    return { ...result, injected: { ...options.proxy.counts } };
  } finally {
    options.proxy.setRate(0);
  }
}

/**
 * The body of a crash-injection worker script: builds a storage from the JSON
 * options in `process.argv[2]`, then runs `churn` with the model file in
 * `argv[3]`, the seed in `argv[4]` and the journal file in `argv[5]` (optional),
 * writing "ready" once the first model is in.
 */
export async function runChurnWorker(createStorage: (options: Record<string, unknown>) => Storage): Promise<never> {
  const [optionsJson, modelFile, seed, journal] = process.argv.slice(2);
  if (optionsJson === undefined || modelFile === undefined || seed === undefined) throw new Error('usage: <worker> <storage options as JSON> <model file> <seed> [<journal file>]');
  const store = new ModelStore({ storage: createStorage(JSON.parse(optionsJson) as Record<string, unknown>), adapters: [new RawAdapter()] });
  return churn(store, { domain: 'churn', modelFile, state: 'production', seed: Number(seed), onReady: () => process.stdout.write('ready\n'), ...(journal === undefined ? {} : { journal }) });
}

export interface CrashScenarioOptions {
  runs: number;
  seed: number;
  /** A worker script that calls `runChurnWorker`. */
  worker: string;
  /** The storage options the worker builds its storage from (JSON). */
  storageOptions: Record<string, unknown>;
  /** A storage on the same registry, for the checks. */
  storage: Storage;
  work: string;
  /** Size of the model the worker uploads (random bytes). */
  modelSize: number;
  /** Extra environment of the worker. */
  env?: Record<string, string>;
  /** The store's count of requests in progress, when it reports one (see `CrashInjectionOptions.inFlight`). */
  inFlight?: () => Promise<number>;
}

/** `runCrashInjection` with workers running `worker` on `storageOptions`, checked through `storage`. */
export async function runCrashScenario(options: CrashScenarioOptions): Promise<CrashInjectionResult> {
  const modelFile = path.join(options.work, 'weights.bin');
  await writeFile(modelFile, randomBytes(options.modelSize));
  const store = new ModelStore({ storage: options.storage, adapters: [new RawAdapter()], cacheDir: path.join(options.work, 'cache') });
  return runCrashInjection({
    runs: options.runs,
    seed: options.seed,
    spawnWorker: (run, journal) =>
      spawn(process.execPath, [options.worker, JSON.stringify(options.storageOptions), modelFile, String(options.seed + run), journal], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...options.env },
      }),
    store,
    storage: options.storage,
    ...(options.inFlight ? { inFlight: options.inFlight } : {}),
    domain: 'churn',
    state: 'production',
    work: options.work,
    modelFile,
  });
}

/**
 * Throws `InvariantError` unless a fault run lost nothing, raised only typed errors,
 * left nothing behind after failed downloads, injected faults into at least a
 * quarter as many requests as it ran operations, and still had most operations succeed.
 */
export function assertFaultTolerance(result: FaultScenarioResult): void {
  const problems: string[] = [];
  if (result.untyped.length > 0) problems.push(`${result.untyped.length} operations failed with untyped errors: ${result.untyped.slice(0, 3).join(' | ')}`);
  if (result.lost > 0) problems.push(`${result.lost} models lost`);
  if (result.leftovers > 0) problems.push(`${result.leftovers} failed downloads left files behind`);
  if (result.succeeded <= result.operations / 2) problems.push(`only ${result.succeeded} of ${result.operations} operations succeeded`);
  const injected = ['500', '503', 'stall', 'reset'].reduce((sum, kind) => sum + (result.injected[kind] ?? 0), 0);
  if (injected <= result.operations / 4) problems.push(`only ${injected} faults were injected`);
  if (problems.length > 0) throw new InvariantError(problems.join('; '));
}
