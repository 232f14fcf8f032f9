import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureMinio } from './go-tools.js';
import { signedS3Request } from './sign-request.js';
import { freePort, superviseProcess, waitForHttp, type SupervisedProcess } from './supervise.js';

export interface MinioHandle {
  /** `http://127.0.0.1:<port>` (use path-style addressing). */
  endpoint: string;
  /** The root user's keys (random per server). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The buckets created at start. */
  buckets: string[];
  /** The server's supervisor process (see superviseProcess). */
  process: SupervisedProcess;
  /** Stops the server and deletes its data folder. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a real MinIO server (built by ensureMinio) on 127.0.0.1 with a free port,
 * its data in a fresh temporary folder (one drive: MinIO's "single node single drive"
 * mode), the web console on 127.0.0.1 too, and `buckets` created. It runs under a
 * supervisor: it dies with the process that started it. Throws if the binary cannot be
 * built or the server does not answer its health check within 60 s.
 */
export async function startMinio(options: { buckets?: string[] } = {}): Promise<MinioHandle> {
  const binary = await ensureMinio();
  const buckets = options.buckets ?? [];
  const credentials = { accessKeyId: 'modelstore', secretAccessKey: `modelstore-${Math.random().toString(36).slice(2)}` };
  for (let attempt = 0; ; attempt++) {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-minio-'));
    mkdirSync(path.join(work, 'data'));
    mkdirSync(path.join(work, 'certs'));
    const [port, consolePort] = [await freePort(), await freePort()];
    const child = superviseProcess(binary, ['server', '--quiet', '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--certs-dir', path.join(work, 'certs'), path.join(work, 'data')], {
      env: {
        ...process.env,
        HOME: work,
        MINIO_ROOT_USER: credentials.accessKeyId,
        MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
        MINIO_CI_CD: '1',
      },
      removeOnExit: [work],
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${endpoint}/minio/health/ready`, child, 60_000, 'minio');
    } catch (error) {
      await child.stop();
      rmSync(work, { recursive: true, force: true });
      if (attempt < 3 && /address already in use/i.test(child.output())) continue;
      throw error;
    }
    const close = async () => {
      await child.stop();
      rmSync(work, { recursive: true, force: true });
    };
    try {
      for (const bucket of buckets) {
        // A loaded machine: /minio/health/ready can answer before the server takes requests
        // (503 XMinioServerNotInitialized); try again for up to 30 s.
        let { status, body } = await signedS3Request('PUT', `${endpoint}/${bucket}`, credentials);
        for (const deadline = Date.now() + 30_000; status === 503 && Date.now() < deadline; ) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          ({ status, body } = await signedS3Request('PUT', `${endpoint}/${bucket}`, credentials));
        }
        if (status !== 200) throw new Error(`minio: creating bucket ${bucket} answered ${status}: ${body}`);
      }
    } catch (error) {
      await close();
      throw error;
    }
    return { endpoint, credentials, buckets, process: child, close };
  }
}
