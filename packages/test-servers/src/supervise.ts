import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * The supervisor, run as `node -e <this> <command> <args...>`. It starts the server
 * in a process group of its own and kills that whole group (SIGTERM, then SIGKILL
 * after 3 s) as soon as its stdin closes — which the kernel does when the process
 * that started it dies, however it dies (SIGKILL included) — or when it receives
 * SIGINT/SIGTERM/SIGHUP (Ctrl-C reaches it: it stays in its parent's group). When the
 * server exits on its own, the supervisor exits with the server's status. Either way it
 * then removes the folders listed in MODELSTORE_SUPERVISOR_REMOVE (JSON), such as the
 * server's data folder, so an interrupted run leaves no data behind.
 */
const supervisorSource = `
const { spawn } = require('node:child_process');
const { rmSync } = require('node:fs');
const [command, ...args] = process.argv.slice(1);
const removeOnExit = JSON.parse(process.env.MODELSTORE_SUPERVISOR_REMOVE || '[]');
delete process.env.MODELSTORE_SUPERVISOR_REMOVE;
function exit(code) {
  for (const folder of removeOnExit) { try { rmSync(folder, { recursive: true, force: true }); } catch {} }
  process.exit(code);
}
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
let stopping = false;
function kill(signal) { try { process.kill(-child.pid, signal); } catch {} }
function stop() {
  if (stopping) return;
  stopping = true;
  kill('SIGTERM');
  setTimeout(() => { kill('SIGKILL'); setTimeout(() => exit(1), 200); }, 3000);
}
child.on('error', (error) => { process.stderr.write('supervisor: cannot start ' + command + ': ' + error.message + '\\n'); exit(127); });
child.on('exit', (code, signal) => { kill('SIGKILL'); exit(code ?? (signal ? 1 : 0)); });
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
`;

/** A server process running under the supervisor. */
export interface SupervisedProcess {
  /** The supervisor's pid (the server runs as its child, in a process group of its own). */
  readonly pid: number;
  /** The supervisor's process (its exit is the server's exit). */
  readonly process: ChildProcess;
  /** The last 64 KiB of the server's stdout and stderr, for error messages. */
  output(): string;
  /** Resolves when `output()` matches `pattern`, or rejects when the server exits first or `timeoutMs` passes. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** True once the server has exited. */
  readonly exited: boolean;
  /** Stops the server's whole process group and waits for the supervisor to exit (at most ~4 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `command args` under a supervisor (see `supervisorSource`) so that the server
 * never outlives the process that started it, even if that process is SIGKILLed, and
 * the folders in `removeOnExit` are removed once it has stopped.
 * Nothing here keeps the caller's event loop alive: `stop()` is the way to end it.
 */
export function superviseProcess(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; removeOnExit?: string[] } = {}): SupervisedProcess {
  const child = spawn(process.execPath, ['-e', supervisorSource, command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...(options.env ?? process.env), MODELSTORE_SUPERVISOR_REMOVE: JSON.stringify(options.removeOnExit ?? []) },
    cwd: options.cwd,
  });
  let text = '';
  let exited = false;
  const listeners = new Set<() => void>();
  const onData = (data: Buffer) => {
    text = (text + data.toString()).slice(-65536);
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      for (const listener of listeners) listener();
      resolve();
    });
  });
  child.stdin!.on('error', () => {});
  // Let the caller exit even if it never calls stop(): the supervisor then sees its stdin close.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return {
    pid: child.pid!,
    process: child,
    output: () => text,
    get exited() {
      return exited;
    },
    waitForOutput(pattern, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) done();
          else if (exited) done(new Error(`${command} exited before it was ready:\n${text.slice(-4000)}`));
        };
        const timer = setTimeout(() => done(new Error(`${command} was not ready after ${timeoutMs} ms:\n${text.slice(-4000)}`)), timeoutMs);
        function done(error?: Error) {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        }
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (exited) return;
      // Held until the exit arrives: the supervisor may still be removing a large data
      // folder when the SIGKILL timer fires, and an unreferenced child alone would let the
      // caller's process end before its exit event (the awaited stop() never settling).
      child.ref();
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 6000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** A TCP port free on 127.0.0.1 right now (the caller retries if someone else takes it first). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Polls `url` until it answers with a status below 500 (any answer at all for
 * `anyStatus`), the process exits, or `timeoutMs` passes.
 */
export async function waitForHttp(url: string, child: SupervisedProcess, timeoutMs: number, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited) throw new Error(`${name} exited before it was ready:\n${child.output().slice(-4000)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms:\n${child.output().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
