// Type-checks the code in the docs: every ```ts and ```js block of the root README, the
// package READMEs, examples/*/README.md and docs/*.md is written as its own ES module into
// .cache/snippets/ and compiled by tsc (strict, the repository's settings) with the
// workspace packages resolving to their sources, so a snippet that would not compile for a
// user fails `pnpm test`. A block that is a fragment (a shape, part of a class) is skipped
// when the line before its fence is `<!-- snippet: skip -->`; keep those few.
//
// Imports a snippet may use: `@modelstore/*` (and `@modelstore/core/storage-kit`), any
// package installed at the root or in the package whose README holds the block, and
// `./my-storage.js`, which stands for the reader's own backend (a `MyStorage` class).
//
//   node scripts/check-snippets.mjs                       # every README and docs page
//   node scripts/check-snippets.mjs --files a.md,b.md     # only these (scripts/check-snippets.test.mjs)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argument = (name) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
};
const only = argument('--files')
  ?.split(',')
  .filter(Boolean)
  .map((file) => path.relative(root, path.resolve(file)));
// Each run writes its own folder, so runs on different files can go at once.
const out = path.join(root, '.cache', 'snippets', only ? `only-${process.pid}` : 'all');
const skipMarker = '<!-- snippet: skip -->';

/** The Markdown files whose snippets are checked, relative to the root. */
function markdownFiles() {
  const files = ['README.md'];
  for (const folder of ['packages', 'examples']) {
    for (const entry of readdirSync(path.join(root, folder))) {
      if (existsSync(path.join(root, folder, entry, 'README.md'))) files.push(`${folder}/${entry}/README.md`);
    }
  }
  if (existsSync(path.join(root, 'docs'))) {
    for (const entry of readdirSync(path.join(root, 'docs'))) if (entry.endsWith('.md')) files.push(`docs/${entry}`);
  }
  return files;
}

/** The ```ts / ```js blocks of one file: { language, line (1-based, of the first code line), code, skipped }. */
function blocks(file) {
  const lines = readFileSync(path.resolve(root, file), 'utf8').split('\n');
  const found = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(ts|typescript|js|javascript|mjs)\s*$/.exec(lines[index]);
    if (!fence) continue;
    const start = index + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const language = fence[1].startsWith('t') ? 'ts' : 'js';
    found.push({ language, line: start + 1, code: lines.slice(start, end).join('\n'), skipped: lines[index - 1]?.trim() === skipMarker });
    index = end;
  }
  return found;
}

/** The package folder whose node_modules a README's snippets may import from. */
function packageFolder(file) {
  const match = /^(packages|examples)\/([^/]+)\//.exec(file);
  return match ? path.join(root, match[1], match[2]) : root;
}

/** The type declarations an installed package's package.json names (`types`, else the `types` condition of `exports['.']`). */
function typesOf(directory) {
  const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8'));
  const fromExports = (entry) => {
    if (typeof entry !== 'object' || entry === null) return undefined;
    if (typeof entry.types === 'string') return entry.types;
    for (const key of ['import', 'node', 'default', 'require']) {
      const found = fromExports(entry[key]);
      if (found) return found;
    }
    return undefined;
  };
  const exported = manifest.exports && (typeof manifest.exports === 'object' && '.' in manifest.exports ? manifest.exports['.'] : manifest.exports);
  const types = fromExports(exported) ?? manifest.types ?? manifest.typings;
  return types ? path.join(directory, types) : undefined;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
// The reader's own backend in the conformance snippets: any Storage will do.
writeFileSync(
  path.join(out, 'my-storage.ts'),
  "import { MemoryStorage } from '@modelstore/core';\n\n/** Stands for the reader's backend in README snippets. */\nexport class MyStorage extends MemoryStorage {\n  constructor(_options: { bucket: string } = { bucket: 'test' }) {\n    super();\n  }\n}\n",
);

const fromOut = (target) => path.relative(out, path.join(root, target)).split(path.sep).join('/');
const paths = { '@modelstore/core/storage-kit': [fromOut('packages/core/src/storage-kit.ts')] };
for (const entry of readdirSync(path.join(root, 'packages'))) {
  if (existsSync(path.join(root, 'packages', entry, 'src', 'index.ts'))) paths[`@modelstore/${entry}`] = [fromOut(`packages/${entry}/src/index.ts`)];
}

const sources = new Map(); // written file → { file, line }
let skipped = 0;
for (const file of only ?? markdownFiles()) {
  const folder = packageFolder(file);
  blocks(file).forEach((block, index) => {
    if (block.skipped) {
      skipped++;
      return;
    }
    // Bare imports not from the workspace resolve from the README's package, then the root.
    for (const [, name] of block.code.matchAll(/from\s+'((?:@[^/'\s]+\/)?[^/'\s.][^/'\s]*)(?:\/[^']*)?'/g)) {
      if (name.startsWith('node:') || name.startsWith('@modelstore/') || paths[name]) continue;
      const candidate = [folder, root].map((base) => path.join(base, 'node_modules', name)).find((dir) => existsSync(dir));
      const types = candidate && typesOf(candidate);
      if (types) paths[name] = [path.relative(out, types)];
    }
    const name = `${file.replace(/[^a-z0-9]+/gi, '-').replace(/-md$/, '')}-${index + 1}.${block.language === 'ts' ? 'ts' : 'mjs'}`;
    // One header line, so a compiler line N is line (block.line + N - 2) of the Markdown file.
    writeFileSync(path.join(out, name), `export {}; // ${file}:${block.line}\n${block.code}\n`);
    sources.set(name, { file, line: block.line });
  });
}

writeFileSync(
  path.join(out, 'tsconfig.json'),
  `${JSON.stringify(
    {
      extends: fromOut('tsconfig.base.json'),
      compilerOptions: { noEmit: true, allowJs: true, checkJs: true, declaration: false, declarationMap: false, sourceMap: false, noUnusedLocals: false, paths, types: ['node'], typeRoots: [fromOut('node_modules/@types')] },
      include: ['*.ts', '*.mjs'],
    },
    null,
    2,
  )}\n`,
);

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const started = Date.now();
const result = spawnSync(process.execPath, [tsc, '-p', path.join(out, 'tsconfig.json'), '--pretty', 'false'], { cwd: out, encoding: 'utf8' });
const output = `${result.stdout}${result.stderr}`;
const problems = [];
for (const line of output.split('\n')) {
  const match = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(line);
  if (!match) {
    if (line.trim()) problems.push(line);
    continue;
  }
  const source = sources.get(path.basename(match[1]));
  problems.push(source && path.dirname(path.resolve(out, match[1])) === out ? `${source.file}:${source.line + Number(match[2]) - 2}:${match[3]} ${match[4]}` : line);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (only) rmSync(out, { recursive: true, force: true });
if (result.status !== 0 || problems.length > 0) {
  console.error(`README snippets: ${problems.length} problem(s) (tsc exit ${result.status}, ${seconds} s). Fix the snippet, or mark a fragment with ${skipMarker} on the line before its fence:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`README snippets: ${sources.size} blocks type-check (${skipped} marked as fragments), ${seconds} s`);
