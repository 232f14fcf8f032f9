import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * MinIO's community edition is distributed as source. The Go module proxy answers 403
 * to RELEASE tags and to the pseudo-version of the last tag's commit
 * (RELEASE.2025-10-15T17-29-55Z = 9e49d5e7a648), so the pin is the newest commit of
 * master, 11 commits (docs, a conditional-PUT read-quorum fix) after that tag.
 */
export const minioVersion = 'v0.0.0-20260212201848-7aac2a2c5b7c';
/** fake-gcs-server: preconditions on every upload path and on deletes (checked by test/fake-gcs-server.test.ts). */
export const fakeGcsServerVersion = 'v1.56.1';

/**
 * The repository root: the nearest folder holding pnpm-workspace.yaml above the
 * current directory, else above this module. `MODELSTORE_CACHE_DIR` overrides the
 * cache folder (`<root>/.cache`).
 */
export function cacheDir(): string {
  if (process.env.MODELSTORE_CACHE_DIR) return path.resolve(process.env.MODELSTORE_CACHE_DIR);
  const starts = [process.cwd()];
  if (typeof __dirname !== 'undefined') starts.push(__dirname);
  for (const start of starts) {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return path.join(dir, '.cache');
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error('cannot find the repository root (pnpm-workspace.yaml) above the current directory; set MODELSTORE_CACHE_DIR');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `task` while holding the lock folder `lockPath` (mkdir is atomic), so that
 * concurrent callers in any process build a tool once. A lock whose owner died is
 * taken over. Waits at most `timeoutMs` for another owner.
 */
export async function withLock<T>(lockPath: string, task: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  mkdirSync(path.dirname(lockPath), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockPath);
      writeFileSync(path.join(lockPath, 'owner'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lockPath, 'owner'), 'utf8'));
      } catch {
        // the owner is between mkdir and writing its pid, or just released it
      }
      const age = (() => {
        try {
          return Date.now() - statSync(lockPath).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if ((Number.isInteger(owner) && owner > 0 && !alive(owner)) || (Number.isNaN(owner) && age > 10_000)) {
        rmSync(lockPath, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockPath} (held by pid ${owner})`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await task();
  } finally {
    rmSync(lockPath, { recursive: true, force: true });
  }
}

/**
 * Builds `module@version` with `go install` into `.cache/go-bin/<name>-<version>/<name>`
 * once (idempotent; concurrent callers wait for one build) and returns the binary's
 * path. The build goes to a temporary folder that is renamed into place, so a
 * half-built binary is never used. Throws an Error saying how to install Go or the
 * tool when the build fails.
 */
export async function ensureGoTool(name: string, module: string, version: string): Promise<string> {
  const root = path.join(cacheDir(), 'go-bin');
  const dir = path.join(root, `${name}-${version}`);
  const binary = path.join(dir, name);
  if (existsSync(binary)) return binary;
  return withLock(path.join(root, `.lock-${name}-${version}`), async () => {
    if (existsSync(binary)) return binary;
    const staging = path.join(root, `.build-${name}-${version}-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const started = Date.now();
    try {
      await run('go', ['install', `${module}@${version}`], {
        env: { ...process.env, GOBIN: staging, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
        maxBuffer: 64 << 20,
        timeout: 40 * 60_000,
      });
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      const err = error as NodeJS.ErrnoException & { stderr?: string };
      const how = `Install Go 1.24 or newer (https://go.dev/dl/) with access to the Go module proxy, then run: GOBIN=${dir} go install ${module}@${version}`;
      if (err.code === 'ENOENT') throw new Error(`cannot build ${name}: the 'go' command is not on PATH. ${how}`);
      throw new Error(`cannot build ${name} (go install ${module}@${version} failed): ${String(err.stderr ?? err.message).slice(-3000)}\n${how}`);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    writeFileSync(path.join(dir, 'BUILT'), `${module}@${version} built in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    return binary;
  });
}

/** `go install github.com/minio/minio@<minioVersion>` into the cache (see ensureGoTool); returns the binary's path. */
export function ensureMinio(): Promise<string> {
  return ensureGoTool('minio', 'github.com/minio/minio', minioVersion);
}

/** `go install github.com/fsouza/fake-gcs-server@<fakeGcsServerVersion>` into the cache (see ensureGoTool); returns the binary's path. */
export function ensureFakeGcsServer(): Promise<string> {
  return ensureGoTool('fake-gcs-server', 'github.com/fsouza/fake-gcs-server', fakeGcsServerVersion);
}
