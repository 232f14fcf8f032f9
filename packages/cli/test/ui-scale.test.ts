// The first page of a domain of 10,000 models in `modelstore ui`: rendered in Chromium in
// under a second, for at most 25 storage requests — counted by the storage the server
// uses (file system, a counting wrapper in the server's process) and at an S3 server
// (the real `modelstore ui` command against our S3 test server).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { layout } from '@modelstore/core/internal';
import { ModelStore, type Storage } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { startS3Server, type S3Server } from '@modelstore/test-servers';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, outputDir, startUi } from './ui-helpers.js';

const count = 10_000;
const created = Date.UTC(2026, 0, 1);
const idOf = (i: number) => `model-${String(i).padStart(6, '0')}`;

/**
 * 10,000 models' metadata documents (no archives), every 50th in `production`, the latest
 * pointer and the domain's index, written through the Storage interface in a shuffled
 * order (as the benchmark seeds its scale scenario).
 */
async function seed(storage: Storage): Promise<void> {
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => ((a * 7919) % count) - ((b * 7919) % count));
  const documentOf = (i: number) => {
    const at = new Date(created + i * 1000);
    return JSON.stringify({
      model: { domain: 'scale', model_id: idOf(i), model_type: { library: 'model_file' }, parameters: {} },
      storage: { type: 'file_system', prefix: layout.archive('scale', at, idOf(i)) },
      archive: { sha256: '0'.repeat(64), size: 1000 + i, files: {} },
      modelstore: 'test',
      code: { runtime: 'test', created: at.toISOString(), created_at: at.toISOString() },
      extra: { rank: i },
    });
  };
  const etags: Record<string, string> = {};
  for (let start = 0; start < count; start += 64) {
    await Promise.all(
      order.slice(start, start + 64).map(async (i) => {
        etags[idOf(i)] = (await storage.put(layout.version('scale', idOf(i)), documentOf(i))).etag;
        if (i % 50 === 0) await storage.put(layout.stateVersion('scale', 'production', idOf(i)), documentOf(i));
      }),
    );
  }
  await storage.put(layout.domain('scale'), documentOf(count - 1));
  await storage.put(layout.state('production'), JSON.stringify({ created: '2026/01/01/00:00:00', state_name: 'production' }));
  const all = Array.from({ length: count }, (_, i) => i);
  await storage.put(
    layout.index('scale'),
    JSON.stringify({
      models: Object.fromEntries(all.map((i) => [idOf(i), created + i * 1000])),
      etags,
      sizes: Object.fromEntries(all.map((i) => [idOf(i), 1000 + i])),
      libraries: Object.fromEntries(all.map((i) => [idOf(i), 'model_file'])),
    }),
  );
  // Core folds the first index into its append-only index, as it does for a registry written before that index.
  await new ModelStore({ storage }).compactIndex('scale');
}

// Functions passed to page.waitForFunction run in the page, where these exist (the tests compile without the DOM library).
declare const document: any;
declare const location: any;

let work: string;
let browser: Browser;
let s3: S3Server;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-ui-scale-'));
  s3 = await startS3Server({ buckets: ['scale'] });
  const s3Storage = new S3Storage({ bucket: 'scale', rootPrefix: 'ui', endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: s3.credentials });
  await Promise.all([seed(new FileSystemStorage({ root: path.join(work, 'registry') })), seed(s3Storage)]);
  s3Storage.client.destroy();
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

/**
 * Opens the domain's page (the session cookie already set) and measures its first page:
 * the milliseconds until its 50 rows are shown, and the storage requests made until then
 * (`requests()` counts from the server's start; the page's request for the whole count is
 * held until they are read). Then checks the count and the next page, and reports the
 * requests of all that too.
 */
async function firstPage(ui: { origin: string; token: string }, name: string, requests: () => Promise<number>, baseline = 0): Promise<{ elapsed: number; firstPage: number; withCount: number }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: `modelstore-ui-${new URL(ui.origin).port}`, value: ui.token, url: ui.origin }]);
  const page = await context.newPage();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/domains/scale/count*', async (route) => {
    await held;
    await route.continue();
  });
  const started = performance.now();
  await page.goto(`${ui.origin}/#/d/scale`);
  await page.waitForFunction(() => document.querySelectorAll('table.models tbody tr').length === 50);
  const elapsed = performance.now() - started;
  const firstPageRequests = (await requests()) - baseline;
  release();
  expect(await page.locator('table.models tbody tr').first().innerText()).toContain(idOf(count - 1));
  // The count comes from the domain's whole listing, asked once the first page is shown.
  await page.waitForFunction(() => document.querySelector('#count')?.textContent === '10000 models');
  await page.screenshot({ path: path.join(outputDir, `${name}.png`) });
  // The next page continues from the first one's cursor.
  await page.click('#older');
  await page.waitForFunction(() => document.querySelector('table.models tbody tr a')?.textContent === 'model-009949');
  const withCount = (await requests()) - baseline;
  await context.close();
  return { elapsed, firstPage: firstPageRequests, withCount };
}

/**
 * The first page, measured on a fresh server; on a machine too busy for that one load to
 * finish within a second, once more in a new browser context (the server then warm): the
 * faster of the two must be under a second, and each at most 25 storage requests.
 */
async function measure(ui: { origin: string; token: string }, name: string, requests: () => Promise<number>, label: string): Promise<void> {
  const first = await firstPage(ui, name, requests);
  console.log(`ui first page, 10,000 models, ${label}: ${first.elapsed.toFixed(0)} ms, ${first.firstPage} storage requests from the server's start to the first page shown; ${first.withCount} with the count and the second page`);
  expect(first.firstPage).toBeLessThanOrEqual(25);
  if (first.elapsed < 1000) return;
  const again = await firstPage(ui, `${name}-again`, requests, await requests());
  console.log(`ui first page, 10,000 models, ${label}, loaded again in a new browser context: ${again.elapsed.toFixed(0)} ms, ${again.firstPage} storage requests`);
  expect(again.firstPage).toBeLessThanOrEqual(25);
  expect(Math.min(first.elapsed, again.elapsed)).toBeLessThan(1000);
}

describe('modelstore ui on 10,000 models', () => {
  /** The server over the file system registry in a child process, with its storage's request log (from its start). */
  async function fsServer() {
    const child: ChildProcess = fork(path.join(__dirname, 'ui-scale-child.mjs'), [path.join(work, 'registry')], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (data: Buffer) => {
        out += data.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`the ui child exited (${code})`)));
    });
    const ask = (message: string) =>
      new Promise<{ count: number; requests: string[] }>((resolve) => {
        child.once('message', (answer) => resolve(answer as { count: number; requests: string[] }));
        child.send(message);
      });
    return { ui: { origin: new URL(url).origin, token: new URL(url).searchParams.get('token')! }, ask, stop: () => child.disconnect() };
  }

  it('file system: the first page in under a second and at most 25 storage requests (counted by the storage)', async () => {
    const server = await fsServer();
    try {
      await measure(server.ui, 'scale-fs', async () => (await server.ask('count')).count, 'file system');
      console.log(`storage requests of the file system run:\n${(await server.ask('count')).requests.join('\n')}`);
    } finally {
      server.stop();
    }
  }, 120_000);

  it('S3 (the modelstore ui command): the first page in under a second and at most 25 requests (counted at the S3 server)', async () => {
    const before = s3.requests.length;
    const ui = await startUi(['--store', `s3://scale/ui?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&region=us-east-1`, 'ui'], {
      cwd: work,
      env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey },
    });
    try {
      await measure(ui, 'scale-s3', async () => s3.requests.length - before, 'S3 server');
      console.log(`requests at the S3 server:\n${s3.requests.slice(before).join('\n')}`);
    } finally {
      expect(await ui.stop()).toBe(0);
    }
  }, 120_000);
});
