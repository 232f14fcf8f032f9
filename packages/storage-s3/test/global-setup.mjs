// Starts the S3 servers the tests talk to, on 127.0.0.1 with free ports, all at once,
// and passes their endpoints to the test workers through the environment: our own S3
// server, s3rver, MinIO (built from source by go install, cached in .cache/go-bin) and
// moto (from the pinned Python venv in .cache/python). MinIO and moto run under a
// supervisor: they die with this jest process even if globalTeardown never runs.
import { startMinio, startMoto, startS3Server, startS3rver } from '@modelstore/test-servers';

const bucket = 'modelstore-test';

export default async function globalSetup() {
  const started = [];
  const keep = (promise) => promise.then((server) => (started.push(server), server));
  const results = await Promise.allSettled([keep(startS3Server({ buckets: [bucket] })), keep(startS3rver({ buckets: [bucket] })), keep(startMinio({ buckets: [bucket] })), keep(startMoto({ buckets: [bucket] }))]);
  globalThis.__modelstoreServers = started;
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((server) => server.close()));
    throw failed.reason;
  }
  const [s3, s3rver, minio, moto] = results.map((result) => result.value);
  const info = (server) => JSON.stringify({ endpoint: server.endpoint, credentials: server.credentials, bucket });
  process.env.MODELSTORE_TEST_S3 = info(s3);
  process.env.MODELSTORE_TEST_S3RVER = info(s3rver);
  process.env.MODELSTORE_TEST_MINIO = info(minio);
  process.env.MODELSTORE_TEST_MOTO = info(moto);
}
