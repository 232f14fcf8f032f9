/**
 * The JSON API behind `modelstore ui` (documented in the CLI package's UI-API.md): every
 * answer comes from core's `ModelStore` methods. Routes are matched on decoded path
 * segments; names are validated by core before any storage request.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createdTime,
  deletedState,
  DomainNotFoundError,
  IntegrityError,
  InvalidArgumentError,
  InvalidNameError,
  ModelDeletedError,
  ModelExistsError,
  ModelNotFoundError,
  ModelStoreError,
  PreconditionFailedError,
  SignatureError,
  StateNotFoundError,
  StorageError,
  validateDomain,
  validateModelId,
  validateStateName,
  type ModelMetadata,
  type ModelStore,
  type ModelSummary,
} from '@modelstore/core';
import { archiveKeyFromLocation, knownAdapters, layout } from '@modelstore/core/internal';
import pMap from 'p-map';
import { adapterSummary } from '../adapter-summaries.js';
import { cliMessage, shellWord } from '../words.js';
import { apiJson, flatten, plainText } from './json.js';

/** What the API serves and how. */
export interface UiApiOptions {
  store: ModelStore;
  /** The store as the user gave it (`--store` or `MODELSTORE_STORE`), for the command lines the model page shows; undefined when it came from `MODEL_STORE_*` variables. */
  storeUri: string | undefined;
  /** Whether the write routes (states, delete) are served. */
  allowWrites: boolean;
  /** How long a domain's model listing is reused between requests, in milliseconds (default 10000; writes through this API drop it at once). */
  listingTtlMs?: number;
}

/** An error the API answers with: HTTP status, code, message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Default and largest page of the models table. */
const defaultLimit = 50;
const maxLimit = 500;
/** Most `extra` keys one page of the models table reads (`columns`). */
const maxColumns = 8;
/** Metadata documents kept in memory for search and the chosen columns (documents of committed models never change). */
const documentCacheSize = 20_000;

/** The HTTP status of an error from core (or of the API's own). */
export function statusOf(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message };
  const message = cliMessage(error);
  if (!ModelStoreError.isInstance(error)) return { status: 500, code: 'ERROR', message };
  const code: string = error.code;
  if (InvalidNameError.isInstance(error) || InvalidArgumentError.isInstance(error)) return { status: 400, code, message };
  if (DomainNotFoundError.isInstance(error) || ModelNotFoundError.isInstance(error) || StateNotFoundError.isInstance(error) || ModelDeletedError.isInstance(error)) return { status: 404, code, message };
  if (ModelExistsError.isInstance(error) || PreconditionFailedError.isInstance(error)) return { status: 409, code, message };
  if (StorageError.isInstance(error) || IntegrityError.isInstance(error)) return { status: 502, code, message };
  return { status: 500, code, message };
}

/** The API: `handle` answers one request whose path starts with `/api/`. */
export class UiApi {
  private readonly store: ModelStore;
  private readonly listingTtlMs: number;
  private readonly listings = new Map<string, { at: number; value: Promise<ModelSummary[]> }>();
  private readonly documents = new Map<string, ModelMetadata>();

  constructor(private readonly options: UiApiOptions) {
    this.store = options.store;
    this.listingTtlMs = options.listingTtlMs ?? 10_000;
  }

  /** Answers `request` (already authenticated by the server); `segments` are the decoded path segments after `/api/`. */
  async handle(request: IncomingMessage, response: ServerResponse, segments: string[], query: URLSearchParams): Promise<void> {
    try {
      await this.route(request, response, segments, query);
    } catch (error) {
      const domain = segments[0] === 'domains' ? segments[1] : undefined;
      if (domain !== undefined && DomainNotFoundError.isInstance(error) && (await this.everyModelDeleted(domain))) {
        throw new ApiError(404, 'DOMAIN_NOT_FOUND', `Every model of domain "${domain}" was deleted (soft deletes, as Python modelstore's): the domain is no longer listed; upload a model to it to use it again`);
      }
      throw error;
    }
  }

  /** Whether a domain core calls missing has soft-deleted models (one list request): every model of it was deleted. */
  private async everyModelDeleted(domain: string): Promise<boolean> {
    const listed = await this.store.storage.list(layout.stateVersions(domain, deletedState), { limit: 1 }).catch(() => undefined);
    return (listed?.objects.length ?? 0) > 0;
  }

  private async route(request: IncomingMessage, response: ServerResponse, segments: string[], query: URLSearchParams): Promise<void> {
    const method = request.method ?? 'GET';
    const [first, domain, second, modelId, third, state] = segments;
    const send = (value: unknown, status = 200) => sendJson(response, status, value);
    if (method === 'GET' && first === 'store' && segments.length === 1) return send(await this.storeInfo());
    if (first !== 'domains') throw new ApiError(404, 'NOT_FOUND', `No API route ${method} /api/${segments.join('/')}: see UI-API.md`);
    if (segments.length === 1 && method === 'GET') return send(await this.domains());
    if (domain === undefined) throw notFound(method, segments);
    validateDomain(domain);
    if (segments.length === 2 && method === 'GET') return send(await this.domain(domain));
    if (second === 'models' && segments.length === 3 && method === 'GET') return send(await this.models(domain, query));
    if (second === 'count' && segments.length === 3 && method === 'GET') return send(await this.count(domain, query));
    if (second === 'compare' && segments.length === 3 && method === 'GET') return send(await this.compare(domain, required(query, 'a'), required(query, 'b')));
    if (second !== 'models' || modelId === undefined) throw notFound(method, segments);
    validateModelId(modelId);
    if (segments.length === 4 && method === 'GET') return send(await this.model(domain, modelId));
    if (segments.length === 5 && third === 'files' && method === 'GET') return send(await this.archiveFiles(domain, modelId));
    if (segments.length === 5 && third === 'archive' && (method === 'GET' || method === 'HEAD')) return this.archive(domain, modelId, response, method === 'HEAD');
    if (segments.length === 4 && method === 'DELETE') {
      this.checkWrites();
      await this.store.getModelInfo(domain, modelId);
      await this.store.deleteModel(domain, modelId);
      this.changed(domain);
      return send({ domain, modelId, deleted: true });
    }
    if (segments.length === 6 && third === 'states' && state !== undefined && (method === 'PUT' || method === 'DELETE')) {
      validateStateName(state);
      this.checkWrites();
      if (method === 'PUT') {
        // As `modelstore state set`: the model first (a missing model creates no state), then the state if it is new.
        await this.store.getModelInfo(domain, modelId);
        const stateCreated = !(await this.store.listModelStates()).includes(state);
        if (stateCreated) await this.store.createModelState(state);
        await this.store.setModelState(domain, modelId, state);
        this.changed(domain);
        return send({ domain, modelId, state, set: true, stateCreated });
      }
      const wasSet = (await this.store.getModelStates(domain, modelId)).includes(state);
      await this.store.removeModelState(domain, modelId, state);
      this.changed(domain);
      return send({ domain, modelId, state, set: false, wasSet });
    }
    throw notFound(method, segments);
  }

  private checkWrites(): void {
    if (!this.options.allowWrites) throw new ApiError(403, 'READ_ONLY', 'This page is read-only: start it with `modelstore ui --allow-writes` to change states or delete models');
  }

  /** Drops what a write made stale. */
  private changed(domain: string): void {
    for (const key of this.listings.keys()) if (key === domain || key.startsWith(`${domain}\n`)) this.listings.delete(key);
  }

  /** A domain's summaries (core's `listModelSummaries`), reused for `listingTtlMs`. */
  private summaries(domain: string, state?: string): Promise<ModelSummary[]> {
    const key = state === undefined ? domain : `${domain}\n${state}`;
    const cached = this.listings.get(key);
    if (cached && Date.now() - cached.at < this.listingTtlMs) return cached.value;
    const value = this.store.listModelSummaries(domain, state === undefined ? {} : { state });
    this.listings.set(key, { at: Date.now(), value });
    value.catch(() => this.listings.delete(key));
    return value;
  }

  /** A model's metadata, kept in memory (a committed document never changes; a deleted model is no longer listed). */
  private async document(domain: string, modelId: string): Promise<ModelMetadata> {
    const key = `${domain}/${modelId}`;
    const cached = this.documents.get(key);
    if (cached) return cached;
    const metadata = await this.store.getModelInfo(domain, modelId);
    if (this.documents.size >= documentCacheSize) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(key, metadata);
    return metadata;
  }

  private async storeInfo() {
    const states = (await this.store.listModelStates()).sort();
    return {
      store: this.options.storeUri ?? null,
      storageType: this.store.storage.describe('operatorai-model-store').type,
      allowWrites: this.options.allowWrites,
      states,
    };
  }

  /** Every domain, the newest latest model first, with its latest model and model count. */
  private async domains() {
    const names = await this.store.listDomains();
    const domains = await pMap(
      names,
      async (name) => {
        try {
          const [latest, summaries] = await Promise.all([this.store.getDomain(name), this.summaries(name)]);
          const row = summaries.find((summary) => summary.modelId === latest.model.model_id);
          return {
            domain: name,
            modelCount: summaries.length,
            latest: {
              modelId: latest.model.model_id,
              createdAt: row?.createdAt ?? iso(createdTime(latest)),
              library: latest.model.model_type?.library ?? null,
              size: row?.size ?? latest.archive?.size ?? null,
              states: row?.states ?? [],
            },
          };
        } catch (error) {
          // One domain that cannot be read (a damaged pointer, every model deleted) does not hide the others.
          if (!ModelStoreError.isInstance(error) || StorageError.isInstance(error)) throw error;
          return { domain: name, modelCount: null, latest: null, error: { code: error.code, message: cliMessage(error) } };
        }
      },
      { concurrency: 8 },
    );
    return { domains };
  }

  /** A domain's latest model and the `extra` keys it records (the columns the models table offers). */
  private async domain(domain: string) {
    const latest = await this.store.getDomain(domain);
    const extra = latest.extra && typeof latest.extra === 'object' ? latest.extra : {};
    return {
      domain,
      latest: { modelId: latest.model.model_id, library: latest.model.model_type?.library ?? null, createdAt: iso(createdTime(latest)) },
      extraKeys: Object.keys(extra).sort(),
    };
  }

  /** Whether the domain's whole listing is in memory and fresh. */
  private listed(domain: string, state?: string): boolean {
    const cached = this.listings.get(state === undefined ? domain : `${domain}\n${state}`);
    return cached !== undefined && Date.now() - cached.at < this.listingTtlMs;
  }

  /** How many models the domain has (in `state`): the length of its whole listing. */
  private async count(domain: string, query: URLSearchParams) {
    const state = query.get('state') || undefined;
    if (state !== undefined) validateStateName(state);
    return { domain, state: state ?? null, total: (await this.summaries(domain, state)).length };
  }

  /**
   * A page of a domain's models, newest first.
   * - With `cursor`, or for the first page when the domain's whole listing is not in
   *   memory (and no `state` or `q`): one page of core's paged `listModelSummaries`
   *   (`limit`, `cursor`: the domain's index, a few storage requests at any size);
   *   `cursor` in the answer continues, `total` is null.
   * - Else without `q`: a slice of the whole `listModelSummaries` at `offset` (no document
   *   read), `total` known.
   * - With `q`: models whose id, states or metadata contain the text (case-insensitive),
   *   reading documents newest first from `offset` until `limit` matches are found; `next`
   *   is where the following page starts, `total` is null until the search reached the end.
   * `columns` (comma-separated `extra` keys) reads the documents of the page's models only.
   */
  private async models(domain: string, query: URLSearchParams) {
    const state = query.get('state') || undefined;
    if (state !== undefined) validateStateName(state);
    const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = integer(query, 'limit', 1, maxLimit, defaultLimit);
    const text = (query.get('q') ?? '').trim().toLowerCase();
    const columns = [
      ...new Set(
        (query.get('columns') ?? '')
          .split(',')
          .map((column) => column.trim())
          .filter(Boolean),
      ),
    ];
    if (columns.length > maxColumns) throw new ApiError(400, 'USAGE', `The query parameter "columns" takes up to ${maxColumns} extra keys, got ${columns.length}`);
    const cursor = query.get('cursor') || undefined;
    let page: ModelSummary[];
    let next: number | null;
    let total: number | null;
    let documentsRead = 0;
    if (!text && state === undefined && (cursor !== undefined || offset === 0)) {
      // The first page always comes from core's paged listing, so that it carries a cursor whenever more models follow.
      // When the whole listing is in memory anyway, its length and the next offset are given too.
      const known = cursor === undefined && this.listed(domain) ? (await this.summaries(domain)).length : null;
      const paged = await this.store.listModelSummaries(domain, { limit, ...(cursor === undefined ? {} : { cursor }) });
      const following = known !== null && paged.cursor !== undefined && paged.models.length < known ? paged.models.length : null;
      return { domain, state: null, q: null, offset, limit, total: known, next: following, cursor: paged.cursor ?? null, models: await this.withColumns(domain, paged.models, columns), documentsRead };
    }
    const all = await this.summaries(domain, state);
    if (!text) {
      page = all.slice(offset, offset + limit);
      next = offset + limit < all.length ? offset + limit : null;
      total = all.length;
    } else {
      page = [];
      let position = offset;
      // Documents in batches of 16 read at once; a batch that overshoots the page stops where the page is full.
      while (position < all.length && page.length < limit) {
        const batch = all.slice(position, position + 16);
        const matches = await pMap(batch, async (summary) => {
          if (summary.modelId.toLowerCase().includes(text) || summary.states.some((name) => name.toLowerCase().includes(text))) return true;
          documentsRead++;
          const metadata = await this.document(domain, summary.modelId).catch((error: unknown) => (ModelDeletedError.isInstance(error) || ModelNotFoundError.isInstance(error) ? undefined : Promise.reject(error)));
          return metadata !== undefined && searchable(metadata).includes(text);
        });
        for (let index = 0; index < batch.length; index++) {
          position++;
          if (matches[index]) page.push(batch[index]!);
          if (page.length === limit) break;
        }
      }
      next = position < all.length ? position : null;
      total = next === null && offset === 0 ? page.length : null;
    }
    return { domain, state: state ?? null, q: text || null, offset, limit, total, next, cursor: null, models: await this.withColumns(domain, page, columns), documentsRead };
  }

  /** The page's models with the chosen `extra` keys of each (one document read per model, kept in memory). */
  private withColumns(domain: string, page: ModelSummary[], columns: string[]) {
    return pMap(
      page,
      async (summary) => {
        if (columns.length === 0) return summary;
        const metadata = await this.document(domain, summary.modelId).catch(() => undefined);
        const extra = (metadata?.extra ?? {}) as Record<string, unknown>;
        return { ...summary, columns: Object.fromEntries(columns.map((column) => [column, Object.hasOwn(extra, column) ? extra[column] : null])) };
      },
      { concurrency: 16 },
    );
  }

  /** A model's page: metadata, states, files with digests, signature, what its adapter recorded, and command lines. */
  private async model(domain: string, modelId: string) {
    const metadata = await this.store.getModelInfo(domain, modelId);
    const archiveKey = archiveKeyFromLocation(metadata.storage) ?? null;
    const [states, documentInfo, archiveInfo, signature] = await Promise.all([
      this.store.getModelStates(domain, modelId),
      metadata.code?.created_at ? undefined : this.store.storage.head(layout.version(domain, modelId)),
      metadata.archive?.size === undefined && archiveKey ? this.store.storage.head(archiveKey).catch(() => undefined) : undefined,
      this.signature(domain, modelId),
    ]);
    const files = Object.entries(metadata.archive?.files ?? {})
      .map(([name, digest]) => ({ path: name, size: digest.size, sha256: digest.sha256, modelstore: name === 'model-info.json' }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const summary = adapterSummary(metadata);
    return {
      domain,
      modelId,
      createdAt: iso(createdTime(metadata, documentInfo?.lastModified)),
      library: metadata.model.model_type?.library ?? null,
      type: metadata.model.model_type?.type ?? null,
      states,
      archive: {
        key: archiveKey,
        size: metadata.archive?.size ?? archiveInfo?.size ?? null,
        sha256: metadata.archive?.sha256 ?? null,
        // Python modelstore records no digests: its archives are served as stored, unverified.
        verified: typeof metadata.archive?.sha256 === 'string',
        files: metadata.archive?.files ? files : null,
        directories: metadata.archive?.directories ?? null,
      },
      signature,
      adapter: { library: metadata.model.model_type?.library ?? null, summary: summary.lines.map(([label, value]) => ({ label, value })), parameters: metadata.model.parameters ?? null },
      commands: this.commands(domain, modelId, metadata.model.model_type?.library ?? null),
      metadata,
    };
  }

  /** The model's signature as core's `getSignature` parses it (not verified), `null` when unsigned, or why it cannot be told. */
  private async signature(domain: string, modelId: string) {
    try {
      const info = await this.store.getSignature(domain, modelId);
      return info === undefined ? { status: 'unsigned' } : { status: 'signed', ...info };
    } catch (error) {
      if (SignatureError.isInstance(error)) return { status: error.reason === 'unsupported' ? 'unavailable' : 'malformed', message: error.message };
      throw error;
    }
  }

  /** The command lines (CLI, Node, Python) that download or load the model. */
  private commands(domain: string, modelId: string, library: string | null) {
    const uri = this.options.storeUri;
    const local = uri !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? path.resolve(uri) : uri;
    const store = local === undefined ? '' : ` --store ${shellWord(local)}`;
    const folder = `${domain}-${modelId}`;
    const js = (text: string) => JSON.stringify(text);
    const adapter = library !== null && Object.hasOwn(knownAdapters, library) ? knownAdapters[library] : undefined;
    const storeArguments = [local === undefined ? 'undefined' : js(local), ...(adapter ? [`{ adapters: [new ${adapter.className}()] }`] : [])];
    const commands: Array<{ label: string; language: string; text: string }> = [
      { label: 'download (CLI)', language: 'sh', text: `modelstore${store} download ${shellWord(domain)} ${shellWord(modelId)} --to ${shellWord(folder)}` },
      { label: 'metadata (CLI)', language: 'sh', text: `modelstore${store} --json info ${shellWord(domain)} ${shellWord(modelId)}` },
      {
        label: 'download or load (Node)',
        language: 'js',
        text: [
          "import { openModelStore } from '@modelstore/core';",
          ...(adapter ? [`import { ${adapter.className} } from '${adapter.package}';`] : []),
          `const store = await openModelStore(${storeArguments.join(', ').replace(/^undefined$/, '')});`,
          `await store.download(${js(domain)}, { modelId: ${js(modelId)}, to: ${js(folder)} });`,
          adapter ? `const model = await store.load(${js(domain)}, { modelId: ${js(modelId)} });` : `// store.load needs an adapter for the library ${js(library ?? 'none recorded')}: none of @modelstore's adapters loads it`,
        ].join('\n'),
      },
    ];
    const python = pythonStore(local);
    if (python) {
      commands.push({
        label: 'download (Python modelstore)',
        language: 'python',
        text: [
          'import os',
          'from modelstore import ModelStore',
          `model_store = ${python}`,
          // Python modelstore's download needs local_path to exist.
          `os.makedirs(${js(folder)}, exist_ok=True)`,
          `model_store.download(local_path=${js(folder)}, domain=${js(domain)}, model_id=${js(modelId)})`,
        ].join('\n'),
      });
    }
    return commands;
  }

  /**
   * The files of a model whose metadata records none (written by Python modelstore):
   * core downloads and verifies it into a temporary folder, each file is hashed there,
   * and the folder is removed.
   */
  private async archiveFiles(domain: string, modelId: string) {
    const metadata = await this.store.getModelInfo(domain, modelId);
    if (metadata.archive?.files) return { domain, modelId, source: 'metadata', files: Object.entries(metadata.archive.files).map(([name, digest]) => ({ path: name, size: digest.size, sha256: digest.sha256 })) };
    const work = await mkdtemp(path.join(tmpdir(), 'modelstore-ui-'));
    try {
      const folder = await this.store.download(domain, { modelId, to: path.join(work, 'model') });
      const files: Array<{ path: string; size: number; sha256: string }> = [];
      const walk = async (directory: string, prefix: string): Promise<void> => {
        for (const entry of await readdir(directory, { withFileTypes: true })) {
          const full = path.join(directory, entry.name);
          if (entry.isDirectory()) await walk(full, `${prefix}${entry.name}/`);
          else {
            const bytes = await readFile(full);
            files.push({ path: `${prefix}${entry.name}`, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
          }
        }
      };
      await walk(folder, '');
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      return { domain, modelId, source: 'archive', files };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Streams the model's archive as stored. When the metadata records the archive's sha256
   * and size, the bytes are hashed as they pass and the last chunk is held back until the
   * digest matches: on a mismatch the connection is cut before the last byte, so the
   * browser reports a failed download and never holds a complete file with wrong bytes.
   */
  private async archive(domain: string, modelId: string, response: ServerResponse, headOnly = false): Promise<void> {
    const metadata = await this.store.getModelInfo(domain, modelId);
    const key = archiveKeyFromLocation(metadata.storage);
    if (!key) throw new ApiError(404, 'NOT_FOUND', `Model "${modelId}" of domain "${domain}" names no archive in its metadata`);
    const object = await this.store.storage.get(key);
    if (!object) throw new ApiError(404, 'NOT_FOUND', `The archive of model "${modelId}" (${key}) is missing from the store`);
    const expected = metadata.archive;
    if (expected && expected.size !== object.size) {
      (object.body as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
      throw new ApiError(502, 'INTEGRITY', `The archive of model "${modelId}" is ${object.size} bytes, its metadata records ${expected.size}: it was changed or damaged`);
    }
    response.writeHead(200, {
      'content-type': 'application/gzip',
      'content-length': String(object.size),
      'content-disposition': contentDisposition(`${domain}-${modelId}.tar.gz`),
      'x-modelstore-sha256': expected?.sha256 ?? '',
      'x-modelstore-verified': expected ? 'sha256' : 'none',
      'cache-control': 'no-store',
    });
    if (headOnly) {
      // HEAD: the checks of a download (the metadata, the archive there, its recorded size) without the bytes.
      (object.body as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
      response.end();
      return;
    }
    const hash = createHash('sha256');
    let held: Buffer | undefined;
    const verify = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        const previous = held;
        held = chunk;
        done(null, previous);
      },
      flush(done) {
        const digest = hash.digest('hex');
        if (expected && digest !== expected.sha256) {
          done(new ApiError(502, 'INTEGRITY', `The archive of model "${modelId}" has sha256 ${digest}, its metadata records ${expected.sha256}`));
          return;
        }
        done(null, held);
      },
    });
    try {
      await pipeline(object.body, verify, response);
    } catch {
      // Headers are sent: cutting the connection is the only way left to say the body is wrong.
      response.destroy();
    }
  }

  /** Two models of a domain side by side: metadata leaves that differ, and files added, removed or changed by sha256. */
  private async compare(domain: string, a: string, b: string) {
    validateModelId(a);
    validateModelId(b);
    const [left, right] = await Promise.all([this.store.getModelInfo(domain, a), this.store.getModelInfo(domain, b)]);
    const strip = (metadata: ModelMetadata) => {
      const { archive: _archive, ...rest } = metadata;
      return rest;
    };
    const leftLeaves = flatten(strip(left));
    const rightLeaves = flatten(strip(right));
    const metadata: Array<{ path: string; a: unknown; b: unknown; change: 'added' | 'removed' | 'changed' | 'same' }> = [];
    for (const key of [...new Set([...leftLeaves.keys(), ...rightLeaves.keys()])].sort()) {
      const inA = leftLeaves.has(key);
      const inB = rightLeaves.has(key);
      const valueA = leftLeaves.get(key);
      const valueB = rightLeaves.get(key);
      metadata.push({ path: key, a: inA ? valueA : null, b: inB ? valueB : null, change: !inA ? 'added' : !inB ? 'removed' : plainText(valueA) === plainText(valueB) ? 'same' : 'changed' });
    }
    const filesA = left.archive?.files;
    const filesB = right.archive?.files;
    const files = { known: filesA !== undefined && filesB !== undefined, added: [] as unknown[], removed: [] as unknown[], changed: [] as unknown[], same: [] as unknown[] };
    if (filesA && filesB) {
      for (const name of [...new Set([...Object.keys(filesA), ...Object.keys(filesB)])].sort()) {
        const x = filesA[name];
        const y = filesB[name];
        if (!x) files.added.push({ path: name, b: y });
        else if (!y) files.removed.push({ path: name, a: x });
        else if (x.sha256 !== y.sha256) files.changed.push({ path: name, a: x, b: y });
        else files.same.push({ path: name, a: x, b: y });
      }
    }
    const [statesA, statesB] = await Promise.all([this.store.getModelStates(domain, a), this.store.getModelStates(domain, b)]);
    const side = (metadata: ModelMetadata, states: string[]) => ({
      modelId: metadata.model.model_id,
      createdAt: iso(createdTime(metadata)),
      library: metadata.model.model_type?.library ?? null,
      size: metadata.archive?.size ?? null,
      sha256: metadata.archive?.sha256 ?? null,
      states,
    });
    return { domain, a: side(left, statesA), b: side(right, statesB), metadata, files };
  }
}

/** Writes a JSON answer. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = apiJson(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  response.end(body);
}

function notFound(method: string, segments: string[]): ApiError {
  return new ApiError(404, 'NOT_FOUND', `No API route ${method} /api/${segments.map(encodeURIComponent).join('/')}: see UI-API.md`);
}

function required(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (!value) throw new ApiError(400, 'USAGE', `The query parameter "${name}" is required`);
  return value;
}

function integer(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new ApiError(400, 'USAGE', `The query parameter "${name}" takes an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function iso(time: number): string | null {
  return time > 0 && Number.isFinite(time) ? new Date(time).toISOString() : null;
}

/** The text a search looks through: the model's id, type, parameters, data, extra and code (git, dependencies). */
function searchable(metadata: ModelMetadata): string {
  return plainText({ model: metadata.model, extra: metadata.extra, code: metadata.code }).toLowerCase();
}

/** Python modelstore's constructor for the same store, when the URI tells it. */
function pythonStore(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  const js = (text: string) => JSON.stringify(text);
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?]*)\/?([^?]*)/i.exec(uri);
  if (!match) return `ModelStore.from_file_system(root_directory=${js(uri)})`;
  const [, scheme, bucket, prefix] = match;
  const root = prefix ? `, root_prefix=${js(decodeURIComponent(prefix))}` : '';
  switch (scheme!.toLowerCase()) {
    case 'file':
      return `ModelStore.from_file_system(root_directory=${js(decodeURIComponent(new URL(uri).pathname))})`;
    case 's3':
      return `ModelStore.from_aws_s3(bucket_name=${js(bucket!)}${root})`;
    case 'gs':
      return `ModelStore.from_gcloud(bucket_name=${js(bucket!)}${root})`;
    case 'azure':
      return `ModelStore.from_azure(container_name=${js(bucket!)}${root})`;
    default:
      return undefined;
  }
}

/**
 * A `Content-Disposition: attachment` header for `name` (RFC 6266): an ASCII `filename`
 * (other characters as `_`) and, when the name is not plain ASCII, `filename*` with its
 * UTF-8 bytes percent-encoded (RFC 8187, formerly 5987).
 */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, '_');
  if (ascii === name) return `attachment; filename="${ascii}"`;
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
