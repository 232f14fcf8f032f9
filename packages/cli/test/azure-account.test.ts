// The CLI on Azure without a connection string: `--store 'azure://container/prefix?endpoint=...'`
// (or `?account=<name>`) with a SAS token from AZURE_STORAGE_SAS_TOKEN, against Azurite, which
// supports account SAS. Microsoft Entra ID needs Azure itself; storage-azure's tests check
// that its credential is built and passed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { azuriteAccess } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore, servers } from './helpers.js';

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'cli-azure-account-'));
  writeFileSync(path.join(cwd, 'model.bin'), randomBytes(2048));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** Azurite's account, key, endpoint and container, and an account SAS with `permissions`. */
async function azurite(permissions = 'rl') {
  const { connectionString, container } = servers().azure;
  return { ...(await azuriteAccess(connectionString, permissions)), container };
}

describe('modelstore on azure:// with a SAS token and no connection string', () => {
  it('uploads, lists and downloads through ?endpoint= with AZURE_STORAGE_SAS_TOKEN', async () => {
    const { endpoint, container, sas } = await azurite('rwdlac');
    const store = `azure://${container}/cli-sas-${randomBytes(4).toString('hex')}?endpoint=${encodeURIComponent(endpoint)}`;
    const env = { AZURE_STORAGE_SAS_TOKEN: sas };
    const upload = await modelstore(['--store', store, '--json', 'upload', 'churn', 'model.bin'], { cwd, env });
    expect(upload.stderr).not.toMatch(/AZURE_STORAGE_CONNECTION_STRING/);
    expect(upload.code).toBe(0);
    const modelId = JSON.parse(upload.stdout).model.model_id as string;
    const ls = await modelstore(['--store', store, '--json', 'ls', 'churn'], { cwd, env });
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(modelId);
    const download = await modelstore(['--store', store, 'download', 'churn', modelId, '--to', 'out'], { cwd, env });
    expect(download.code).toBe(0);
  });

  it('without a SAS token or a connection string, and no account, says what to set (exit 2)', async () => {
    const { container } = await azurite();
    const result = await modelstore(['--store', `azure://${container}/p`, '--json', 'ls'], { cwd, env: {} });
    expect(result.code).toBe(2);
    const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string; settings?: string[] } };
    expect(error.code).toBe('STORE_CONFIGURATION');
    expect(error.settings).toEqual(['AZURE_STORAGE_CONNECTION_STRING']);
    expect(error.message).toMatch(/\?account=<name>/);
  });

  it('a misspelt option is refused with the known ones, account among them (exit 2)', async () => {
    const result = await modelstore(['--store', 'azure://models/p?acount=myaccount', '--json', 'ls'], { cwd, env: {} });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.message).toBe('unknown option "acount" for azure:// URIs (known: account, endpoint, blockSize, concurrency, maxAttempts, retryDelayMs, idleTimeoutMs)');
  });
});
