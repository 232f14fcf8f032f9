import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// s3rver ships no types.
// @ts-expect-error: untyped CommonJS module
import S3rver from 's3rver';

export interface S3rverHandle {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

/**
 * Starts s3rver (a third-party S3 implementation) on 127.0.0.1 with a free port,
 * as a second opinion on S3 behaviour. It ignores conditional headers on writes,
 * and paginated listings need `--openssl-legacy-provider` on Node 17+.
 */
export async function startS3rver(options: { buckets?: string[] } = {}): Promise<S3rverHandle> {
  const directory = mkdtempSync(path.join(tmpdir(), 'modelstore-s3rver-'));
  const instance = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const { port } = (await instance.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async close() {
      await instance.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
