import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureMinio } from './go-tools.js';
import { createS3Bucket, launchServer, type ServerHandle } from './launcher.js';
import { freePort, superviseProcess } from './supervise.js';

/** A MinIO server (use path-style addressing); `close()` also deletes its data folder. */
export interface MinioHandle extends ServerHandle {
  /** The root user's keys (random per server). */
  credentials: { accessKeyId: string; secretAccessKey: string };
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
  const credentials = { accessKeyId: 'modelstore', secretAccessKey: `modelstore-${Math.random().toString(36).slice(2)}` };
  const server = await launchServer({
    name: 'minio',
    readyPath: '/minio/health/ready',
    async spawn(port) {
      const work = mkdtempSync(path.join(tmpdir(), 'modelstore-minio-'));
      mkdirSync(path.join(work, 'data'));
      mkdirSync(path.join(work, 'certs'));
      const consolePort = await freePort();
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
      return { child, cleanup: () => rmSync(work, { recursive: true, force: true }) };
    },
    buckets: options.buckets ?? [],
    createBucket: (endpoint, bucket) => createS3Bucket('minio', endpoint, bucket, credentials),
  });
  return { ...server, credentials };
}
