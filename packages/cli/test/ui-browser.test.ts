// `modelstore ui` as a person meets it, in Debian's headless Chromium (playwright-core):
// the domains, a domain's models filtered and searched, a model's page, two models
// compared, the archive downloaded and checked against its recorded sha256, and, with
// --allow-writes, a state set and a model deleted (seen by `modelstore ls`). Writes
// without the token, from another Host or from another Origin are refused. A screenshot
// of each page goes to test-output/ui/ (MODELSTORE_UPDATE_SCREENSHOT=1 also writes the
// README's docs/ui-model.png, the page of a model the safetensors adapter described).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { modelstore } from './helpers.js';
import { apiCall, launchChromium, outputDir, sha256File, startUi, type UiProcess } from './ui-helpers.js';

// Functions passed to page.waitForFunction run in the page, where these exist (the tests compile without the DOM library).
declare const document: any;
declare const location: any;

let work: string;
let browser: Browser;
const running: UiProcess[] = [];
const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });

/** A raw request, so that the Host and Origin headers are exactly as given. */
function rawRequest(origin: string, route: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(route, origin);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A small safetensors file (github.com/huggingface/safetensors, "Format"): an F32 weight of 4 × 8 and a bias of 8. */
function safetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt' }, 'encoder.bias': { dtype: 'F32', shape: [8], data_offsets: [128, 160] }, 'encoder.weight': { dtype: 'F32', shape: [4, 8], data_offsets: [0, 128] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(160);
  for (let i = 0; i < 40; i++) data.writeFloatLE(Math.sin(i), i * 4);
  return Buffer.concat([length, header, data]);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(outputDir, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-ui-'));
  writeFileSync(path.join(work, 'model.bin'), Buffer.alloc(4096, 1));
  writeFileSync(path.join(work, 'config.json'), '{"layers": 4}\n');
  const second = path.join(work, 'v2');
  mkdirSync(second);
  writeFileSync(path.join(second, 'model.bin'), Buffer.alloc(4096, 2));
  writeFileSync(path.join(second, 'tokenizer.json'), '{"vocab": 3}\n');
  const upload = async (...args: string[]) => expect((await cli('upload', ...args)).code).toBe(0);
  await upload('churn', 'model.bin', 'config.json', '--id', 'churn-v1', '--meta-json', 'accuracy=0.91', '--meta', 'owner=ana-lytics', '--state', 'production');
  await upload('churn', 'v2/model.bin', 'v2/tokenizer.json', '--id', 'churn-v2', '--meta-json', 'accuracy=0.93', '--meta', 'owner=bo');
  await upload('churn', 'model.bin', '--id', 'churn-v3');
  await upload('fraud', 'config.json', '--id', 'fraud-v1');
  // A model an adapter describes: the project has @modelstore/adapter-safetensors installed (as a user's would).
  mkdirSync(path.join(work, 'node_modules', '@modelstore'), { recursive: true });
  symlinkSync(path.resolve(__dirname, '..', '..', 'adapter-safetensors'), path.join(work, 'node_modules', '@modelstore', 'adapter-safetensors'));
  writeFileSync(path.join(work, 'encoder.safetensors'), safetensors());
  await upload('embeddings', 'encoder.safetensors', '--id', 'encoder-2026-11', '--meta-json', 'recall_at_10=0.87', '--meta', 'dataset=support-tickets-v3', '--state', 'production');
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const ui of running) await ui.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('modelstore ui in a browser', () => {
  it('read-only: domains, filter, search, a model, compare, a verified download; writes refused', async () => {
    const ui = await startUi(['--store', './registry', 'ui'], { cwd: work });
    running.push(ui);
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    // Domains, the newest latest model first.
    await page.goto(ui.url);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    await page.waitForSelector('table.domains tbody tr');
    const domainRows = await page.locator('table.domains tbody tr').allInnerTexts();
    expect(domainRows.map((row) => row.split('\t')[0])).toEqual(['embeddings', 'fraud', 'churn']);
    expect(domainRows[2]).toMatch(/churn-v3[\s\S]*\t3$/);
    await shot(page, 'domains');

    // A domain's models; filtered by state, then searched by metadata.
    await page.click('table.domains >> text=churn');
    await page.waitForSelector('table.models tbody tr');
    expect(await page.locator('table.models tbody tr').count()).toBe(3);
    await page.selectOption('select[name=state]', 'production');
    await page.waitForFunction(() => document.querySelectorAll('table.models tbody tr').length === 1);
    expect(await page.locator('table.models tbody tr').innerText()).toContain('churn-v1');
    await page.selectOption('select[name=state]', '');
    await page.waitForFunction(() => document.querySelectorAll('table.models tbody tr').length === 3);
    await page.fill('input[name=q]', 'LYTICS');
    await page.click('text=Search');
    await page.waitForFunction(() => document.querySelector('#count')?.textContent?.includes('searched'));
    await page.waitForFunction(() => document.querySelectorAll('table.models tbody tr').length === 1);
    expect(await page.locator('table.models tbody tr').innerText()).toContain('churn-v1');
    await page.click('text=Clear');
    await page.waitForFunction(() => document.querySelectorAll('table.models tbody tr').length === 3);
    // An extra metadata column, read for the page's models only.
    await page.fill('input[name=column]', 'owner');
    await page.press('input[name=column]', 'Enter');
    await page.waitForFunction(() => document.querySelector('table.models thead')?.textContent?.includes('owner'));
    await page.waitForFunction(() => document.querySelector('table.models tbody')?.textContent?.includes('ana-lytics'));
    await shot(page, 'models');

    // A model's page: files with the digests the metadata records.
    const info = JSON.parse((await cli('--json', 'info', 'churn', 'churn-v1')).stdout) as { archive: { sha256: string; files: Record<string, { sha256: string; size: number }> } };
    await page.click('table.models >> text=churn-v1');
    await page.waitForSelector('#files');
    const files = await page.locator('#files').innerText();
    for (const [name, digest] of Object.entries(info.archive.files)) {
      expect(files).toContain(name);
      expect(files).toContain(digest.sha256);
    }
    expect(await page.locator('#summary').innerText()).toContain(info.archive.sha256);
    expect(await page.locator('#extra').innerText()).toContain('ana-lytics');
    expect(await page.locator('main').innerText()).toContain('download churn churn-v1 --to churn-churn-v1');
    await shot(page, 'model');

    // The download: the archive's bytes, sha256 as recorded.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const saved = path.join(outputDir, 'churn-v1.tar.gz');
    await download.saveAs(saved);
    expect(await download.failure()).toBeNull();
    expect(sha256File(saved)).toBe(info.archive.sha256);
    // Named by the server's Content-Disposition (the link carries no download="true").
    expect(download.suggestedFilename()).toBe('churn-churn-v1.tar.gz');
    expect(download.url()).toMatch(/^blob:/); // a small archive came through fetch, so a failure would have been shown on the page
    expect(await page.locator('#download').getAttribute('download')).toBeNull();

    // Compare two models: files added, removed and changed by digest; metadata that differs.
    await page.goBack();
    await page.waitForSelector('table.models tbody tr');
    await page.check('input[aria-label="pick churn-v1"]');
    await page.check('input[aria-label="pick churn-v2"]');
    await page.click('#compare');
    await page.waitForSelector('#file-diff');
    expect(await page.locator('#file-counts').innerText()).toBe('1 added, 1 removed, 1 changed, 1 the same');
    const fileDiff = await page.locator('#file-diff').innerText();
    expect(fileDiff).toMatch(/added\s+tokenizer\.json/);
    expect(fileDiff).toMatch(/removed\s+config\.json/);
    expect(fileDiff).toMatch(/changed\s+model\.bin/);
    const metadataDiff = await page.locator('#metadata-diff').innerText();
    expect(metadataDiff).toMatch(/extra\.accuracy\s+0\.91\s+0\.93/);
    expect(metadataDiff).toMatch(/extra\.owner\s+ana-lytics\s+bo/);
    await shot(page, 'compare');

    // What an adapter recorded: the safetensors header's tensors, shown as a table.
    await page.goto(`${ui.origin}/#/d/embeddings/m/encoder-2026-11`);
    await page.waitForSelector('#parameters');
    expect(await page.locator('main').innerText()).toContain('What the safetensors adapter recorded');
    const parameters = await page.locator('#parameters').innerText();
    expect(parameters).toMatch(/encoder\.weight\s+F32\s+\[4,8\]/);
    expect(parameters).toMatch(/total_parameters\s+40/);
    await shot(page, 'model-safetensors');
    // The README's picture of the model page: its top (the command lines below name this run's folder).
    if (process.env.MODELSTORE_UPDATE_SCREENSHOT === '1') {
      await page.setViewportSize({ width: 1280, height: 1400 });
      await page.screenshot({ path: path.join(__dirname, '..', '..', '..', 'docs', 'ui-model.png') });
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // Read-only: a write with the token is refused, and so is one without it.
    const tried = await page.evaluate(async (token: string): Promise<unknown[]> => {
      const withToken = await fetch('/api/domains/churn/models/churn-v1/states/staging', { method: 'PUT', headers: { 'x-modelstore-token': token } });
      const without = await fetch('/api/domains/churn/models/churn-v1/states/staging', { method: 'PUT' });
      return [withToken.status, ((await withToken.json()) as any).error.code, without.status, ((await without.json()) as any).error.code];
    }, ui.token);
    expect(tried).toEqual([403, 'READ_ONLY', 403, 'TOKEN_REQUIRED']);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('--allow-writes: set and unset a state, delete a model, each confirmed; requests without the token or from elsewhere refused', async () => {
    const ui = await startUi(['--store', './registry', 'ui', '--allow-writes'], { cwd: work });
    running.push(ui);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(ui.url);
    await page.waitForSelector('table.domains');

    // Without the token: no cookie and no header (401); the cookie alone (403); a foreign Host or Origin (403). Nothing changes.
    expect((await fetch(`${ui.origin}/api/domains`)).status).toBe(401);
    expect((await rawRequest(ui.origin, '/', { host: new URL(ui.origin).host })).status).toBe(401);
    const cookieOnly = await page.evaluate(async (): Promise<unknown[]> => {
      const response = await fetch('/api/domains/churn/models/churn-v2/states/staging', { method: 'PUT' });
      return [response.status, ((await response.json()) as any).error.code];
    });
    expect(cookieOnly).toEqual([403, 'TOKEN_REQUIRED']);
    const foreignHost = await rawRequest(ui.origin, '/api/domains/churn/models/churn-v2/states/staging', { host: 'attacker.example', 'x-modelstore-token': ui.token }, 'PUT');
    expect([foreignHost.status, JSON.parse(foreignHost.body).error.code]).toEqual([403, 'FORBIDDEN_HOST']);
    const foreignOrigin = await rawRequest(ui.origin, '/api/domains/churn/models/churn-v2/states/staging', { host: new URL(ui.origin).host, origin: 'http://attacker.example', 'x-modelstore-token': ui.token }, 'PUT');
    expect([foreignOrigin.status, JSON.parse(foreignOrigin.body).error.code]).toEqual([403, 'FORBIDDEN_ORIGIN']);
    const wrongToken = await apiCall({ origin: ui.origin, token: 'f'.repeat(64) }, 'domains/churn/models/churn-v2/states/staging', { method: 'PUT' });
    expect(wrongToken.status).toBe(401);
    const listed = () => cli('--json', 'ls', 'churn').then((result) => JSON.parse(result.stdout) as Array<{ modelId: string; states: string[] }>);
    expect((await listed()).find((row) => row.modelId === 'churn-v2')!.states).toEqual([]);

    // Set a state through the page: asked first; a dismissed question changes nothing.
    await page.goto(`${ui.origin}/#/d/churn/m/churn-v2`);
    await page.waitForSelector('#set-state');
    await page.fill('input[name=state]', 'staging');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click('#set-state');
    await page.waitForTimeout(300);
    expect((await listed()).find((row) => row.modelId === 'churn-v2')!.states).toEqual([]);
    let question = '';
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await page.click('#set-state');
    await page.waitForFunction(() => document.querySelector('.states-line')?.textContent?.includes('staging'));
    // The state did not exist: the question said it would be created.
    expect(question).toBe('Put churn-v2 in state staging? State staging does not exist and will be created.');
    await shot(page, 'model-writes');
    const ls = await cli('ls', 'churn');
    expect(ls.stdout).toMatch(/^churn-v2\s.*\sstaging$/m);

    // Unset it.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('text=unset staging');
    await page.waitForFunction(() => !document.querySelector('.states-line')?.textContent?.includes('staging'));
    expect((await listed()).find((row) => row.modelId === 'churn-v2')!.states).toEqual([]);
    // The state exists now: set again, the question is the plain one (the page read the state list before asking).
    await page.fill('input[name=state]', 'staging');
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.dismiss();
    });
    await page.click('#set-state');
    await page.waitForFunction(() => document.querySelector('#set-state') !== null);
    await page.waitForTimeout(300);
    expect(question).toBe('Put churn-v2 in state staging?');
    await page.fill('input[name=state]', '');

    // Delete a model (a soft delete): gone from `modelstore ls`.
    await page.goto(`${ui.origin}/#/d/churn/m/churn-v3`);
    await page.waitForSelector('#delete');
    page.once('dialog', (dialog) => {
      expect(dialog.message()).toContain('Delete model churn-v3 of churn?');
      void dialog.accept();
    });
    await page.click('#delete');
    await page.waitForFunction(() => location.hash === '#/d/churn');
    await page.waitForSelector('table.models tbody tr');
    expect(await page.locator('table.models tbody').innerText()).not.toContain('churn-v3');
    expect((await listed()).map((row) => row.modelId)).toEqual(['churn-v2', 'churn-v1']);
    await context.close();
    expect(await ui.stop()).toBe(0);
  }, 180_000);

  it('as a new user meets it: a failed download says why on the page; deleting the last model of a domain says so; long values cut in tables and wrapped on the model page', async () => {
    const trial = (...args: string[]) => modelstore(['--store', './trial', ...args], { cwd: work });
    const upload = async (...args: string[]) => expect((await trial('upload', ...args)).code).toBe(0);
    writeFileSync(path.join(work, 'random.bin'), randomBytes(1 << 20));
    await upload('broken', 'random.bin', '--id', 'tampered');
    await upload('broken', 'config.json', '--id', 'missing');
    await upload('solo', 'config.json', '--id', 'only');
    const long = Array.from({ length: 60 }, (_, i) => `segment${i}`).join('_'); // 600+ characters, no space or hyphen to break at
    await upload('long', 'config.json', '--id', 'l1', '--meta', `note=${long}`);
    const ui = await startUi(['--store', './trial', 'ui', '--allow-writes'], { cwd: work });
    running.push(ui);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(ui.url);
    await page.waitForSelector('table.domains');
    const archiveOf = async (id: string) => path.join(work, 'trial', (await apiCall(ui, `domains/broken/models/${id}`)).body.archive.key as string);

    // Same size, one byte changed: the server cuts the stream, and the page says why.
    const tampered = await archiveOf('tampered');
    const bytes = readFileSync(tampered);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(tampered, bytes);
    await page.goto(`${ui.origin}/#/d/broken/m/tampered`);
    await page.waitForSelector('#download');
    await page.click('#download');
    await page.waitForSelector('main .error');
    expect(await page.locator('main .error').innerText()).toContain('does not match the sha256 its metadata records (INTEGRITY)');
    // The archive gone: the server's message.
    rmSync(await archiveOf('missing'));
    await page.goto(`${ui.origin}/#/d/broken/m/missing`);
    await page.waitForSelector('#download');
    await page.click('#download');
    await page.waitForSelector('main .error');
    expect(await page.locator('main .error').innerText()).toMatch(/Download failed: The archive of model "missing" \(.*\) is missing from the store/);
    await shot(page, 'download-failed');

    // An archive over 64 MiB streams through a plain link into the browser's download, named by the server.
    writeFileSync(path.join(work, 'big.bin'), randomBytes(65 << 20));
    await upload('big', 'big.bin', '--id', 'b1');
    const bigSha = (await apiCall(ui, 'domains/big/models/b1')).body.archive.sha256 as string;
    await page.goto(`${ui.origin}/#/d/big/m/b1`);
    await page.waitForSelector('#download');
    const [big] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(big.url()).toBe(`${ui.origin}/api/domains/big/models/b1/archive`); // the API's URL, not a blob: the browser streams it
    expect(big.suggestedFilename()).toBe('big-b1.tar.gz');
    const savedBig = path.join(outputDir, 'big-b1.tar.gz');
    await big.saveAs(savedBig);
    expect(sha256File(savedBig)).toBe(bigSha);
    rmSync(savedBig);
    rmSync(path.join(work, 'big.bin'));

    // Delete the only model of a domain: the page says every model of it was deleted.
    await page.goto(`${ui.origin}/#/d/solo/m/only`);
    await page.waitForSelector('#delete');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#delete');
    await page.waitForFunction(() => location.hash === '#/d/solo');
    await page.waitForSelector('main .error');
    expect(await page.locator('main .error').innerText()).toContain('Every model of domain "solo" was deleted');
    expect(await page.locator('main').innerText()).not.toContain('does not exist');

    // A long extra value: cut to 200 characters in the models table, whole on hover and on a click; wrapped on the model page.
    await page.goto(`${ui.origin}/#/d/long?columns=note`);
    await page.waitForSelector('table.models td.cut');
    const cell = page.locator('table.models td.cut');
    expect(await cell.innerText()).toBe(`${long.slice(0, 200)}…`);
    expect(await cell.getAttribute('title')).toBe(long);
    await cell.click();
    expect(await cell.innerText()).toBe(long);
    await page.goto(`${ui.origin}/#/d/long/m/l1`);
    await page.waitForSelector('#extra');
    expect(await page.locator('#extra').innerText()).toContain(long.slice(-40));
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(widths[0]).toBeLessThanOrEqual(widths[1]); // no horizontal scroll: the value wraps
    await shot(page, 'long-value');
    expect(errors).toEqual([]);
    await context.close();
    expect(await ui.stop()).toBe(0);
  }, 180_000);

  it("--host 0.0.0.0 prints a 127.0.0.1 URL and accepts Host headers naming the machine's addresses, never other names", async () => {
    const ui = await startUi(['--store', './registry', 'ui', '--host', '0.0.0.0'], { cwd: work });
    running.push(ui);
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ui.stderr()).toContain('warning: serving on every address of this machine (0.0.0.0)');
    expect(ui.stderr()).toContain(`from another machine open http://<an address of this machine>:${new URL(ui.origin).port}/?token=`);
    expect((await apiCall(ui, 'domains')).status).toBe(200);
    const port = new URL(ui.origin).port;
    const addresses = Object.values(networkInterfaces())
      .flatMap((entries) => entries ?? [])
      .filter((entry) => entry.family === 'IPv4')
      .map((entry) => entry.address);
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) {
      const answer = await rawRequest(`http://${address}:${port}`, '/api/domains', { host: `${address}:${port}`, 'x-modelstore-token': ui.token });
      expect([address, answer.status]).toEqual([address, 200]);
    }
    const foreign = await rawRequest(ui.origin, '/api/domains', { host: `attacker.example:${port}`, 'x-modelstore-token': ui.token });
    expect([foreign.status, JSON.parse(foreign.body).error.code]).toEqual([403, 'FORBIDDEN_HOST']);
    expect(await ui.stop()).toBe(0);
  }, 60_000);

  it('--host another address warns on stderr; a bad --port is a usage error', async () => {
    const bad = await cli('ui', '--port', 'eighty');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port takes a number from 0 to 65535');
    const ui = await startUi(['--store', './registry', 'ui', '--host', '127.0.0.2'], { cwd: work });
    running.push(ui);
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\//);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ui.stderr()).toContain('warning: serving on 127.0.0.2, not 127.0.0.1');
    expect((await apiCall(ui, 'domains')).status).toBe(200);
    // A port in use: a usage error that says what to do.
    const taken = await cli('ui', '--host', '127.0.0.2', '--port', new URL(ui.origin).port);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(`127.0.0.2:${new URL(ui.origin).port} is already in use; choose another port, or --port 0`);
    expect(await ui.stop()).toBe(0);
    // --json: the first line is a JSON document with the URL.
    const json = await startUi(['--store', './registry', '--json', 'ui'], { cwd: work });
    running.push(json);
    const first = JSON.parse(json.url) as { url: string; origin: string; port: number; allowWrites: boolean };
    expect(Object.keys(first)).toEqual(['url', 'origin', 'port', 'allowWrites']);
    expect(first).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/), origin: `http://127.0.0.1:${first.port}`, allowWrites: false });
    // SIGTERM: exit 0, and the port is free at once (the same port serves again).
    expect(await json.stop()).toBe(0);
    const again = await startUi(['--store', './registry', 'ui', '--port', String(first.port)], { cwd: work });
    running.push(again);
    expect(new URL(again.url).port).toBe(String(first.port));
    expect(await again.stop()).toBe(0);
  }, 60_000);
});
