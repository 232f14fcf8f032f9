import {
  AnonymousCredential,
  BlobServiceClient,
  RestError,
  type StorageSharedKeyCredential,
  newPipeline,
  type RequestPolicyFactory,
  type BlobItem,
  type BlobRequestConditions,
  type ContainerClient,
  type ContainerListBlobFlatSegmentResponse,
} from '@azure/storage-blob';
import { MissingDependencyError, StorageError } from '@modelstore/core';
import type { Body, GetOptions, ListOptions, ListResult, ObjectInfo, PutOptions, StorageLocation, StoredObject } from '@modelstore/core';
import { ScopedStorage, abortReason, bodyBytes, listPageSize, peekBody, requiredName, storageScope, validateRange, type SdkErrors } from '@modelstore/core/storage-kit';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/**
 * A Microsoft Entra ID credential (`@azure/core-auth`'s `TokenCredential`), such as
 * `@azure/identity`'s `DefaultAzureCredential`, `ManagedIdentityCredential` or
 * `WorkloadIdentityCredential`: an object whose `getToken(scopes)` resolves to
 * `{ token, expiresOnTimestamp }` (milliseconds since the epoch).
 */
export type AzureTokenCredential = Exclude<Parameters<typeof newPipeline>[0], StorageSharedKeyCredential | AnonymousCredential | undefined>;

/** The credentials `AzureBlobStorage` accepts with `account` or `endpoint`. */
export type AzureCredential = AzureTokenCredential | StorageSharedKeyCredential | AnonymousCredential;

export interface AzureBlobStorageOptions {
  /** The container. It must exist: the storage never creates containers. */
  container: string;
  /** A folder inside the container that holds the registry (Python modelstore's `root_prefix`). */
  rootPrefix?: string;
  /** Default: `AZURE_STORAGE_CONNECTION_STRING`, as Python modelstore reads it. */
  connectionString?: string;
  /** A client you configured yourself (any credential); every other connection option is then ignored. */
  client?: BlobServiceClient;
  /**
   * The storage account's name: the blob service is `https://<account>.blob.core.windows.net`.
   * With `account` (or `endpoint`) and no `connectionString`, the credential is `credential`, else
   * the SAS token (`sasToken`, default `AZURE_STORAGE_SAS_TOKEN`), else Microsoft Entra ID through
   * `@azure/identity`'s `DefaultAzureCredential` (environment, workload identity, managed identity,
   * Azure CLI login...; `@azure/identity` is an optional peer dependency, loaded only then).
   */
  account?: string;
  /**
   * The blob service URL, for endpoints other than `https://<account>.blob.core.windows.net`
   * (sovereign clouds, Azurite: `http://127.0.0.1:10000/devstoreaccount1`). Wins over `account`.
   */
  endpoint?: string;
  /**
   * The credential for `account` / `endpoint`: a Microsoft Entra ID `TokenCredential` (any
   * `@azure/identity` credential), a `StorageSharedKeyCredential` or an `AnonymousCredential`.
   * Default: a SAS token if there is one, else `DefaultAzureCredential`.
   */
  credential?: AzureCredential;
  /**
   * A shared access signature (`sv=...&sig=...`, with or without the leading `?`) appended to
   * every request to `account` / `endpoint`. Default: `AZURE_STORAGE_SAS_TOKEN`. Ignored with `credential`.
   */
  sasToken?: string;
  /** Block size of streamed uploads (default 8 MiB). Bodies of known size up to one block use a single PUT. */
  blockSize?: number;
  /** Blocks uploaded at once (default 4). An upload holds about `blockSize * (concurrency + 1)` in memory. */
  concurrency?: number;
  /**
   * Attempts per request, the first included (default 5). The SDK retries 500, 503,
   * timeouts and broken connections with exponential backoff from `retryDelayMs`.
   * Ignored with `client`; applies to every client this storage builds (connection string, SAS, Entra ID).
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

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : (error as { statusCode?: number } | undefined)?.statusCode;
}

function errorCodeOf(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; details?: { errorCode?: unknown } } | undefined;
  const code = candidate?.details?.errorCode ?? candidate?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * How `@azure/storage-blob` reports errors, for the kit's error mapper: `RestError`'s
 * `statusCode`, the service's error code in `details.errorCode` (else the transport's
 * `code`), and Blob Storage's codes
 * (https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes).
 */
function containerErrors(container: string): SdkErrors {
  return {
    name: 'Azure',
    status: statusOf,
    code: errorCodeOf,
    retryableCodes: ['ServerBusy', 'OperationTimedOut', 'InternalError', 'REQUEST_SEND_ERROR'],
    preconditionCodes: ['ConditionNotMet', 'BlobAlreadyExists'],
    notFoundCodes: ['BlobNotFound'],
    refusedCodes: ['AuthenticationFailed', 'AuthorizationFailure'],
    refusedHint: "check the account name and key in the connection string (AZURE_STORAGE_CONNECTION_STRING) or the SAS token's permissions and expiry",
    missingRoot: (facts) => (facts.code === 'ContainerNotFound' ? `the container "${container}" does not exist. Create it (az storage container create --name ${container}) or check the name` : undefined),
    explain: (facts, error) => {
      if (facts.code === 'InvalidBlockList') {
        return { hint: 'another writer committed the same blob while this one was staging blocks (InvalidBlockList); nothing was changed by this write, try it again', retryable: true };
      }
      if (isCredentialFailure(error)) return { hint: entraIdHint(error), retryable: false };
      return undefined;
    },
  };
}

/**
 * A pipeline with this library's retry options and the idle timeout in front, for any credential:
 * every client the storage builds (connection string, SAS token, Entra ID) keeps them.
 */
function storagePipeline(credential: AzureCredential | undefined, options: AzureBlobStorageOptions) {
  const pipeline = newPipeline(credential, {
    retryOptions: {
      maxTries: Math.max(1, options.maxAttempts ?? azureDefaults.maxAttempts),
      retryDelayInMs: options.retryDelayMs ?? azureDefaults.retryDelayMs,
      maxRetryDelayInMs: 30_000,
    },
  });
  pipeline.factories.unshift(idleTimeoutPolicy(options.idleTimeoutMs ?? azureDefaults.idleTimeoutMs));
  return pipeline;
}

/** `require` for optional peers, from this module (ESM build and jest alike). */
const requireOptional = createRequire(import.meta.url);

/**
 * `@azure/identity`'s `DefaultAzureCredential`, loaded only when a storage needs it.
 * @throws MissingDependencyError (`packageName: '@azure/identity'`) when it is not installed.
 */
export function defaultAzureCredential(): AzureTokenCredential {
  let identity: { DefaultAzureCredential: new () => AzureTokenCredential };
  try {
    identity = requireOptional('@azure/identity') as typeof identity;
  } catch (error) {
    throw new MissingDependencyError(
      '@azure/identity',
      'Signing in to Azure with Microsoft Entra ID (an account and no SAS token or connection string) needs @azure/identity: npm install @azure/identity@4.13.1. Or set AZURE_STORAGE_SAS_TOKEN, or AZURE_STORAGE_CONNECTION_STRING without an account',
      { cause: error },
    );
  }
  return new identity.DefaultAzureCredential();
}

/** The blob service URL of `account` / `endpoint`, without a trailing `/`. */
function serviceUrl(options: AzureBlobStorageOptions): string {
  if (options.endpoint) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new StorageError(`The Azure endpoint "${options.endpoint}" is not a URL: expected https://<account>.blob.core.windows.net or, for Azurite, http://127.0.0.1:10000/devstoreaccount1`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new StorageError(`The Azure endpoint "${options.endpoint}" must be an http:// or https:// URL`);
    if (url.search) throw new StorageError('The Azure endpoint must not carry a query: give a SAS token as sasToken or AZURE_STORAGE_SAS_TOKEN');
    return url.href.replace(/\/+$/, '');
  }
  const account = options.account ?? '';
  // Storage account names: 3 to 24 lower-case letters and digits.
  if (!/^[a-z0-9]{3,24}$/.test(account)) {
    throw new StorageError(`"${account}" is not a storage account name: 3 to 24 lower-case letters and digits (the <name> of https://<name>.blob.core.windows.net)`);
  }
  return `https://${account}.blob.core.windows.net`;
}

/** The client for options without `client`: a connection string, or `account` / `endpoint` with a credential. */
function buildClient(options: AzureBlobStorageOptions): BlobServiceClient {
  const byAccount = !options.connectionString && (options.account !== undefined || options.endpoint !== undefined);
  if (byAccount) {
    const url = serviceUrl(options);
    const sas = options.credential ? '' : (options.sasToken ?? process.env.AZURE_STORAGE_SAS_TOKEN ?? '').replace(/^\?/, '');
    if (sas) return new BlobServiceClient(`${url}?${sas}`, storagePipeline(new AnonymousCredential(), options));
    const credential = options.credential ?? defaultAzureCredential();
    if (url.startsWith('http:') && typeof (credential as { getToken?: unknown }).getToken === 'function') {
      // The SDK would refuse every request ("Bearer token authentication is not permitted for non-TLS protected URLs").
      throw new StorageError(`Microsoft Entra ID tokens are sent only over https, and the endpoint ${url} is http: give an https:// endpoint, or use a SAS token (AZURE_STORAGE_SAS_TOKEN) or a shared key`);
    }
    return new BlobServiceClient(url, storagePipeline(credential, options));
  }
  if (options.credential) {
    throw new StorageError('AzureBlobStorage uses a credential with an account or an endpoint: new AzureBlobStorage({ container, account: "<name>", credential })');
  }
  const connectionString = options.connectionString ?? process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!connectionString) {
    throw new StorageError(
      'AzureBlobStorage needs a connection string or an account: pass connectionString or set AZURE_STORAGE_CONNECTION_STRING (as Python modelstore does), or pass account (Microsoft Entra ID, or a SAS token from AZURE_STORAGE_SAS_TOKEN), or a client',
    );
  }
  try {
    // The client the connection string describes (URL, credential), on this library's pipeline.
    const base = BlobServiceClient.fromConnectionString(connectionString);
    return new BlobServiceClient(base.url, storagePipeline(base.credential, options));
  } catch (error) {
    // The SDK's message may quote the string; ours never does, since it holds the account key.
    throw new StorageError(
      'The Azure Storage connection string is not valid: expected "DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net" (copy it from the storage account\'s "Access keys" page), or a SAS form with BlobEndpoint and SharedAccessSignature',
      { cause: new Error(errorCodeOf(error) ?? 'invalid connection string') },
    );
  }
}

/** `@azure/identity`'s errors for a sign-in that failed (https://aka.ms/azsdk/js/identity/troubleshoot). */
const credentialErrorNames = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

function isCredentialFailure(error: unknown): boolean {
  return credentialErrorNames.has((error as { name?: unknown } | null)?.name as string);
}

/** What to do when Microsoft Entra ID sign-in fails, with the first lines of the credential's own report. */
function entraIdHint(error: unknown): string {
  const report = String((error as Error).message ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, 4)
    .join(' | ')
    .slice(0, 600);
  return `Microsoft Entra ID sign-in failed (${report}). Sign in with \`az login\`, run where a managed or workload identity is assigned, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; or use AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING instead`;
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
export class AzureBlobStorage extends ScopedStorage {
  readonly capabilities = { conditionalWrites: true, rangeReads: true } as const;
  readonly container: string;
  readonly client: BlobServiceClient;
  private readonly containerClient: ContainerClient;
  /** Upload and read settings, defaults applied. */
  private readonly transfer: { blockSize: number; concurrency: number; idleTimeoutMs: number };

  constructor(options: AzureBlobStorageOptions) {
    const container = requiredName(options, 'container', 'AzureBlobStorage needs a container: new AzureBlobStorage({ container: "models" })');
    super(storageScope({ rootPrefix: options.rootPrefix, errors: containerErrors(container), location: (name) => `azure://${container}/${name}` }));
    this.container = container;
    this.client = options.client ?? buildClient(options);
    this.containerClient = this.client.getContainerClient(this.container);
    this.transfer = {
      blockSize: options.blockSize ?? 8 * 1024 * 1024,
      concurrency: Math.max(1, options.concurrency ?? 4),
      idleTimeoutMs: options.idleTimeoutMs ?? azureDefaults.idleTimeoutMs,
    };
  }

  describe(key: string): StorageLocation {
    return { type: 'azure:blob-storage', container: this.container, prefix: this.scope.name(key) };
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const blob = this.containerClient.getBlockBlobClient(this.scope.name(key));
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
      if (bytes !== undefined && bytes.length <= this.transfer.blockSize) {
        response = await blob.upload(bytes, bytes.length, common);
        size = bytes.length;
        options.onProgress?.(size);
      } else {
        // Read up to one block first: a body that fits is sent in a single PUT, which is
        // one request and, unlike staged blocks, cannot collide with another writer's blocks.
        const onProgress = (bytes: number) => {
          size = bytes;
          options.onProgress?.(bytes);
        };
        const peeked = await peekBody(body, this.transfer.blockSize, { ...(signal ? { signal } : {}), onProgress });
        // Blocks are staged unconditionally and invisibly; the condition applies to the commit.
        response = peeked.ended ? await blob.upload(peeked.head, peeked.size, common) : await blob.uploadStream(peeked.rest(), this.transfer.blockSize, this.transfer.concurrency, common);
      }
      if (signal?.aborted) throw abortReason(signal);
      return { key, size, etag: quoted(response.etag), lastModified: response.lastModified ?? new Date() };
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      // If-Match on a blob that no longer exists.
      throw this.scope.error('write', key, error, options.ifMatch === undefined ? undefined : 'precondition');
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | undefined> {
    const blob = this.containerClient.getBlobClient(this.scope.name(key));
    const { range, signal } = options;
    validateRange(key, range);
    // Resumption is done by resumingBody, the same way for every backend.
    const download = (from: number, to: number | undefined, conditions = {}) => blob.download(from, to === undefined ? undefined : to - from + 1, { ...(signal ? { abortSignal: signal } : {}), maxRetryRequests: 0, conditions });
    return this.scope.run(
      'read',
      key,
      async () => {
        const response = await download(range?.start ?? 0, range?.end);
        const size = response.contentRange ? Number(response.contentRange.split('/')[1]) : (response.contentLength ?? 0);
        const etag = quoted(response.etag);
        const reopen = async (from: number, to: number) => (await download(from, to, { ifMatch: etag })).readableStreamBody!;
        const body = this.scope.resumingRead(key, response.readableStreamBody!, { size, range, reopen, idleTimeoutMs: this.transfer.idleTimeoutMs, signal });
        return { key, size, etag, lastModified: response.lastModified ?? new Date(0), body };
      },
      () => undefined,
    );
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const blob = this.containerClient.getBlobClient(this.scope.name(key));
    // HEAD responses carry no error body: a missing container looks like a missing blob.
    return this.scope.run(
      'head',
      key,
      async () => {
        const properties = await blob.getProperties();
        return { key, size: properties.contentLength ?? 0, etag: quoted(properties.etag), lastModified: properties.lastModified ?? new Date(0) };
      },
      () => undefined,
    );
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const fullPrefix = this.scope.prefix(prefix);
    return this.scope.run('list', prefix, async () => {
      const page = { maxPageSize: listPageSize(options.limit), ...(options.cursor === undefined ? {} : { continuationToken: options.cursor }) };
      const result = await this.containerClient.listBlobsFlat({ prefix: fullPrefix }).byPage(page).next();
      const segment = result.done ? undefined : (result.value as ContainerListBlobFlatSegmentResponse);
      const objects: ObjectInfo[] = (segment?.segment.blobItems ?? []).map((item: BlobItem) => ({
        key: this.scope.key(item.name),
        size: item.properties.contentLength ?? 0,
        etag: quoted(item.properties.etag),
        lastModified: item.properties.lastModified,
      }));
      const cursor = segment?.continuationToken;
      return cursor ? { objects, cursor } : { objects };
    });
  }

  async delete(key: string): Promise<boolean> {
    const blob = this.containerClient.getBlobClient(this.scope.name(key));
    return this.scope.run('delete', key, async () => (await blob.deleteIfExists()).succeeded);
  }
}
