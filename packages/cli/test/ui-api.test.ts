// The JSON API of `modelstore ui` (UI-API.md) on each backend — it only uses core's
// ModelStore, so one test per backend — and on a registry Python modelstore wrote (the
// real library, in the test run): domains, a page of models, a model, compare, the count,
// the archive as stored (sha256-checked when recorded), and the refusals.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensurePythonEnv } from '@modelstore/test-servers';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { shellWord } from '../src/words.js';
import { modelstore, stores } from './helpers.js';
import { apiCall, startUi, type UiProcess } from './ui-helpers.js';

let work: string;
const running: UiProcess[] = [];

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-ui-api-'));
  writeFileSync(path.join(work, 'model.bin'), Buffer.alloc(2048, 7));
  writeFileSync(path.join(work, 'config.json'), '{"layers": 2}\n');
  mkdirSync(path.join(work, 'v2'));
  writeFileSync(path.join(work, 'v2', 'model.bin'), Buffer.alloc(2048, 8));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(path.join(work, 'signing-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
});

afterAll(async () => {
  for (const ui of running) await ui.stop();
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.each(['file system', 's3', 'gcs', 'azure'] as const)('the ui JSON API on %s', (backend) => {
  it('serves domains, models, a model, compare, the count and the verified archive; read-only refuses writes', async () => {
    const all = stores();
    const store = backend === 'file system' ? `./registry-${Date.now()}` : all[backend];
    const env = backend === 'file system' ? {} : all.env;
    const cli = (...args: string[]) => modelstore(['--store', store, ...args], { cwd: work, env });
    expect((await cli('upload', 'churn', 'model.bin', 'config.json', '--id', 'm1', '--meta-json', 'accuracy=0.9', '--state', 'production')).code).toBe(0);
    const signed = await cli('upload', 'churn', 'v2/model.bin', '--id', 'm2', '--meta-json', 'accuracy=0.95', '--sign-key', 'signing-key.pem');
    expect(signed.code).toBe(0);
    const ui = await startUi(['--store', store, 'ui'], { cwd: work, env });
    running.push(ui);

    const info = await apiCall(ui, 'store');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ store, allowWrites: false, states: ['production'] });

    const domains = await apiCall(ui, 'domains');
    expect(domains.body.domains).toEqual([{ domain: 'churn', modelCount: 2, latest: expect.objectContaining({ modelId: 'm2', library: 'model_file', states: [] }) }]);

    const page = await apiCall(ui, 'domains/churn/models?limit=1');
    expect(page.body.models.map((model: { modelId: string }) => model.modelId)).toEqual(['m2']);
    const rest = page.body.cursor ? await apiCall(ui, `domains/churn/models?limit=1&cursor=${encodeURIComponent(page.body.cursor)}`) : await apiCall(ui, `domains/churn/models?limit=1&offset=${page.body.next}`);
    expect(rest.body.models.map((model: { modelId: string }) => model.modelId)).toEqual(['m1']);
    expect((await apiCall(ui, 'domains/churn/models?state=production')).body).toMatchObject({ total: 1, models: [expect.objectContaining({ modelId: 'm1', states: ['production'] })] });
    expect((await apiCall(ui, 'domains/churn/models?q=0.95')).body.models.map((model: { modelId: string }) => model.modelId)).toEqual(['m2']);
    expect((await apiCall(ui, 'domains/churn/models?columns=accuracy&offset=0')).body.models.map((model: { columns?: Record<string, unknown> }) => model.columns)).toEqual([{ accuracy: 0.95 }, { accuracy: 0.9 }]);
    expect((await apiCall(ui, 'domains/churn/count')).body).toEqual({ domain: 'churn', state: null, total: 2 });

    const model = await apiCall(ui, 'domains/churn/models/m2');
    expect(model.status).toBe(200);
    const metadata = JSON.parse((await cli('--json', 'info', 'churn', 'm2')).stdout) as { archive: { sha256: string; size: number } };
    expect(model.body.archive).toMatchObject({ sha256: metadata.archive.sha256, size: metadata.archive.size, verified: true });
    expect(model.body.archive.files.map((file: { path: string }) => file.path)).toEqual(['model-info.json', 'model.bin']);
    expect(model.body.signature).toMatchObject({ status: 'signed', kind: 'public-key', verified: false });
    expect(model.body.commands[0].text).toBe(`modelstore --store ${shellWord(backend === 'file system' ? path.resolve(work, store) : store)} download churn m2 --to churn-m2`);

    const archive = await fetch(`${ui.origin}/api/domains/churn/models/m2/archive`, { headers: { 'x-modelstore-token': ui.token } });
    expect(archive.status).toBe(200);
    expect(archive.headers.get('x-modelstore-verified')).toBe('sha256');
    expect(sha256(Buffer.from(await archive.arrayBuffer()))).toBe(metadata.archive.sha256);

    const compare = await apiCall(ui, 'domains/churn/compare?a=m1&b=m2');
    expect(compare.body.files).toMatchObject({ known: true, added: [], removed: [{ path: 'config.json' }], changed: [{ path: 'model.bin' }] });
    expect(compare.body.metadata).toContainEqual({ path: 'extra.accuracy', a: 0.9, b: 0.95, change: 'changed' });

    expect((await apiCall(ui, 'domains/churn/models/m1/states/staging', { method: 'PUT' })).body.error.code).toBe('READ_ONLY');
    expect((await apiCall(ui, 'domains/churn/models/nope')).status).toBe(404);
    expect((await apiCall(ui, 'domains/versions/models')).body.error.code).toBe('INVALID_NAME');
    expect(await ui.stop()).toBe(0);
  }, 180_000);
});

describe('the ui archive download', () => {
  it('cuts the connection before the last byte when the archive no longer has its recorded sha256, and refuses one of another size', async () => {
    const cli = (...args: string[]) => modelstore(['--store', './tampered', ...args], { cwd: work });
    // 1 MiB that does not compress: the archive streams in several chunks, so the response has begun when the digest is known.
    writeFileSync(path.join(work, 'random.bin'), randomBytes(1 << 20));
    expect((await cli('upload', 'churn', 'random.bin', '--id', 't1')).code).toBe(0);
    expect((await cli('upload', 'churn', 'config.json', '--id', 't2')).code).toBe(0);
    const ui = await startUi(['--store', './tampered', 'ui'], { cwd: work });
    running.push(ui);
    const archiveOf = async (id: string) => path.join(work, 'tampered', (await apiCall(ui, `domains/churn/models/${id}`)).body.archive.key as string);
    // Same size, one byte changed.
    const first = await archiveOf('t1');
    const bytes = readFileSync(first);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(first, bytes);
    const response = await fetch(`${ui.origin}/api/domains/churn/models/t1/archive`, { headers: { 'x-modelstore-token': ui.token } });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    const read = await response.arrayBuffer().then(
      (body) => body.byteLength,
      (error: Error) => error.name,
    );
    expect(read).not.toBe(bytes.length); // the body failed: the client never holds the whole (wrong) archive
    // Another size: refused before any byte.
    writeFileSync(await archiveOf('t2'), Buffer.concat([readFileSync(await archiveOf('t2')), Buffer.from('x')]));
    const resized = await apiCall(ui, 'domains/churn/models/t2/archive');
    expect([resized.status, resized.body.error.code]).toEqual([502, 'INTEGRITY']);
    expect(await ui.stop()).toBe(0);
  }, 60_000);
});

describe('the ui JSON API on the committed Python modelstore fixture (python/fixtures/python-modelstore)', () => {
  it('answers what Python modelstore answered on it (expected.json): domains, order, states, files and their sha256, the archive bytes; the library and type of its ONNX model', async () => {
    const fixture = path.resolve(__dirname, '..', '..', '..', 'python', 'fixtures', 'python-modelstore');
    const root = path.join(work, 'fixture-copy');
    cpSync(path.join(fixture, 'registry-fs'), root, { recursive: true });
    const expected = JSON.parse(readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as {
      list_domains: string[];
      domains: Record<
        string,
        {
          list_models: string[];
          list_models_by_state: Record<string, string[]>;
          latest_model_id: string;
          models: Record<string, { get_model_states: string[]; archive_relpath: string; archive_sha256: string; files_sha256: Record<string, string>; extra: Record<string, unknown> | null }>;
        }
      >;
    };
    const ui = await startUi(['--store', root, 'ui'], { cwd: work });
    running.push(ui);
    const domains = (await apiCall(ui, 'domains')).body.domains as Array<{ domain: string; modelCount: number; latest: { modelId: string } }>;
    expect(domains.map((row) => row.domain)).toEqual(expected.list_domains);
    for (const [domain, facts] of Object.entries(expected.domains)) {
      expect(domains.find((row) => row.domain === domain)).toMatchObject({ modelCount: facts.list_models.length, latest: { modelId: facts.latest_model_id } });
      expect((await apiCall(ui, `domains/${domain}/models?offset=0`)).body.models.map((model: { modelId: string }) => model.modelId)).toEqual(facts.list_models);
      for (const [state, ids] of Object.entries(facts.list_models_by_state)) {
        expect((await apiCall(ui, `domains/${domain}/models?state=${state}`)).body.models.map((model: { modelId: string }) => model.modelId)).toEqual(ids);
      }
      for (const [modelId, model] of Object.entries(facts.models)) {
        if (!facts.list_models.includes(modelId)) continue;
        const page = (await apiCall(ui, `domains/${domain}/models/${modelId}`)).body;
        expect(page.states).toEqual(model.get_model_states);
        expect(page.metadata.extra ?? null).toEqual(model.extra);
        expect(page.archive).toMatchObject({ key: model.archive_relpath, verified: false, files: null });
        const files = (await apiCall(ui, `domains/${domain}/models/${modelId}/files`)).body.files as Array<{ path: string; sha256: string }>;
        expect(Object.fromEntries(files.map((file) => [file.path, file.sha256]))).toEqual(expect.objectContaining(model.files_sha256));
        const archive = await fetch(`${ui.origin}/api/domains/${domain}/models/${modelId}/archive`, { headers: { 'x-modelstore-token': ui.token } });
        expect(sha256(Buffer.from(await archive.arrayBuffer()))).toBe(model.archive_sha256);
      }
    }
    const onnx = (await apiCall(ui, 'domains/iris-onnx/models/iris-v1')).body;
    expect(onnx.library).toBe('onnx');
    expect(onnx.type).toBe('ModelProto');
    expect(await ui.stop()).toBe(0);
  }, 120_000);
});

describe('the ui JSON API on a registry Python modelstore wrote', () => {
  let python: string;
  beforeAll(async () => {
    ({ python } = await ensurePythonEnv());
  }, 20 * 60_000);

  it('lists its models, reads the archive for their files, serves the archive as stored (unverified: no digest recorded), and sets a state with --allow-writes', async () => {
    const root = path.join(work, 'python-registry');
    const run = (args: string[]) => promisify(execFile)(python, args, { env: { PATH: process.env.PATH ?? '', HOME: work }, timeout: 120_000 });
    await run([path.join(__dirname, 'python', 'fs_registry.py'), root, 'fraud', path.join(work, 'model.bin'), 'py-1', 'production']);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await run([path.join(__dirname, 'python', 'fs_registry.py'), root, 'fraud', path.join(work, 'v2', 'model.bin'), 'py-2']);
    const ui = await startUi(['--store', root, 'ui', '--allow-writes'], { cwd: work });
    running.push(ui);

    const domains = await apiCall(ui, 'domains');
    expect(domains.body.domains).toEqual([{ domain: 'fraud', modelCount: 2, latest: expect.objectContaining({ modelId: 'py-2', states: [] }) }]);
    const page = await apiCall(ui, 'domains/fraud/models');
    expect(page.body.models.map((model: { modelId: string; states: string[] }) => [model.modelId, model.states])).toEqual([
      ['py-2', []],
      ['py-1', ['production']],
    ]);
    expect(page.body.models.every((model: { createdAt: string | null }) => typeof model.createdAt === 'string')).toBe(true);

    const model = await apiCall(ui, 'domains/fraud/models/py-1');
    expect(model.body.archive).toMatchObject({ sha256: null, verified: false, files: null });
    expect(model.body.library).toBe('model_file');
    expect(model.body.commands.at(-1).text).toContain(`ModelStore.from_file_system(root_directory=${JSON.stringify(root)})`);
    const files = await apiCall(ui, 'domains/fraud/models/py-1/files');
    expect(files.body.source).toBe('archive');
    expect(files.body.files).toContainEqual({ path: 'model.bin', size: 2048, sha256: sha256(Buffer.alloc(2048, 7)) });

    const archive = await fetch(`${ui.origin}/api/domains/fraud/models/py-1/archive`, { headers: { 'x-modelstore-token': ui.token } });
    expect(archive.headers.get('x-modelstore-verified')).toBe('none');
    const stored = readFileSync(path.join(root, model.body.archive.key));
    expect(sha256(Buffer.from(await archive.arrayBuffer()))).toBe(sha256(stored));

    const compare = await apiCall(ui, 'domains/fraud/compare?a=py-1&b=py-2');
    expect(compare.body.files.known).toBe(false);
    expect(compare.body.metadata.some((row: { path: string; change: string }) => row.path === 'model.model_id' && row.change === 'changed')).toBe(true);

    // The page's Python command line runs as printed, in a folder where its download folder does not exist yet.
    const snippet = model.body.commands.find((command: { label: string }) => command.label === 'download (Python modelstore)').text as string;
    expect(snippet).toContain('os.makedirs("fraud-py-1", exist_ok=True)');
    const fresh = mkdtempSync(path.join(work, 'python-snippet-'));
    await promisify(execFile)(python, ['-c', snippet], { cwd: fresh, env: { PATH: process.env.PATH ?? '', HOME: work }, timeout: 120_000 });
    const downloaded = readdirSync(path.join(fresh, 'fraud-py-1'), { recursive: true }).map(String);
    expect(downloaded.some((name) => name.endsWith('model.bin'))).toBe(true);

    const set = await apiCall(ui, 'domains/fraud/models/py-2/states/staging', { method: 'PUT' });
    expect(set.body).toEqual({ domain: 'fraud', modelId: 'py-2', state: 'staging', set: true, stateCreated: true });
    // Python modelstore reads the state the page set.
    const listed = await run(['-c', `from modelstore import ModelStore; print(ModelStore.from_file_system(root_directory=${JSON.stringify(root)}).list_models("fraud", state_name="staging"))`]);
    expect(listed.stdout.trim()).toBe("['py-2']");
    expect(await ui.stop()).toBe(0);
  }, 300_000);
});

/** A small safetensors file (github.com/huggingface/safetensors, "Format"): one F32 tensor of 4. */
function safetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ weight: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.alloc(16, 1)]);
}

describe('the ui JSON API as a new user meets it', () => {
  it('the first page carries a cursor when more models follow, even when the whole listing is in memory; columns over 8 are refused', async () => {
    const cli = (...args: string[]) => modelstore(['--store', './paged', ...args], { cwd: work });
    for (const id of ['p1', 'p2', 'p3']) expect((await cli('upload', 'churn', 'config.json', '--id', id)).code).toBe(0);
    const ui = await startUi(['--store', './paged', 'ui'], { cwd: work });
    running.push(ui);
    // The count reads the whole listing and keeps it in memory for 10 s: the first page still continues by cursor.
    expect((await apiCall(ui, 'domains/churn/count')).body.total).toBe(3);
    const first = (await apiCall(ui, 'domains/churn/models?limit=1')).body;
    expect(first).toMatchObject({ total: 3, next: 1, cursor: expect.any(String), models: [expect.objectContaining({ modelId: 'p3' })] });
    const ids: string[] = first.models.map((model: { modelId: string }) => model.modelId);
    let cursor: string | null = first.cursor;
    while (cursor) {
      const page = (await apiCall(ui, `domains/churn/models?limit=1&cursor=${encodeURIComponent(cursor)}`)).body;
      ids.push(...page.models.map((model: { modelId: string }) => model.modelId));
      cursor = page.cursor;
    }
    expect(ids).toEqual(['p3', 'p2', 'p1']);
    // The last page: no cursor.
    expect((await apiCall(ui, 'domains/churn/models?limit=3')).body.cursor).toBeNull();

    const nine = Array.from({ length: 9 }, (_, i) => `k${i}`).join(',');
    const refused = await apiCall(ui, `domains/churn/models?columns=${nine}`);
    expect([refused.status, refused.body.error.code]).toEqual([400, 'USAGE']);
    expect(refused.body.error.message).toContain('up to 8 extra keys, got 9');
    expect((await apiCall(ui, `domains/churn/models?columns=${nine.split(',').slice(0, 8).join(',')}`)).status).toBe(200);
    expect(await ui.stop()).toBe(0);
  }, 60_000);

  it('a domain whose models are all deleted is not listed, and its routes say every model was deleted; writes take Authorization: Bearer; a non-ASCII id is named with filename*', async () => {
    const cli = (...args: string[]) => modelstore(['--store', './emptied', ...args], { cwd: work });
    expect((await cli('upload', 'solo', 'config.json', '--id', 'only')).code).toBe(0);
    expect((await cli('upload', 'other', 'config.json', '--id', 'modèle-ü')).code).toBe(0);
    const ui = await startUi(['--store', './emptied', 'ui', '--allow-writes'], { cwd: work });
    running.push(ui);
    const bearer = { headers: { authorization: `Bearer ${ui.token}` } };
    const write = async (route: string, method: string) => {
      const response = await fetch(`${ui.origin}/api/${route}`, { method, ...bearer });
      return { status: response.status, body: (await response.json()) as any };
    };
    expect(await write('domains/other/models/mod%C3%A8le-%C3%BC/states/staging', 'PUT')).toEqual({ status: 200, body: { domain: 'other', modelId: 'modèle-ü', state: 'staging', set: true, stateCreated: true } });
    expect((await write('domains/solo/models/only', 'DELETE')).body).toEqual({ domain: 'solo', modelId: 'only', deleted: true });
    expect((await apiCall(ui, 'domains')).body.domains.map((row: { domain: string }) => row.domain)).toEqual(['other']);
    for (const route of ['domains/solo', 'domains/solo/models', 'domains/solo/count']) {
      const answer = await apiCall(ui, route);
      expect([answer.status, answer.body.error.code]).toEqual([404, 'DOMAIN_NOT_FOUND']);
      expect(answer.body.error.message).toContain('Every model of domain "solo" was deleted');
    }
    // A domain that never existed keeps core's message.
    expect((await apiCall(ui, 'domains/never')).body.error.message).toContain('Domain "never" does not exist');

    const archive = await fetch(`${ui.origin}/api/domains/other/models/mod%C3%A8le-%C3%BC/archive`, { method: 'HEAD', ...bearer });
    expect(archive.status).toBe(200);
    expect(archive.headers.get('content-disposition')).toBe(`attachment; filename="other-mod_le-_.tar.gz"; filename*=UTF-8''other-mod%C3%A8le-%C3%BC.tar.gz`);
    expect((await fetch(`${ui.origin}/api/domains/other/models/nope/archive`, { method: 'HEAD', ...bearer })).status).toBe(404);
    expect(await ui.stop()).toBe(0);
  }, 60_000);

  it("the Node command line imports the adapter the model's library needs, and runs as printed (raw and safetensors)", async () => {
    const project = path.join(work, 'node-project');
    mkdirSync(path.join(project, 'node_modules', '@modelstore'), { recursive: true });
    // As a user's project has them installed (workspace-resolve.mjs lets core find the storage backend, which pnpm does not link beside it).
    for (const name of ['core', 'adapter-raw', 'adapter-safetensors']) symlinkSync(path.resolve(__dirname, '..', '..', name), path.join(project, 'node_modules', '@modelstore', name));
    writeFileSync(path.join(project, 'package.json'), '{"type": "module"}\n');
    writeFileSync(path.join(project, 'encoder.safetensors'), safetensors());
    cpSync(path.join(work, 'config.json'), path.join(project, 'config.json'));
    const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: project });
    expect((await cli('upload', 'raw', 'config.json', '--id', 'r1')).code).toBe(0);
    expect((await cli('upload', 'emb', 'encoder.safetensors', '--id', 's1')).code).toBe(0);
    const ui = await startUi(['--store', './registry', 'ui'], { cwd: project });
    running.push(ui);
    for (const [domain, modelId, adapter, pkg] of [
      ['raw', 'r1', 'RawAdapter', '@modelstore/adapter-raw'],
      ['emb', 's1', 'SafetensorsAdapter', '@modelstore/adapter-safetensors'],
    ] as const) {
      const model = (await apiCall(ui, `domains/${domain}/models/${modelId}`)).body;
      const snippet = model.commands.find((command: { label: string }) => command.label === 'download or load (Node)').text as string;
      expect(snippet).toContain(`import { ${adapter} } from '${pkg}';`);
      expect(snippet).toContain(`{ adapters: [new ${adapter}()] }`);
      const file = path.join(project, `snippet-${domain}.mjs`);
      writeFileSync(file, `${snippet}\nconsole.log(JSON.stringify({ loaded: model !== undefined && model !== null }));\n`);
      const ran = await promisify(execFile)(process.execPath, ['--import', pathToFileURL(path.join(__dirname, 'workspace-resolve.mjs')).href, file], { cwd: project, env: { PATH: process.env.PATH ?? '', HOME: project }, timeout: 60_000 });
      expect(JSON.parse(ran.stdout.trim().split('\n').at(-1)!)).toEqual({ loaded: true });
      expect(existsSync(path.join(project, `${domain}-${modelId}`))).toBe(true);
    }
    expect(await ui.stop()).toBe(0);
  }, 120_000);
});
