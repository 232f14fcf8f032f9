import { ensureFakeGcsServer } from './go-tools.js';
import { launchServer, type ServerHandle } from './launcher.js';
import { superviseProcess } from './supervise.js';

/** fake-gcs-server: pass `endpoint` as `apiEndpoint` (or STORAGE_EMULATOR_HOST); its data lives in memory. */
export type FakeGcsServerHandle = ServerHandle;

/**
 * Starts fake-gcs-server (https://github.com/fsouza/fake-gcs-server, built by
 * ensureFakeGcsServer) with `-scheme http -backend memory` on 127.0.0.1 with a free
 * port, `-public-host` and `-external-url` pointing back at it (so resumable upload
 * Location headers and media links reach it), and `buckets` created. It runs under a
 * supervisor: it dies with the process that started it.
 */
export async function startFakeGcsServer(options: { buckets?: string[] } = {}): Promise<FakeGcsServerHandle> {
  const binary = await ensureFakeGcsServer();
  return launchServer({
    name: 'fake-gcs-server',
    readyPath: '/storage/v1/b',
    spawn: (port, endpoint) => ({
      child: superviseProcess(binary, ['-scheme', 'http', '-backend', 'memory', '-host', '127.0.0.1', '-port', String(port), '-public-host', `127.0.0.1:${port}`, '-external-url', endpoint, '-log-level', 'error']),
    }),
    buckets: options.buckets ?? [],
    async createBucket(endpoint, bucket) {
      const response = await fetch(`${endpoint}/storage/v1/b?project=modelstore-test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: bucket }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`fake-gcs-server: creating bucket ${bucket} answered ${response.status}: ${body}`);
    },
  });
}
