import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Every third-party server started by the tests runs under a supervisor; whatever
// happens to the process that started it, the server must not outlive it. Each case
// starts one server in a child process (through the built package, as globalSetup
// does), SIGKILLs that child, and checks that no process still carries the server's
// port on its command line and that the port no longer answers.

const dist = pathToFileURL(path.resolve(__dirname, '../dist/index.js')).href;

/** The command line (arguments) of process `pid`. */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** The pids of processes whose command line contains `needle` (Linux /proc). */
function processesWith(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(needle) && !cmdline.includes('processesWith')) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

const kinds: Array<{
  name: string;
  start: string;
  url: (handle: { endpoint: string; port: number }) => string;
  needle: (port: number) => string;
  /** The server's data folder, from its command line: it must be removed too. */
  dataFolder?: (args: string[]) => string;
}> = [
  {
    name: 'MinIO',
    start: `m.startMinio({ buckets: ['kill-test'] })`,
    url: (h) => `${h.endpoint}/minio/health/live`,
    needle: (port) => `127.0.0.1:${port}`,
    dataFolder: (args) => path.dirname(args[args.length - 1]!),
  },
  { name: 'fake-gcs-server', start: `m.startFakeGcsServer({ buckets: ['kill-test'] })`, url: (h) => `${h.endpoint}/storage/v1/b`, needle: (port) => `-port ${port}` },
  { name: 'moto', start: `m.startMoto({ buckets: ['kill-test'] })`, url: (h) => `${h.endpoint}/moto-api/`, needle: (port) => `-p ${port}` },
  {
    name: 'Azurite',
    start: `m.startAzurite().then((a) => ({ ...a, endpoint: new URL(a.blobEndpoint).origin }))`,
    url: (h) => `${h.endpoint}/devstoreaccount1?comp=list`,
    needle: (port) => `--blobPort ${port}`,
  },
];

describe('servers never outlive the process that started them', () => {
  for (const kind of kinds) {
    it(`${kind.name} dies within 5 s of a SIGKILL of its parent`, async () => {
      const script = `const m = await import(${JSON.stringify(dist)}); const h = await ${kind.start}; process.stdout.write(JSON.stringify({ endpoint: h.endpoint }) + '\\n'); setInterval(() => {}, 1000);`;
      const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      parent.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      const line = await new Promise<string>((resolve, reject) => {
        parent.stdout.on('data', (data: Buffer) => {
          stdout += data.toString();
          if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
        });
        parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before the server started: ${stderr}`)));
      });
      const { endpoint } = JSON.parse(line) as { endpoint: string };
      const port = Number(new URL(endpoint).port);
      const handle = { endpoint, port };
      expect(await answers(kind.url(handle))).toBe(true);
      const running = processesWith(kind.needle(port));
      expect(running.length).toBeGreaterThan(0);
      const server = running.map(commandLine).find((args) => args[0] !== process.execPath) ?? commandLine(running[0]!);
      const dataFolder = kind.dataFolder?.(server);
      if (dataFolder) expect(existsSync(dataFolder)).toBe(true);

      const exited = new Promise((resolve) => parent.once('exit', resolve));
      parent.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      let left = processesWith(kind.needle(port));
      while (left.length > 0 && Date.now() - killedAt < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = processesWith(kind.needle(port));
      }
      expect(left).toEqual([]);
      expect(await answers(kind.url(handle))).toBe(false);
      if (dataFolder) {
        while (existsSync(dataFolder) && Date.now() - killedAt < 8000) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(existsSync(dataFolder)).toBe(false);
      }
    }, 180_000);
  }
});
