import path from 'node:path';
import { ensurePythonEnv } from './python-env.js';
import { signedS3Request } from './sign-request.js';
import { freePort, superviseProcess, waitForHttp, type SupervisedProcess } from './supervise.js';

export interface MotoHandle {
  /** `http://127.0.0.1:<port>` (use path-style addressing). */
  endpoint: string;
  /** Any keys work with moto; these are the ones the buckets were created with. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The buckets created at start. */
  buckets: string[];
  /** The server's supervisor process (see superviseProcess). */
  process: SupervisedProcess;
  /** Stops the server (its data lives in memory). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts moto's server (`moto_server -H 127.0.0.1 -p <free port>`, moto pinned in
 * python/requirements.txt, from the venv built by ensurePythonEnv) and creates
 * `buckets` (in us-east-1). It runs under a supervisor: it dies with the process that
 * started it. Throws if the venv cannot be built or the server does not answer within 60 s.
 */
export async function startMoto(options: { buckets?: string[] } = {}): Promise<MotoHandle> {
  const { binDir } = await ensurePythonEnv();
  const buckets = options.buckets ?? [];
  const credentials = { accessKeyId: 'modelstore', secretAccessKey: 'modelstore-moto' };
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = superviseProcess(path.join(binDir, 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    });
    try {
      await waitForHttp(`${endpoint}/moto-api/`, child, 60_000, 'moto_server');
    } catch (error) {
      await child.stop();
      if (attempt < 3 && /address already in use/i.test(child.output())) continue;
      throw error;
    }
    const close = () => child.stop();
    try {
      for (const bucket of buckets) {
        const { status, body } = await signedS3Request('PUT', `${endpoint}/${bucket}`, credentials);
        if (status !== 200) throw new Error(`moto: creating bucket ${bucket} answered ${status}: ${body}`);
      }
    } catch (error) {
      await close();
      throw error;
    }
    return { endpoint, credentials, buckets, process: child, close };
  }
}
