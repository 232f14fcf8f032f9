// `modelstore doctor` through the built binary: a local folder does everything it claims
// (exit 0); s3rver, opened with S3Storage's defaults, ignores If-None-Match and If-Match
// (exit 1, and the output says what to set).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startS3rver, type S3rverHandle } from '@modelstore/test-servers';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore } from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-doctor-'));
let s3rver: S3rverHandle;

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: ['doctor'] });
});

afterAll(async () => {
  await s3rver?.close();
  rmSync(work, { recursive: true, force: true });
});

const s3rverStore = (query = '') => `s3://doctor/registry?endpoint=${encodeURIComponent(s3rver.endpoint)}&forcePathStyle=true&region=us-east-1${query}`;
const s3rverEnv = () => ({ AWS_ACCESS_KEY_ID: s3rver.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rver.credentials.secretAccessKey });

describe('modelstore doctor', () => {
  it('exits 0 on a local folder, with every check ok, and leaves no file', async () => {
    // A folder that does not exist is a mistyped path: exit 3, and nothing is created.
    const missing = await modelstore(['--store', './registry', 'doctor'], { cwd: work });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no such folder/);
    expect(existsSync(path.join(work, 'registry'))).toBe(false);
    mkdirSync(path.join(work, 'registry'));
    const result = await modelstore(['--store', './registry', 'doctor'], { cwd: work });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^store: \.\/registry\n/);
    expect(result.stdout).toMatch(/ok\s+create-only\s+a second create-only write of the key failed with PreconditionFailedError/);
    expect(result.stdout).toMatch(/\nok: everything this store claims holds \(9 checks, \d+ ms\)\n$/);
    const json = await modelstore(['--store', './registry', '--json', 'doctor'], { cwd: work });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: true, claims: { conditionalWrites: true, rangeReads: true }, observed: { conditionalWrites: true, rangeReads: true }, advice: [] });
    expect(report.checks.map((check: { name: string }) => check.name)).toEqual(['create-only', 'read-after-write', 'compare-and-swap-stale', 'compare-and-swap-current', 'range-read', 'list-order', 'list-pagination', 'delete', 'cleanup']);
    const files: string[] = [];
    const walk = (directory: string) => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) entry.isDirectory() ? walk(path.join(directory, entry.name)) : files.push(entry.name);
    };
    walk(path.join(work, 'registry'));
    expect(files).toEqual([]);
  }, 30_000);

  it('exits 1 on s3rver opened with the defaults, and says what to set', async () => {
    const result = await modelstore(['--store', s3rverStore(), 'doctor'], { cwd: work, env: s3rverEnv() });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+create-only\s+a second create-only write \(ifNoneMatch: "\*"\) of an existing key succeeded/);
    expect(result.stdout).toMatch(/FAIL\s+compare-and-swap-stale\s+a write with ifMatch of a replaced version succeeded/);
    expect(result.stdout).toMatch(/seen: {3}conditional writes NOT honoured/);
    expect(result.stdout).toMatch(/what to do:\n {2}- This store ignores If-None-Match and If-Match: open it with conditionalWrites: false \(S3Storage option, or \?conditionalWrites=false in the store URI.*one writer at a time/);
    expect(result.stdout).toMatch(/\n5 of 9 checks failed: this store does not do what it claims\n$/);

    const json = await modelstore(['--store', s3rverStore(), '--json', 'doctor'], { cwd: work, env: s3rverEnv() });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(false);
    expect(report.observed.conditionalWrites).toBe(false);
    // s3rver 3.7.1 also answers "bytes=0-0" with the whole object and lists "x/1" before "x-1".
    expect(report.checks.filter((check: { ok: boolean }) => !check.ok).map((check: { name: string }) => check.name)).toEqual(['create-only', 'compare-and-swap-stale', 'range-read', 'list-order', 'list-pagination']);
    expect(report.checks.find((check: { name: string }) => check.name === 'list-pagination').detail).toMatch(/skipped: "x-1", "x.y"/);
  }, 30_000);

  it('with ?conditionalWrites=false, passes the conditional checks as declared (s3rver still fails its listing and ranges)', async () => {
    const json = await modelstore(['--store', s3rverStore('&conditionalWrites=false'), '--json', 'doctor'], { cwd: work, env: s3rverEnv() });
    const report = JSON.parse(json.stdout);
    expect(report.claims.conditionalWrites).toBe(false);
    const failed = report.checks.filter((check: { ok: boolean }) => !check.ok).map((check: { name: string }) => check.name);
    expect(failed).not.toContain('create-only');
    expect(failed).not.toContain('compare-and-swap-stale');
    expect(failed).toContain('list-order');
    expect(json.code).toBe(1);
  }, 30_000);

  it('fails with a StorageError, exit 1, when the store cannot be reached', async () => {
    const result = await modelstore(['--store', 's3://doctor/registry?endpoint=http%3A%2F%2F127.0.0.1%3A9&forcePathStyle=true&region=us-east-1', '--json', 'doctor'], { cwd: work, env: s3rverEnv() });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.code).toBe('STORAGE');
  }, 30_000);
});
