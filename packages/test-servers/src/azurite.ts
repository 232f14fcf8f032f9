import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const azuriteAccount = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export interface AzuriteHandle {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  blobEndpoint: string;
  connectionString: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `azurite-blob` (Microsoft's emulator) in memory on 127.0.0.1 with a free
 * port, as its own process group so that closing it stops everything it started.
 */
export async function startAzurite(): Promise<AzuriteHandle> {
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      process.execPath,
      [bin, '--inMemoryPersistence', '--extentMemoryLimit', '4096', '--blobHost', '127.0.0.1', '--blobPort', String(port), '--skipApiVersionCheck', '--disableTelemetry', '--silent'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let output = '';
    const ready = await new Promise<boolean>((resolve) => {
      const onData = (data: Buffer) => {
        output += data.toString();
        if (/successfully listen/i.test(output)) resolve(true);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', () => resolve(false));
      setTimeout(() => resolve(false), 30_000).unref();
    });
    if (!ready) {
      child.kill('SIGKILL');
      if (attempt < 3 && /EADDRINUSE/.test(output)) continue;
      throw new Error(`azurite-blob did not start: ${output.slice(-2000)}`);
    }
    child.stdout!.resume();
    child.stderr!.resume();
    const blobEndpoint = `http://127.0.0.1:${port}/${azuriteAccount.name}`;
    return {
      blobEndpoint,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${azuriteAccount.name};AccountKey=${azuriteAccount.key};BlobEndpoint=${blobEndpoint};`,
      async close() {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          child.kill('SIGTERM');
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 5000);
        await exited;
        clearTimeout(timer);
      },
    };
  }
}
