import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const bin = path.join(__dirname, '..', 'dist', 'bin.js');

export interface Servers {
  s3: { endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; bucket: string };
  gcs: { endpoint: string; bucket: string };
  azure: { connectionString: string; container: string };
}

export function servers(): Servers {
  const value = process.env.MODELSTORE_TEST_SERVERS;
  if (!value) throw new Error('MODELSTORE_TEST_SERVERS is not set: the CLI tests start their servers in jest globalSetup');
  return JSON.parse(value) as Servers;
}

/** Store URIs for fresh registries on each backend, and the environment their credentials come from. */
export function stores(): { s3: string; gcs: string; azure: string; env: Record<string, string> } {
  const { s3, gcs, azure } = servers();
  const prefix = () => `cli-${randomBytes(5).toString('hex')}`;
  return {
    s3: `s3://${s3.bucket}/${prefix()}?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&region=us-east-1`,
    gcs: `gs://${gcs.bucket}/${prefix()}?apiEndpoint=${encodeURIComponent(gcs.endpoint)}&projectId=modelstore-test`,
    azure: `azure://${azure.container}/${prefix()}`,
    env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AZURE_STORAGE_CONNECTION_STRING: azure.connectionString },
  };
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `modelstore` binary as a child process. */
export function modelstore(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: options.cwd, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under `directory`, relative, with its sha256. */
export function treeDigest(directory: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (current: string, prefix: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
      else result[`${prefix}${entry.name}`] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(directory, '');
  return result;
}
