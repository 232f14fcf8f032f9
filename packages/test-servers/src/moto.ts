import path from 'node:path';
import { createS3Bucket, launchServer, type ServerHandle } from './launcher.js';
import { ensurePythonEnv } from './python-env.js';
import { superviseProcess } from './supervise.js';

/** moto's server (use path-style addressing); its data lives in memory. */
export interface MotoHandle extends ServerHandle {
  /** Any keys work with moto; these are the ones the buckets were created with. */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Starts moto's server (`moto_server -H 127.0.0.1 -p <free port>`, moto pinned in
 * python/requirements.txt, from the venv built by ensurePythonEnv) and creates
 * `buckets` (in us-east-1). It runs under a supervisor: it dies with the process that
 * started it. Throws if the venv cannot be built or the server does not answer within 60 s.
 */
export async function startMoto(options: { buckets?: string[] } = {}): Promise<MotoHandle> {
  const { binDir } = await ensurePythonEnv();
  const credentials = { accessKeyId: 'modelstore', secretAccessKey: 'modelstore-moto' };
  const server = await launchServer({
    name: 'moto_server',
    readyPath: '/moto-api/',
    spawn: (port) => ({
      child: superviseProcess(path.join(binDir, 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      }),
    }),
    buckets: options.buckets ?? [],
    createBucket: (endpoint, bucket) => createS3Bucket('moto', endpoint, bucket, credentials),
  });
  return { ...server, credentials };
}
