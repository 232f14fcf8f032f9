import { BlobServiceClient, RestError, newPipeline, type RequestPolicyFactory, type BlobItem, type BlobRequestConditions, type ContainerClient, type ContainerListBlobFlatSegmentResponse } from '@azure/storage-blob';
import {
  PreconditionFailedError,
  StorageError,
  abortReason,
  bodyToReadable,
  bodyBytes,
  resumingBody,
  validateKey,
  validatePrefix,
  validateRange,
  type Body,
  type GetOptions,
  type ListOptions,
  type ListResult,
  type ObjectInfo,
  type PutOptions,
  type Storage,
  type StorageLocation,
  type StoredObject,
  InvalidOptionError,
} from '@modelstore/core';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

export interface AzureBlobStorageOptions {
  /** The container. It must exist: the storage never creates containers. */
  container: string;
  /** A folder inside the container that holds the registry (Python modelstore's `root_prefix`). */
  rootPrefix?: string;
  /** Default: `AZURE_STORAGE_CONNECTION_STRING`, as Python modelstore reads it. */
  connectionString?: string;
  /** A client you configured yourself (any credential); `connectionString` is then ignored. */
  client?: BlobServiceClient;
  /** Block size of streamed uploads (default 8 MiB). Bodies of known size up to one block use a single PUT. */
  blockSize?: number;
  /** Blocks uploaded at once (default 4). An upload holds about `blockSize * (concurrency + 1)` in memory. */
  concurrency?: number;
  /**
   * Attempts per request, the first included (default 5). The SDK retries 500, 503,
   * timeouts and broken connections with exponential backoff from `retryDelayMs`.
   * Ignored with `client`.
   */
  maxAttempts?: number;
  /** First retry delay of the exponential backoff (default 1 000 ms; at most 30 s between attempts). Ignored with `client`. */
  retryDelayMs?: number;
  /**
   * A connection that moves no bytes for this long is dropped and the request
   * retried (default 60 000 ms). The SDK sets no client-side timeout of its own:
   * without one, a stalled connection hangs forever. Ignored with `client`.
   */
  idleTimeoutMs?: number;
}

const azureDefaults = { maxAttempts: 5, retryDelayMs: 1000, idleTimeoutMs: 60_000 } as const;

/** An agent whose connections fail with ETIMEDOUT (which the storage retry policy retries) after `idleMs` without traffic. */
function idleTimeoutAgent<T extends typeof http.Agent | typeof https.Agent>(Base: T, idleMs: number): InstanceType<T> {
  const agent = new Base({ keepAlive: true }) as InstanceType<T>;
  const create = (agent as unknown as { createConnection(...args: unknown[]): Socket }).createConnection.bind(agent);
  (agent as unknown as { createConnection(...args: unknown[]): Socket }).createConnection = (...args: unknown[]) => {
    const socket = create(...args);
    socket.setTimeout(idleMs, () => {
      // A pooled socket between requests just closes; one carrying a request fails it.
      const busy = (socket as unknown as { _httpMessage?: unknown })._httpMessage != null;
      socket.destroy(busy ? Object.assign(new Error(`no bytes moved for ${idleMs} ms`), { code: 'ETIMEDOUT' }) : undefined);
    });
    return socket;
  };
  return agent;
}

/** A request policy that sends every request through the idle-timeout agents. */
function idleTimeoutPolicy(idleMs: number): RequestPolicyFactory {
  const agents = { http: idleTimeoutAgent(http.Agent, idleMs), https: idleTimeoutAgent(https.Agent, idleMs) };
  return {
    create: (next) => ({
      sendRequest: (request) => {
        request.agent = request.url.startsWith('https:') ? agents.https : agents.http;
        return next.sendRequest(request);
      },
    }),
  };
}

const retryableCodes = new Set(['ServerBusy', 'OperationTimedOut', 'InternalError', 'REQUEST_SEND_ERROR', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : (error as { statusCode?: number } | undefined)?.statusCode;
}

function errorCodeOf(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; details?: { errorCode?: unknown } } | undefined;
  const code = candidate?.details?.errorCode ?? candidate?.code;
  return typeof code === 'string' ? code : undefined;
}

/** ETags in one form: listings return them bare, other responses quoted. */
function quoted(etag: string | undefined): string {
  if (!etag) return '';
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/**
 * A `Storage` in an Azure Blob Storage container, on `@azure/storage-blob`.
 * Bodies stream as staged blocks committed in one step (`uploadStream`), reads
 * stream, and create-only / compare-and-swap writes use ETag conditions.
 */
export class AzureBlobStorage implements Storage {
  readonly specificationVersion = 'v1' as const;
  readonly capabilities = { conditionalWrites: true, rangeReads: true } as const;
  readonly container: string;
  readonly rootPrefix: string;
  readonly client: BlobServiceClient;
  private readonly containerClient: ContainerClient;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private readonly idleTimeoutMs: number;

  constructor(options: AzureBlobStorageOptions) {
    if (!options || typeof options.container !== 'string' || options.container === '') {
      throw new InvalidOptionError('container', 'AzureBlobStorage needs a container: new AzureBlobStorage({ container: "models" })');
    }
    this.container = options.container;
    this.rootPrefix = (options.rootPrefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.rootPrefix !== '') validatePrefix(`${this.rootPrefix}/`);
    if (options.client) {
      this.client = options.client;
    } else {
      const connectionString = options.connectionString ?? process.env.AZURE_STORAGE_CONNECTION_STRING;
      if (!connectionString) {
        throw new StorageError('AzureBlobStorage needs a connection string: pass connectionString, set AZURE_STORAGE_CONNECTION_STRING (as Python modelstore does), or pass a client built with a credential');
      }
      try {
        // The client the connection string describes (URL, credential), on a pipeline
        // with this library's retry options and the idle timeout in front.
        const base = BlobServiceClient.fromConnectionString(connectionString);
        const pipeline = newPipeline(base.credential, {
          retryOptions: {
            maxTries: Math.max(1, options.maxAttempts ?? azureDefaults.maxAttempts),
            retryDelayInMs: options.retryDelayMs ?? azureDefaults.retryDelayMs,
            maxRetryDelayInMs: 30_000,
          },
        });
        pipeline.factories.unshift(idleTimeoutPolicy(options.idleTimeoutMs ?? azureDefaults.idleTimeoutMs));
        this.client = new BlobServiceClient(base.url, pipeline);
      } catch (error) {
        // The SDK's message may quote the string; ours never does, since it holds the account key.
        throw new StorageError(
          'The Azure Storage connection string is not valid: expected "DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net" (copy it from the storage account\'s "Access keys" page), or a SAS form with BlobEndpoint and SharedAccessSignature',
          { cause: new Error(errorCodeOf(error) ?? 'invalid connection string') },
        );
      }
    }
    this.containerClient = this.client.getContainerClient(this.container);
    this.blockSize = options.blockSize ?? 8 * 1024 * 1024;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.idleTimeoutMs = options.idleTimeoutMs ?? azureDefaults.idleTimeoutMs;
  }

  describe(key: string): StorageLocation {
    return { type: 'azure:blob-storage', container: this.container, prefix: this.fullKey(key) };
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const blob = this.containerClient.getBlockBlobClient(this.fullKey(key));
    const { signal } = options;
    signal?.throwIfAborted();
    const conditions: BlobRequestConditions = {
      ...(options.ifNoneMatch === '*' ? { ifNoneMatch: '*' } : {}),
      ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    };
    const common = {
      conditions,
      ...(options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    };
    let size = 0;
    try {
      const bytes = bodyBytes(body);
      let response: { etag?: string; lastModified?: Date };
      if (bytes !== undefined && bytes.length <= this.blockSize) {
        response = await blob.upload(bytes, bytes.length, common);
        size = bytes.length;
        options.onProgress?.(size);
      } else {
        // Read up to one block first: a body that fits is sent in a single PUT, which is
        // one request and, unlike staged blocks, cannot collide with another writer's blocks.
        const source = bodyToReadable(body)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const head: Buffer[] = [];
        let headSize = 0;
        let ended = false;
        while (headSize <= this.blockSize) {
          if (signal?.aborted) throw abortReason(signal);
          const next = await source.next();
          if (next.done) {
            ended = true;
            break;
          }
          head.push(next.value);
          headSize += next.value.length;
          options.onProgress?.(headSize);
        }
        size = headSize;
        if (ended) {
          response = await blob.upload(Buffer.concat(head, headSize), headSize, common);
        } else {
          async function* rest() {
            yield* head;
            for (let next = await source.next(); !next.done; next = await source.next()) {
              size += next.value.length;
              options.onProgress?.(size);
              yield next.value;
            }
          }
          // Blocks are staged unconditionally and invisibly; the condition applies to the commit.
          response = await blob.uploadStream(Readable.from(rest(), { objectMode: false }), this.blockSize, this.concurrency, common);
        }
      }
      if (signal?.aborted) throw abortReason(signal);
      return { key, size, etag: quoted(response.etag), lastModified: response.lastModified ?? new Date() };
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      // If-Match on a blob that no longer exists.
      if (options.ifMatch !== undefined && statusOf(error) === 404 && errorCodeOf(error) === 'BlobNotFound') throw new PreconditionFailedError(key, undefined, { cause: error });
      throw this.mapError('write', key, error);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | undefined> {
    const blob = this.containerClient.getBlobClient(this.fullKey(key));
    const range = options.range;
    validateRange(key, range);
    try {
      const signal = options.signal ? { abortSignal: options.signal } : {};
      // Resumption is done by resumingBody, the same way for every backend.
      const response = await blob.download(range?.start ?? 0, range?.end === undefined ? undefined : range.end - range.start + 1, { ...signal, maxRetryRequests: 0 });
      const total = response.contentRange ? Number(response.contentRange.split('/')[1]) : (response.contentLength ?? 0);
      const etag = quoted(response.etag);
      const body = resumingBody(response.readableStreamBody!, {
        size: total,
        ...(range ? { range } : {}),
        reopen: async (from, to) => (await blob.download(from, to - from + 1, { ...signal, maxRetryRequests: 0, conditions: { ifMatch: etag } })).readableStreamBody!,
        changed: (error) => statusOf(error) === 412 || statusOf(error) === 404,
        what: `Azure read of ${this.container}/${this.fullKey(key)}`,
        mapError: (error) => this.mapError('read', key, error) as Error,
        idleTimeoutMs: this.idleTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { key, size: total, etag, lastModified: response.lastModified ?? new Date(0), body };
    } catch (error) {
      if (statusOf(error) === 404 && errorCodeOf(error) !== 'ContainerNotFound') return undefined;
      throw this.mapError('read', key, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const blob = this.containerClient.getBlobClient(this.fullKey(key));
    try {
      const properties = await blob.getProperties();
      return { key, size: properties.contentLength ?? 0, etag: quoted(properties.etag), lastModified: properties.lastModified ?? new Date(0) };
    } catch (error) {
      // HEAD responses carry no error body: a missing container looks like a missing blob.
      if (statusOf(error) === 404) return undefined;
      throw this.mapError('head', key, error);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    validatePrefix(prefix);
    const fullPrefix = this.rootPrefix === '' ? prefix : `${this.rootPrefix}/${prefix}`;
    try {
      const pages = this.containerClient
        .listBlobsFlat({ prefix: fullPrefix })
        .byPage({ maxPageSize: Math.max(1, Math.min(options.limit ?? 1000, 1000)), ...(options.cursor === undefined ? {} : { continuationToken: options.cursor }) });
      const result = await pages.next();
      const page = result.done ? undefined : (result.value as ContainerListBlobFlatSegmentResponse);
      const strip = this.rootPrefix === '' ? 0 : this.rootPrefix.length + 1;
      const objects: ObjectInfo[] = (page?.segment.blobItems ?? []).map((item: BlobItem) => ({
        key: item.name.slice(strip),
        size: item.properties.contentLength ?? 0,
        etag: quoted(item.properties.etag),
        lastModified: item.properties.lastModified,
      }));
      const cursor = page?.continuationToken;
      return cursor ? { objects, cursor } : { objects };
    } catch (error) {
      throw this.mapError('list', prefix, error);
    }
  }

  async delete(key: string): Promise<boolean> {
    const blob = this.containerClient.getBlobClient(this.fullKey(key));
    try {
      return (await blob.deleteIfExists()).succeeded;
    } catch (error) {
      throw this.mapError('delete', key, error);
    }
  }

  private fullKey(key: string): string {
    validateKey(key);
    return this.rootPrefix === '' ? key : `${this.rootPrefix}/${key}`;
  }

  /** Maps an SDK error to a core error that says what to do; never includes the account key. */
  private mapError(operation: string, key: string, error: unknown): unknown {
    if ((error as { name?: string } | undefined)?.name === 'AbortError' || StorageError.isInstance(error) || PreconditionFailedError.isInstance(error)) return error;
    const status = statusOf(error);
    const code = errorCodeOf(error);
    const where = `azure://${this.container}/${this.rootPrefix === '' ? key : `${this.rootPrefix}/${key}`}`;
    if (status === 412 || code === 'ConditionNotMet' || code === 'BlobAlreadyExists' || (status === 409 && code === 'BlobAlreadyExists')) {
      return new PreconditionFailedError(key, undefined, { cause: error });
    }
    if (code === 'ContainerNotFound') {
      return new StorageError(`Azure ${operation} of ${where} failed: the container "${this.container}" does not exist. Create it (az storage container create --name ${this.container}) or check the name`, { cause: error });
    }
    if (status === 403 || status === 401 || code === 'AuthenticationFailed' || code === 'AuthorizationFailure') {
      return new StorageError(`Azure ${operation} of ${where} was refused (${code ?? status}): check the account name and key in the connection string (AZURE_STORAGE_CONNECTION_STRING) or the SAS token's permissions and expiry`, { cause: error });
    }
    if (code === 'InvalidBlockList') {
      return new StorageError(`Azure ${operation} of ${where} failed: another writer committed the same blob while this one was staging blocks (InvalidBlockList); nothing was changed by this write, try it again`, { cause: error, retryable: true });
    }
    const retryable = (status !== undefined && (status >= 500 || status === 408 || status === 429)) || (code !== undefined && retryableCodes.has(code)) || status === undefined;
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
    return new StorageError(`Azure ${operation} of ${where} failed (${code ?? status ?? 'error'}): ${message}`, { cause: error, retryable });
  }
}
