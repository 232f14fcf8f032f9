// Packs every published package, checks what each tarball holds, installs the
// tarballs with npm into fresh projects (no workspace links), and runs there what a
// user would: the README quick start, an ESM and a CommonJS script, `npx modelstore`.
// publint and @arethetypeswrong/cli check every tarball's manifest and type resolution.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(tmpdir(), 'modelstore-packages-'));
const failures = [];
let checks = 0;

function check(condition, message) {
  checks++;
  if (!condition) failures.push(message);
}

function run(command, args, cwd, options = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', ...options.env } });
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd} (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

const forbiddenInFsProject = ['@aws-sdk', '@google-cloud', '@azure', 'onnxruntime-node', 'onnxruntime-common', '@tensorflow'];

/** Every package directory name under node_modules (scoped ones as @scope/name), nested included. */
function installedPackages(directory) {
  const found = new Set();
  const walk = (modules) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const names = entry.startsWith('@') ? readdirSync(path.join(modules, entry)).map((name) => `${entry}/${name}`) : [entry];
      for (const name of names) {
        found.add(name);
        walk(path.join(modules, name, 'node_modules'));
      }
    }
  };
  walk(path.join(directory, 'node_modules'));
  return found;
}

function newProject(name, tarballs) {
  const directory = path.join(work, name);
  mkdirSync(directory);
  writeFileSync(path.join(directory, 'package.json'), JSON.stringify({ name: `try-${name}`, version: '1.0.0', private: true }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], directory);
  return directory;
}

try {
  // 1. Pack every published package (pnpm replaces workspace: ranges with versions).
  const tarballDir = path.join(work, 'tarballs');
  mkdirSync(tarballDir);
  const packages = readdirSync(path.join(root, 'packages'))
    .map((folder) => ({ folder, manifest: JSON.parse(readFileSync(path.join(root, 'packages', folder, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private);
  const tarballs = {};
  for (const { folder, manifest } of packages) {
    run('pnpm', ['pack', '--pack-destination', tarballDir], path.join(root, 'packages', folder));
    const file = readdirSync(tarballDir).find((name) => name.startsWith(`${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}`));
    check(file !== undefined, `${manifest.name}: no tarball was packed`);
    tarballs[manifest.name] = path.join(tarballDir, file);
  }

  // 2. What each tarball holds.
  for (const [name, tarball] of Object.entries(tarballs)) {
    const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    const inspect = path.join(work, 'inspect', name.replace('/', '__'));
    mkdirSync(inspect, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', inspect]);
    const packageDir = path.join(inspect, 'package');
    const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
    const unwanted = entries.filter((entry) => /\.test\.|(^|\/)test\/|fixtures|\.tsbuildinfo$|(^|\/)node_modules\//.test(entry));
    check(unwanted.length === 0, `${name}: the tarball holds ${unwanted.join(', ')}`);
    for (const required of ['package/package.json', 'package/README.md', 'package/LICENSE']) check(entries.includes(required), `${name}: the tarball lacks ${required}`);
    check(typeof manifest.exports?.['.']?.types === 'string' && existsSync(path.join(packageDir, manifest.exports['.'].types)), `${name}: exports "." has no types file in the tarball`);
    check(existsSync(path.join(packageDir, manifest.exports?.['.']?.default ?? 'missing')), `${name}: exports "." points at a file the tarball lacks`);
    check(manifest.license === 'Apache-2.0', `${name}: license is ${manifest.license}`);
    check(manifest.repository?.url && manifest.repository?.directory, `${name}: repository is incomplete`);
    check(Array.isArray(manifest.keywords) && manifest.keywords.length > 0, `${name}: no keywords`);
    check(manifest.engines?.node === '>=20.19', `${name}: engines.node is ${manifest.engines?.node}`);
    check(manifest.type === 'module' && manifest.sideEffects === false, `${name}: type/sideEffects`);
    check(!JSON.stringify(manifest).includes('workspace:'), `${name}: a workspace: range survived packing`);
    for (const bin of Object.values(manifest.bin ?? {})) check(existsSync(path.join(packageDir, bin)), `${name}: bin ${bin} is missing`);
    // Source maps must point at files that ship.
    for (const entry of entries.filter((entry) => entry.endsWith('.map'))) {
      const map = JSON.parse(readFileSync(path.join(inspect, entry), 'utf8'));
      for (const source of map.sources ?? []) {
        const resolved = path.resolve(path.dirname(path.join(inspect, entry)), map.sourceRoot ?? '', source);
        check(existsSync(resolved), `${name}: ${entry} points at ${source}, which the tarball lacks`);
      }
    }
  }

  // 2b. publint (errors and warnings fail; suggestions are printed) and arethetypeswrong on
  // each tarball. The packages are ESM only: Node >= 20.19 (engines) loads them with
  // require() too (the CommonJS script below proves it), so attw's cjs-resolves-to-esm
  // rule, about older Nodes and bundlers, is ignored. Every other attw problem fails.
  const attw = path.join(root, 'node_modules', '.bin', 'attw');
  for (const [name, tarball] of Object.entries(tarballs)) {
    const bytes = readFileSync(tarball);
    const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }, level: 'suggestion' });
    const text = (message) => `${message.code}: ${formatMessage(message, pkg) ?? ''}`;
    for (const message of messages.filter((message) => message.type === 'suggestion')) console.log(`${name}: publint suggests ${text(message)}`);
    const problems = messages.filter((message) => message.type !== 'suggestion');
    check(problems.length === 0, `${name}: publint ${problems.map((message) => `${message.type} ${text(message)}`).join('; ')}`);
    const types = run(attw, [tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'], work, { allowFailure: true, env: { NO_COLOR: '1' } });
    check(types.status === 0, `${name}: @arethetypeswrong/cli found problems:\n${types.stdout}\n${types.stderr}`);
  }

  // 3. A project with the file system backend only: the README quick start, ESM, CommonJS.
  const fsOnly = newProject('fs-only', [tarballs['@modelstore/core'], tarballs['@modelstore/storage-fs'], tarballs['@modelstore/adapter-raw']]);
  const installed = installedPackages(fsOnly);
  for (const forbidden of forbiddenInFsProject) {
    const hits = [...installed].filter((name) => name === forbidden || name.startsWith(`${forbidden}/`));
    check(hits.length === 0, `fs-only project installed ${hits.join(', ')}`);
  }
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const quickStart = /## Quick start[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  check(quickStart !== undefined, 'README.md has no ```js block under "## Quick start"');
  writeFileSync(path.join(fsOnly, 'weights.bin'), Buffer.alloc(64 * 1024, 3));
  writeFileSync(path.join(fsOnly, 'quickstart.mjs'), quickStart ?? '');
  const quick = run('node', ['quickstart.mjs'], fsOnly, { allowFailure: true });
  check(quick.status === 0, `the README quick start failed in a fresh project:\n${quick.stdout}\n${quick.stderr}`);
  check(/production/.test(quick.stdout) || quick.stdout.includes('['), `the README quick start printed nothing useful: ${quick.stdout}`);

  const script = (flavour) => `
const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
writeFileSync('model.bin', Buffer.from('weights of a ${flavour} user'));
const store = new ModelStore({ storage: new FileSystemStorage({ root: './registry-${flavour}' }), adapters: [new RawAdapter()], cacheDir: './cache-${flavour}' });
const { model } = await store.upload('churn', { model: './model.bin', extraMetadata: { flavour: '${flavour}' } });
const ids = await store.listModels('churn');
const to = await store.download('churn', { modelId: model.model_id, to: './out-${flavour}' });
const loaded = await store.load('churn');
if (ids.length !== 1 || ids[0] !== model.model_id) throw new Error('listModels: ' + ids);
if (sha(to + '/model.bin') !== sha('model.bin') || sha(loaded + '/model.bin') !== sha('model.bin')) throw new Error('bytes differ');
console.log('${flavour} ok', model.model_id);
`;
  writeFileSync(
    path.join(fsOnly, 'esm.mjs'),
    `import { ModelStore } from '@modelstore/core';\nimport { FileSystemStorage } from '@modelstore/storage-fs';\nimport { RawAdapter } from '@modelstore/adapter-raw';\nimport { createHash } from 'node:crypto';\nimport { readFileSync, writeFileSync } from 'node:fs';\n${script('esm')}`,
  );
  writeFileSync(
    path.join(fsOnly, 'cjs.cjs'),
    `const { ModelStore } = require('@modelstore/core');\nconst { FileSystemStorage } = require('@modelstore/storage-fs');\nconst { RawAdapter } = require('@modelstore/adapter-raw');\nconst { createHash } = require('node:crypto');\nconst { readFileSync, writeFileSync } = require('node:fs');\n(async () => {${script('cjs')}})().catch((error) => { console.error(error); process.exit(1); });\n`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const result = run('node', [file], fsOnly, { allowFailure: true });
    check(result.status === 0 && /ok /.test(result.stdout), `${file} failed in a fresh project:\n${result.stdout}\n${result.stderr}`);
  }

  // 4. The CLI from its tarball.
  const cliProject = newProject('cli', [tarballs['@modelstore/cli'], tarballs['@modelstore/core'], tarballs['@modelstore/storage-fs'], tarballs['@modelstore/adapter-raw']]);
  const help = run('npx', ['--no-install', 'modelstore', '--help'], cliProject, { allowFailure: true });
  check(help.status === 0 && help.stdout.includes('Usage: modelstore'), `npx modelstore --help failed:\n${help.stdout}\n${help.stderr}`);
  writeFileSync(path.join(cliProject, 'model.bin'), 'weights');
  const upload = run('npx', ['--no-install', 'modelstore', '--store', './registry', 'upload', 'churn', 'model.bin', '--id', 'packed'], cliProject, { allowFailure: true });
  check(upload.status === 0 && upload.stdout.trim() === 'packed', `npx modelstore upload failed:\n${upload.stdout}\n${upload.stderr}`);
  const s3Missing = run('npx', ['--no-install', 'modelstore', '--store', 's3://bucket/prefix', 'ls'], cliProject, { allowFailure: true });
  check(s3Missing.status === 1 && s3Missing.stderr.includes('npm install @modelstore/storage-s3'), `a missing backend gave no install hint:\n${s3Missing.stderr}`);
  // `modelstore ui` from the tarball: its page and the preact/htm modules it serves from the CLI's own dependencies.
  {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [path.join(cliProject, 'node_modules', '@modelstore', 'cli', 'dist', 'bin.js'), '--store', './registry', 'ui'], { cwd: cliProject, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (data) => {
          out += data.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.on('close', (code) => reject(new Error(`modelstore ui exited (${code}) before printing its URL`)));
      });
      const { origin, searchParams } = new URL(url);
      const headers = { 'x-modelstore-token': searchParams.get('token') };
      for (const route of ['/vendor/preact.mjs', '/vendor/preact-hooks.mjs', '/vendor/htm.mjs', '/ui/app.js', '/ui/style.css', '/api/domains']) {
        const response = await fetch(`${origin}${route}`, { headers });
        check(response.status === 200, `modelstore ui from the tarball answered ${response.status} for ${route}`);
      }
      const page = await fetch(url, { redirect: 'manual' });
      check(page.status === 303, `modelstore ui from the tarball answered ${page.status} for its URL`);
    } catch (error) {
      check(false, `modelstore ui from the tarball: ${error.message}`);
    } finally {
      child.kill('SIGTERM');
    }
  }

  // 5. An S3 user's project: ESM and CommonJS, and no other cloud SDK.
  const s3Project = newProject('s3', [tarballs['@modelstore/core'], tarballs['@modelstore/storage-s3']]);
  const s3Installed = [...installedPackages(s3Project)];
  check(
    s3Installed.some((name) => name.startsWith('@aws-sdk/')),
    'the S3 project has no AWS SDK',
  );
  check(!s3Installed.some((name) => /^@google-cloud\/|^@azure\/|^onnxruntime|^@tensorflow\//.test(name)), 'the S3 project installed another cloud SDK or runtime');
  writeFileSync(
    path.join(s3Project, 'esm.mjs'),
    `import { S3Storage } from '@modelstore/storage-s3';\nimport { ModelStore } from '@modelstore/core';\nconst store = new ModelStore({ storage: new S3Storage({ bucket: 'b', region: 'eu-west-1' }) });\nconsole.log(store.storage.describe('k').type);\n`,
  );
  writeFileSync(path.join(s3Project, 'cjs.cjs'), `const { S3Storage } = require('@modelstore/storage-s3');\nconsole.log(new S3Storage({ bucket: 'b', region: 'eu-west-1' }).describe('k').type);\n`);
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const result = run('node', [file], s3Project, { allowFailure: true, env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    check(result.status === 0 && result.stdout.trim() === 'aws:s3', `${file} failed in the S3 project:\n${result.stdout}\n${result.stderr}`);
  }
  // 6. A safetensors user's project: core, storage-fs and the adapter only (no runtime peer).
  // A two-tensor file made byte by byte is uploaded, listed and loaded; a tensor read back
  // through the returned offsets; a file with overlapping offsets refused, nothing committed.
  const safetensorsProject = newProject('safetensors', [tarballs['@modelstore/core'], tarballs['@modelstore/storage-fs'], tarballs['@modelstore/adapter-safetensors']]);
  const safetensorsInstalled = [...installedPackages(safetensorsProject)];
  check(!safetensorsInstalled.some((name) => /^@aws-sdk\/|^@google-cloud\/|^@azure\/|^onnxruntime|^@tensorflow\/|^@huggingface\//.test(name)), `the safetensors project installed ${safetensorsInstalled.join(', ')}`);
  const safetensorsScript = (flavour) => `
const file = (name, header, data) => { const text = Buffer.from(JSON.stringify(header)); const size = Buffer.alloc(8); size.writeBigUInt64LE(BigInt(text.length)); writeFileSync(name, Buffer.concat([size, text, data])); };
file('w.safetensors', { __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'U8', shape: [2], data_offsets: [8, 10] } }, Buffer.concat([Buffer.from(new Float32Array([1.5, -2]).buffer), Buffer.from([7, 9])]));
file('bad.safetensors', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, Buffer.alloc(12));
const store = new ModelStore({ storage: new FileSystemStorage({ root: './registry-${flavour}' }), adapters: [new SafetensorsAdapter()], cacheDir: './cache-${flavour}' });
const refused = await store.upload('bad', { model: './bad.safetensors' }).catch((error) => error);
if (refused?.code !== 'INTEGRITY' || (await store.listDomains()).length !== 0) throw new Error('overlap not refused: ' + refused);
const { model } = await store.upload('weights', { model: './w.safetensors' });
if (model.parameters.total_parameters !== 4 || model.parameters.tensor_count !== 2) throw new Error('facts: ' + JSON.stringify(model.parameters));
const loaded = await store.load('weights');
const bytes = await readTensorBytes(loaded.tensors.get('a'));
const values = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 2));
if (values[0] !== 1.5 || values[1] !== -2 || loaded.files[0].header.metadata.format !== 'pt') throw new Error('loaded: ' + values);
console.log('${flavour} ok', model.model_id);
`;
  writeFileSync(
    path.join(safetensorsProject, 'esm.mjs'),
    `import { ModelStore } from '@modelstore/core';\nimport { FileSystemStorage } from '@modelstore/storage-fs';\nimport { SafetensorsAdapter, readTensorBytes } from '@modelstore/adapter-safetensors';\nimport { writeFileSync } from 'node:fs';\n${safetensorsScript('esm')}`,
  );
  writeFileSync(
    path.join(safetensorsProject, 'cjs.cjs'),
    `const { ModelStore } = require('@modelstore/core');\nconst { FileSystemStorage } = require('@modelstore/storage-fs');\nconst { SafetensorsAdapter, readTensorBytes } = require('@modelstore/adapter-safetensors');\nconst { writeFileSync } = require('node:fs');\n(async () => {${safetensorsScript('cjs')}})().catch((error) => { console.error(error); process.exit(1); });\n`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const result = run('node', [file], safetensorsProject, { allowFailure: true });
    check(result.status === 0 && /ok /.test(result.stdout), `${file} failed in the safetensors project:\n${result.stdout}\n${result.stderr}`);
  }
  // 7. A transformers.js user's project before installing the runtime: core, storage-fs and the
  // adapter only (@huggingface/transformers is an optional peer, so nothing of it is installed).
  // A Hugging Face-layout folder whose ONNX protobuf is written byte by byte (one tensor kept
  // as external data) is uploaded and its variant recorded; a copy whose external data points
  // at ../../etc/passwd is refused with nothing committed; load says which package to install.
  // It depends on @modelstore/adapter-onnx (its ONNX external-data reader), whose onnxruntime-node peer is optional.
  const transformersProject = newProject('transformers', [tarballs['@modelstore/core'], tarballs['@modelstore/storage-fs'], tarballs['@modelstore/adapter-onnx'], tarballs['@modelstore/adapter-transformers']]);
  const transformersInstalled = [...installedPackages(transformersProject)];
  check(!transformersInstalled.some((name) => /^@aws-sdk\/|^@google-cloud\/|^@azure\/|^onnxruntime|^@tensorflow\/|^@huggingface\/|^sharp$/.test(name)), `the transformers project installed ${transformersInstalled.join(', ')}`);
  const transformersScript = (flavour) => `
const field = (tag, bytes) => Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
const entry = (key, value) => field(0x6a, Buffer.concat([field(0x0a, Buffer.from(key)), field(0x12, Buffer.from(value))]));
const onnx = (location) => Buffer.concat([Buffer.from([0x08, 0x08]), field(0x3a, field(0x2a, Buffer.concat([field(0x42, Buffer.from('w')), entry('location', location), entry('length', '8'), Buffer.from([0x70, 0x01])])))]);
const folder = (name, location) => { mkdirSync(name + '/onnx', { recursive: true }); writeFileSync(name + '/config.json', JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] })); writeFileSync(name + '/onnx/model.onnx', onnx(location)); writeFileSync(name + '/onnx/model.onnx_data', Buffer.alloc(8)); };
folder('good-${flavour}', 'model.onnx_data');
folder('bad-${flavour}', '../../etc/passwd');
const store = new ModelStore({ storage: new FileSystemStorage({ root: './registry-${flavour}' }), adapters: [new TransformersAdapter()], cacheDir: './cache-${flavour}' });
const refused = await store.upload('bad', { model: './bad-${flavour}' }).catch((error) => error);
if (refused?.code !== 'SOURCE_FILE' || refused.reason !== 'link-outside' || (await store.listDomains()).length !== 0) throw new Error('hostile external data not refused: ' + refused);
const { model } = await store.upload('bert', { model: './good-${flavour}' });
const variant = model.parameters.onnx[0];
if (model.model_type.library !== 'transformers.js' || model.parameters.task !== 'feature-extraction' || variant.dtype !== 'fp32' || variant.external_data[0].file !== 'onnx/model.onnx_data') throw new Error('facts: ' + JSON.stringify(model.parameters));
const missing = await store.load('bert').catch((error) => error);
if (missing?.code !== 'MISSING_DEPENDENCY' || !missing.message.includes('npm install @huggingface/transformers')) throw new Error('load without the runtime: ' + missing);
console.log('${flavour} ok', model.model_id);
`;
  writeFileSync(
    path.join(transformersProject, 'esm.mjs'),
    `import { ModelStore } from '@modelstore/core';\nimport { FileSystemStorage } from '@modelstore/storage-fs';\nimport { TransformersAdapter } from '@modelstore/adapter-transformers';\nimport { mkdirSync, writeFileSync } from 'node:fs';\n${transformersScript('esm')}`,
  );
  writeFileSync(
    path.join(transformersProject, 'cjs.cjs'),
    `const { ModelStore } = require('@modelstore/core');\nconst { FileSystemStorage } = require('@modelstore/storage-fs');\nconst { TransformersAdapter } = require('@modelstore/adapter-transformers');\nconst { mkdirSync, writeFileSync } = require('node:fs');\n(async () => {${transformersScript('cjs')}})().catch((error) => { console.error(error); process.exit(1); });\n`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const result = run('node', [file], transformersProject, { allowFailure: true });
    check(result.status === 0 && /ok /.test(result.stdout), `${file} failed in the transformers project:\n${result.stdout}\n${result.stderr}`);
  }
  // 8. A GGUF user's project before installing the runtime: core, storage-fs and the adapter only
  // (node-llama-cpp is an optional peer: nothing of it, nor @huggingface/*, is installed). A
  // one-tensor GGUF written byte by byte is uploaded with its header facts; a copy that declares
  // 2^60 tensors is refused with nothing committed; load says which package to install.
  const ggufProject = newProject('gguf', [tarballs['@modelstore/core'], tarballs['@modelstore/storage-fs'], tarballs['@modelstore/adapter-gguf']]);
  const ggufInstalled = [...installedPackages(ggufProject)];
  check(!ggufInstalled.some((name) => /^@aws-sdk\/|^@google-cloud\/|^@azure\/|^onnxruntime|^@tensorflow\/|^@huggingface\/|llama-cpp/.test(name)), `the gguf project installed ${ggufInstalled.join(', ')}`);
  const ggufScript = (flavour) => `
const str = (text) => { const bytes = Buffer.from(text); const length = Buffer.alloc(8); length.writeBigUInt64LE(BigInt(bytes.length)); return Buffer.concat([length, bytes]); };
const u32 = (value) => { const bytes = Buffer.alloc(4); bytes.writeUInt32LE(value); return bytes; };
const u64 = (value) => { const bytes = Buffer.alloc(8); bytes.writeBigUInt64LE(BigInt(value)); return bytes; };
const header = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(1), u64(1), str('general.architecture'), u32(8), str('llama'), str('w'), u32(2), u64(2), u64(3), u32(0), u64(0)]);
const file = Buffer.concat([header, Buffer.alloc((32 - (header.length % 32)) % 32), Buffer.alloc(24)]);
writeFileSync('tiny-${flavour}.gguf', file);
const bad = Buffer.from(file); bad.writeBigUInt64LE(1n << 60n, 8); writeFileSync('bad-${flavour}.gguf', bad);
const store = new ModelStore({ storage: new FileSystemStorage({ root: './registry-${flavour}' }), adapters: [new GgufAdapter()], cacheDir: './cache-${flavour}' });
const refused = await store.upload('bad', { model: './bad-${flavour}.gguf' }).catch((error) => error);
if (refused?.code !== 'INVALID_ARGUMENT' || !/2\\^60|1152921504606846976/.test(refused.message) || (await store.listDomains()).length !== 0) throw new Error('2^60 tensors not refused: ' + refused);
const { model } = await store.upload('llm', { model: './tiny-${flavour}.gguf' });
if (model.model_type.library !== 'gguf' || model.model_type.type !== 'llama' || model.parameters.parameter_count !== 6 || model.parameters.tensor_types.F32 !== 1) throw new Error('facts: ' + JSON.stringify(model.parameters));
const missing = await store.load('llm').catch((error) => error);
if (missing?.code !== 'MISSING_DEPENDENCY' || !missing.message.includes('npm install node-llama-cpp')) throw new Error('load without the runtime: ' + missing);
console.log('${flavour} ok', model.model_id);
`;
  writeFileSync(
    path.join(ggufProject, 'esm.mjs'),
    `import { ModelStore } from '@modelstore/core';\nimport { FileSystemStorage } from '@modelstore/storage-fs';\nimport { GgufAdapter } from '@modelstore/adapter-gguf';\nimport { writeFileSync } from 'node:fs';\n${ggufScript('esm')}`,
  );
  writeFileSync(
    path.join(ggufProject, 'cjs.cjs'),
    `const { ModelStore } = require('@modelstore/core');\nconst { FileSystemStorage } = require('@modelstore/storage-fs');\nconst { GgufAdapter } = require('@modelstore/adapter-gguf');\nconst { writeFileSync } = require('node:fs');\n(async () => {${ggufScript('cjs')}})().catch((error) => { console.error(error); process.exit(1); });\n`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const result = run('node', [file], ggufProject, { allowFailure: true });
    check(result.status === 0 && /ok /.test(result.stdout), `${file} failed in the gguf project:\n${result.stdout}\n${result.stderr}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`Package checks: ${failures.length} of ${checks} failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(`Package checks: ${checks} passed, 0 failed`);
