import { ensureFakeGcsServer } from './go-tools.js';
import { freePort, superviseProcess, waitForHttp, type SupervisedProcess } from './supervise.js';

export interface FakeGcsServerHandle {
  /** `http://127.0.0.1:<port>`: pass as `apiEndpoint` (or STORAGE_EMULATOR_HOST). */
  endpoint: string;
  /** The buckets created at start. */
  buckets: string[];
  /** The server's supervisor process (see superviseProcess). */
  process: SupervisedProcess;
  /** Stops the server (its data lives in memory). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts fake-gcs-server (https://github.com/fsouza/fake-gcs-server, built by
 * ensureFakeGcsServer) with `-scheme http -backend memory` on 127.0.0.1 with a free
 * port, `-public-host` and `-external-url` pointing back at it (so resumable upload
 * Location headers and media links reach it), and `buckets` created. It runs under a
 * supervisor: it dies with the process that started it.
 */
export async function startFakeGcsServer(options: { buckets?: string[] } = {}): Promise<FakeGcsServerHandle> {
  const binary = await ensureFakeGcsServer();
  const buckets = options.buckets ?? [];
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = superviseProcess(binary, ['-scheme', 'http', '-backend', 'memory', '-host', '127.0.0.1', '-port', String(port), '-public-host', `127.0.0.1:${port}`, '-external-url', endpoint, '-log-level', 'error']);
    try {
      await waitForHttp(`${endpoint}/storage/v1/b`, child, 60_000, 'fake-gcs-server');
    } catch (error) {
      await child.stop();
      if (attempt < 3 && /address already in use/i.test(child.output())) continue;
      throw error;
    }
    const close = () => child.stop();
    try {
      for (const bucket of buckets) {
        const response = await fetch(`${endpoint}/storage/v1/b?project=modelstore-test`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: bucket }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = await response.text();
        if (response.status !== 200) throw new Error(`fake-gcs-server: creating bucket ${bucket} answered ${response.status}: ${body}`);
      }
    } catch (error) {
      await close();
      throw error;
    }
    return { endpoint, buckets, process: child, close };
  }
}
