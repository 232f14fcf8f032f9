import { createRequire } from 'node:module';
import path from 'node:path';
import { freePort, superviseProcess, type SupervisedProcess } from './supervise.js';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const azuriteAccount = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export interface AzuriteHandle {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  blobEndpoint: string;
  connectionString: string;
  /** The server's supervisor process (see superviseProcess). */
  process: SupervisedProcess;
  /** Stops the server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts `azurite-blob` (Microsoft's emulator) in memory on 127.0.0.1 with a free
 * port, under a supervisor (see superviseProcess): it dies with the process that
 * started it, however that process dies. (It used to run detached with nothing to
 * stop it but close(): a globalSetup that failed after starting it, or a jest killed
 * or interrupted before globalTeardown, left it running.)
 */
export async function startAzurite(): Promise<AzuriteHandle> {
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = superviseProcess(process.execPath, [bin, '--inMemoryPersistence', '--extentMemoryLimit', '4096', '--blobHost', '127.0.0.1', '--blobPort', String(port), '--skipApiVersionCheck', '--disableTelemetry', '--silent']);
    try {
      await child.waitForOutput(/successfully listen/i, 30_000);
    } catch (error) {
      await child.stop();
      if (attempt < 3 && /EADDRINUSE/.test(child.output())) continue;
      throw new Error(`azurite-blob did not start: ${(error as Error).message}`);
    }
    const blobEndpoint = `http://127.0.0.1:${port}/${azuriteAccount.name}`;
    return {
      blobEndpoint,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${azuriteAccount.name};AccountKey=${azuriteAccount.key};BlobEndpoint=${blobEndpoint};`,
      process: child,
      close: () => child.stop(),
    };
  }
}

/**
 * The parts of an Azurite connection string (`AccountName`, `AccountKey`, `BlobEndpoint`)
 * and an account SAS for blobs signed with its key (Azurite supports account SAS).
 */
export async function azuriteAccess(connectionString: string, permissions: string): Promise<{ account: string; key: string; endpoint: string; sas: string }> {
  const { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, StorageSharedKeyCredential, generateAccountSASQueryParameters } = await import('@azure/storage-blob');
  const field = (name: string) => new RegExp(`${name}=([^;]+)`).exec(connectionString)![1]!;
  const [account, key, endpoint] = [field('AccountName'), field('AccountKey'), field('BlobEndpoint')];
  const sas = generateAccountSASQueryParameters(
    {
      expiresOn: new Date(Date.now() + 3_600_000),
      permissions: AccountSASPermissions.parse(permissions),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      services: AccountSASServices.parse('b').toString(),
    },
    new StorageSharedKeyCredential(account, key),
  ).toString();
  return { account, key, endpoint, sas };
}
