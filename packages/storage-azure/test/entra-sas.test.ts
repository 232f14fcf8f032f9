import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { StorageSharedKeyCredential } from '@azure/storage-blob';
import { CredentialUnavailableError, DefaultAzureCredential } from '@azure/identity';
import { MissingDependencyError, ModelStoreError, StorageError, openModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { azuriteAccess, startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as backend from '../src/index.js';
import { AzureBlobStorage, type AzureTokenCredential, fromStoreUri } from '../src/index.js';
import { azurite } from './server.js';

/** Azurite's account, key, blob endpoint and container (from the connection string global-setup made), and an account SAS with `permissions`. */
async function azuriteAccount(permissions = 'rl') {
  const { connectionString, container } = azurite();
  return { ...(await azuriteAccess(connectionString, permissions)), container };
}

/** Runs `run` with the given Azure variables set (undefined: unset), then restores them. */
async function withEnv<T>(values: Record<string, string | undefined>, run: () => Promise<T> | T): Promise<T> {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  try {
    return await run();
  } finally {
    apply(saved);
  }
}

let proxy: FaultProxy | undefined;
let folder: string | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

async function modelFile(): Promise<string> {
  folder = await mkdtemp(path.join(os.tmpdir(), 'azure-sas-'));
  const file = path.join(folder, 'weights.bin');
  await writeFile(file, randomBytes(1000));
  return file;
}

describe('azure:// with an account: a SAS token from AZURE_STORAGE_SAS_TOKEN, else Microsoft Entra ID', () => {
  it('reads account and endpoint from the URI; a SAS token in the URI is refused as a secret', () => {
    expect(fromStoreUri(new URL('azure://models/team?account=myaccount'))).toEqual({ container: 'models', rootPrefix: 'team', account: 'myaccount' });
    expect(fromStoreUri(new URL('azure://models?endpoint=http://127.0.0.1:10000/devstoreaccount1'))).toEqual({ container: 'models', endpoint: 'http://127.0.0.1:10000/devstoreaccount1' });
    expect(() => fromStoreUri(new URL('azure://models?account=a&sasToken=sv%3Dx'))).toThrow(/^Store URIs do not carry secrets/);
  });

  it('opens the registry with an account SAS from AZURE_STORAGE_SAS_TOKEN and no connection string, against Azurite', async () => {
    const { endpoint, container, sas } = await azuriteAccount('rwdlac');
    const readOnly = (await azuriteAccount('rl')).sas;
    const prefix = `sas-${randomBytes(5).toString('hex')}`;
    const file = await modelFile();
    await withEnv({ AZURE_STORAGE_CONNECTION_STRING: undefined, AZURE_STORAGE_SAS_TOKEN: `?${sas}` }, async () => {
      const store = await openModelStore(`azure://${container}/${prefix}?endpoint=${endpoint}`, { importer: async () => backend, adapters: [new RawAdapter()] });
      const { model } = await store.upload('churn', { model: file });
      expect(await store.listModels('churn')).toEqual([model.model_id]);
      expect((store.storage as AzureBlobStorage).client.credential.constructor.name).toBe('AnonymousCredential');
    });
    // A read-only SAS lists, and a write is refused with a typed error naming the SAS token, not the SDK's RestError.
    await withEnv({ AZURE_STORAGE_CONNECTION_STRING: undefined, AZURE_STORAGE_SAS_TOKEN: readOnly }, async () => {
      const store = await openModelStore(`azure://${container}/${prefix}?endpoint=${endpoint}`, { importer: async () => backend, adapters: [new RawAdapter()] });
      expect(await store.listDomains()).toEqual(['churn']);
      const error = await store.upload('churn', { model: file }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(ModelStoreError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/SAS token/);
    });
  });

  it('with an account and no SAS token, builds the client on DefaultAzureCredential for https://<account>.blob.core.windows.net', async () => {
    // Entra ID itself cannot be tested without Azure: this checks the credential is constructed and passed.
    await withEnv({ AZURE_STORAGE_CONNECTION_STRING: undefined, AZURE_STORAGE_SAS_TOKEN: undefined }, async () => {
      const store = await openModelStore('azure://models/team?account=myaccount', { importer: async () => backend });
      const storage = store.storage as AzureBlobStorage;
      expect(storage.client.credential).toBeInstanceOf(DefaultAzureCredential);
      expect(storage.client.url).toBe('https://myaccount.blob.core.windows.net/');
      expect(storage.describe('k')).toEqual({ type: 'azure:blob-storage', container: 'models', prefix: 'team/k' });
    });
  });

  it('a credential of your own is the one the client uses', () => {
    const credential: AzureTokenCredential = { getToken: async () => ({ token: 'token', expiresOnTimestamp: Date.now() + 60_000 }) };
    const storage = new AzureBlobStorage({ container: 'models', account: 'myaccount', credential });
    expect(storage.client.credential).toBe(credential);
    expect(() => new AzureBlobStorage({ container: 'models', credential })).toThrow(StorageError);
    expect(() => new AzureBlobStorage({ container: 'models', account: 'My_Account' })).toThrow(/is not a storage account name/);
    expect(() => new AzureBlobStorage({ container: 'models', endpoint: 'http://127.0.0.1:1/a?sig=x' })).toThrow(/must not carry a query/);
  });

  it('a failed Microsoft Entra ID sign-in is a StorageError that says what to do, not retried', async () => {
    // The credential fails before any request is sent, so nothing leaves the machine.
    let calls = 0;
    const credential: AzureTokenCredential = {
      getToken: async () => {
        calls++;
        throw new CredentialUnavailableError('ManagedIdentityCredential: no managed identity endpoint found.\nAzureCliCredential: Please run az login.');
      },
    };
    const storage = new AzureBlobStorage({ container: 'models', account: 'myaccount', credential, retryDelayMs: 1 });
    const error = await storage.head('k').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).retryable).toBe(false);
    expect((error as Error).message).toBe(
      'Azure head of azure://models/k failed (error): Microsoft Entra ID sign-in failed (ManagedIdentityCredential: no managed identity endpoint found. | AzureCliCredential: Please run az login.). Sign in with `az login`, run where a managed or workload identity is assigned, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; or use AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING instead',
    );
    expect(calls).toBe(1);
  });

  it('an Entra ID credential with an http endpoint is refused at construction (tokens go only over https)', () => {
    const credential: AzureTokenCredential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 60_000 }) };
    expect(() => new AzureBlobStorage({ container: 'models', endpoint: 'http://127.0.0.1:10000/devstoreaccount1', credential })).toThrow(
      'Microsoft Entra ID tokens are sent only over https, and the endpoint http://127.0.0.1:10000/devstoreaccount1 is http: give an https:// endpoint, or use a SAS token (AZURE_STORAGE_SAS_TOKEN) or a shared key',
    );
  });

  it.each(['credential', 'SAS token'])(
    'a client built from an endpoint and a %s keeps the idle timeout and the retries',
    async (kind) => {
      const { account, key, endpoint, container, sas } = await azuriteAccount('rwdlac');
      const target = new URL(endpoint).origin;
      let stalls = 1;
      proxy = await startFaultProxy({ target, stallMs: 30_000, decide: ({ method }) => (method === 'PUT' && stalls-- > 0 ? 'stall' : undefined) });
      const viaProxy = endpoint.replace(target, proxy.endpoint);
      const common = { container, endpoint: viaProxy, rootPrefix: `stall-${randomBytes(5).toString('hex')}`, idleTimeoutMs: 500, retryDelayMs: 50 };
      const storage = kind === 'credential' ? new AzureBlobStorage({ ...common, credential: new StorageSharedKeyCredential(account, key) }) : new AzureBlobStorage({ ...common, sasToken: sas });
      const started = Date.now();
      await storage.put('state.json', '{"a":1}');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(proxy.counts.stall).toBe(1);
      expect((await storage.head('state.json'))?.size).toBe(7);
    },
    30_000,
  );

  it('without @azure/identity installed, an account with no SAS token is a MissingDependencyError naming it', async () => {
    // The one simulated case: the package is present in this workspace.
    await withEnv({ AZURE_STORAGE_CONNECTION_STRING: undefined, AZURE_STORAGE_SAS_TOKEN: undefined }, async () => {
      let error: unknown;
      jest.isolateModules(() => {
        jest.doMock('@azure/identity', () => {
          throw Object.assign(new Error("Cannot find module '@azure/identity'"), { code: 'MODULE_NOT_FOUND' });
        });
        const isolated = jest.requireActual<typeof backend>('../src/index.js');
        try {
          isolated.createStorage({ container: 'models', account: 'myaccount' });
        } catch (thrown) {
          error = thrown;
        }
      });
      expect(MissingDependencyError.isInstance(error)).toBe(true);
      expect((error as MissingDependencyError).packageName).toBe('@azure/identity');
      expect((error as Error).message).toMatch(/npm install @azure\/identity@4\.13\.1/);
    });
  });
});
