import { signedS3Request } from './sign-request.js';
import { freePort, waitForHttp, type SupervisedProcess } from './supervise.js';

/** A server started by a launcher (MinIO, moto, fake-gcs-server): on 127.0.0.1, under a supervisor, its buckets created. */
export interface ServerHandle {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** The buckets created at start. */
  buckets: string[];
  /** The server's supervisor process (see superviseProcess). */
  process: SupervisedProcess;
  /** Stops the server and removes what it stored on disk, if anything. Idempotent. */
  close(): Promise<void>;
}

/** One attempt's server process, and how to remove what it left once it has stopped (a data folder). */
export interface SpawnedServer {
  child: SupervisedProcess;
  cleanup?(): void;
}

export interface LaunchOptions {
  /** The server's name in error messages. */
  name: string;
  /** The path polled until it answers below 500 (at most 60 s), e.g. `/minio/health/ready`. */
  readyPath: string;
  /** Starts the server on `port` (its `endpoint` is `http://127.0.0.1:<port>`). */
  spawn(port: number, endpoint: string): SpawnedServer | Promise<SpawnedServer>;
  buckets: string[];
  /** Creates one bucket; throws when the server refuses. */
  createBucket(endpoint: string, bucket: string): Promise<void>;
}

/**
 * Starts a server on a free 127.0.0.1 port and waits until it answers; when another
 * process took the port first (the server says "address already in use"), tries again
 * on another port, 4 attempts in all. Then creates the buckets; on any failure the
 * server is stopped (and its files removed) before the error is thrown.
 */
export async function launchServer(options: LaunchOptions): Promise<ServerHandle> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const { child, cleanup } = await options.spawn(port, endpoint);
    const close = async () => {
      await child.stop();
      cleanup?.();
    };
    try {
      await waitForHttp(`${endpoint}${options.readyPath}`, child, 60_000, options.name);
    } catch (error) {
      await close();
      if (attempt < 3 && /address already in use/i.test(child.output())) continue;
      throw error;
    }
    try {
      for (const bucket of options.buckets) await options.createBucket(endpoint, bucket);
    } catch (error) {
      await close();
      throw error;
    }
    return { endpoint, buckets: options.buckets, process: child, close };
  }
}

/**
 * Creates a bucket on an S3-compatible server with a signed `PUT /<bucket>`. A 503 (a
 * loaded machine: MinIO's /minio/health/ready can answer before it takes requests,
 * XMinioServerNotInitialized) is tried again for up to 30 s. Throws on any other status but 200.
 */
export async function createS3Bucket(name: string, endpoint: string, bucket: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  let { status, body } = await signedS3Request('PUT', `${endpoint}/${bucket}`, credentials);
  for (const deadline = Date.now() + 30_000; status === 503 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    ({ status, body } = await signedS3Request('PUT', `${endpoint}/${bucket}`, credentials));
  }
  if (status !== 200) throw new Error(`${name}: creating bucket ${bucket} answered ${status}: ${body}`);
}
