import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir, withLock } from './go-tools.js';

/** A Python virtual environment built by {@link ensurePythonEnv}. */
export interface PythonEnv {
  /** Absolute path of the venv's `python` executable. */
  python: string;
  /** Absolute path of the venv's `bin` directory (`moto_server`, `pytest`, ...). */
  binDir: string;
}

/** Which environment to build: the main lock, the one with Python modelstore 0.0.81, or the benchmark's peers. */
export interface PythonEnvOptions {
  /**
   * `'default'` (the default): `python/requirements.txt` -> `.cache/python/venv`.
   * `'modelstore-0.0.81'`: `python/requirements-modelstore-0.0.81.txt` -> `.cache/python/venv-modelstore-0.0.81`.
   * `'bench'`: `python/requirements-bench.txt` -> `.cache/python/venv-bench` (MLflow, for `pnpm bench`).
   * `'models'`: `python/requirements-models.txt` -> `.cache/python/venv-models` (gguf, safetensors, tokenizers, onnx, numpy: the adapters' test models).
   * `'signing'`: `python/requirements-signing.txt` -> `.cache/python/venv-signing` (model-signing 1.1.1 and pyOpenSSL: the OpenSSF Model Signing reference).
   */
  variant?: 'default' | 'modelstore-0.0.81' | 'bench' | 'models' | 'signing';
}

const variants = {
  default: { requirements: 'requirements.txt', venv: 'venv' },
  'modelstore-0.0.81': { requirements: 'requirements-modelstore-0.0.81.txt', venv: 'venv-modelstore-0.0.81' },
  bench: { requirements: 'requirements-bench.txt', venv: 'venv-bench' },
  models: { requirements: 'requirements-models.txt', venv: 'venv-models' },
  signing: { requirements: 'requirements-signing.txt', venv: 'venv-signing' },
} as const;

const installHint = 'Install CPython 3.11 with venv and pip (Debian: `apt-get install python3 python3-venv python3-pip`; or pyenv: `pyenv install 3.11`), ' + 'or point MODELSTORE_TEST_PYTHON at a python3.11 executable.';

/**
 * The repository root: the nearest folder holding pnpm-workspace.yaml above the current
 * directory, else above this module (works compiled to ESM and to CommonJS).
 */
export function repoRoot(): string {
  const starts = [process.cwd()];
  if (typeof __dirname !== 'undefined') starts.push(__dirname);
  for (const start of starts) {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error('ensurePythonEnv: cannot find the repository root (pnpm-workspace.yaml) above the current directory');
}

interface RunResult {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PYTHONDONTWRITEBYTECODE: undefined },
      });
    } catch (error) {
      resolve({ code: null, output: String(error) });
      return;
    }
    const timer = options.timeoutMs
      ? setTimeout(() => {
          output += `\n[killed after ${options.timeoutMs} ms]`;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    child.once('error', (error) => {
      if (timer) clearTimeout(timer);
      resolve({ code: null, output: output + String(error) });
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Finds a CPython 3.11+ interpreter to build the venv from, or throws with an install hint. */
async function findBasePython(): Promise<string> {
  const candidates = [process.env.MODELSTORE_TEST_PYTHON, 'python3.11', 'python3', 'python'].filter((c): c is string => !!c);
  const seen: string[] = [];
  for (const candidate of candidates) {
    const probe = await run(candidate, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], { timeoutMs: 30_000 });
    if (probe.code !== 0) {
      seen.push(`${candidate}: ${probe.output.trim().split('\n').pop() ?? 'not runnable'}`);
      continue;
    }
    const [major, minor] = probe.output.trim().split('.').map(Number);
    if (major === 3 && minor! >= 11) return candidate;
    seen.push(`${candidate}: Python ${probe.output.trim()} (3.11 or newer needed)`);
  }
  throw new Error(`ensurePythonEnv: no usable Python found (${seen.join('; ')}). ${installHint}`);
}

const pending = new Map<string, Promise<PythonEnv>>();

/**
 * Makes sure the pinned Python environment exists and returns its interpreter.
 *
 * Builds `<repo>/.cache/python/venv` (`$MODELSTORE_CACHE_DIR/python/venv` when set) (or the 0.0.81 variant) with `python3 -m venv`
 * and `pip install -r python/requirements*.txt`. Idempotent: a stamp file records the
 * sha256 of the requirements file the venv was built from, and the venv is rebuilt from
 * scratch when the file changes. Safe under concurrent callers, in this process and in
 * others (a lock directory beside the venv). The first build takes about two minutes.
 *
 * @throws Error when no CPython 3.11+ is found (the message says how to install it) or
 *   when pip fails (the message carries pip's output).
 */
export function ensurePythonEnv(options: PythonEnvOptions = {}): Promise<PythonEnv> {
  const variant = variants[options.variant ?? 'default'];
  if (!variant) throw new Error(`ensurePythonEnv: unknown variant ${String(options.variant)}`);
  const key = variant.venv;
  let promise = pending.get(key);
  if (!promise) {
    promise = build(variant).finally(() => pending.delete(key));
    pending.set(key, promise);
  }
  return promise;
}

async function build(variant: (typeof variants)[keyof typeof variants]): Promise<PythonEnv> {
  const root = repoRoot();
  const requirementsFile = path.join(root, 'python', variant.requirements);
  const venvDir = path.join(cacheDir(), 'python', variant.venv);
  const stampFile = path.join(venvDir, '.requirements.sha256');
  const binDir = path.join(venvDir, 'bin');
  const python = path.join(binDir, 'python');
  const result = { python, binDir };

  const requirements = await readFile(requirementsFile);
  const digest = createHash('sha256').update(requirements).digest('hex');
  const stamped = async () => existsSync(python) && (await readFile(stampFile, 'utf8').catch(() => '')).trim() === digest;
  if (await stamped()) return result;

  return withLock(
    `${venvDir}.lock`,
    async () => {
      if (await stamped()) return result; // built by another caller meanwhile
      const base = await findBasePython();
      await rm(venvDir, { recursive: true, force: true });
      const started = Date.now();
      const created = await run(base, ['-m', 'venv', venvDir], { timeoutMs: 5 * 60_000 });
      if (created.code !== 0) throw new Error(`ensurePythonEnv: \`${base} -m venv\` failed: ${created.output.slice(-3000)}\n${installHint}`);
      const installed = await run(python, ['-m', 'pip', 'install', '--no-input', '-r', requirementsFile], { timeoutMs: 15 * 60_000 });
      if (installed.code !== 0) {
        throw new Error(`ensurePythonEnv: pip install -r python/${variant.requirements} failed (PyPI must be reachable): ${installed.output.slice(-4000)}`);
      }
      await writeFile(stampFile, `${digest}\n`);
      if (process.env.MODELSTORE_TEST_VERBOSE) console.error(`python venv ${variant.venv} built in ${Math.round((Date.now() - started) / 1000)} s`);
      return result;
    },
    20 * 60_000,
  );
}
