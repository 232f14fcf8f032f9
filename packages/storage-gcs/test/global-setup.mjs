// Starts the GCS servers the tests talk to, on 127.0.0.1 with free ports, at once, and
// passes their endpoints to the test workers through the environment: our own GCS JSON
// API server and fake-gcs-server (built from source by go install, cached in
// .cache/go-bin; it runs under a supervisor and dies with this jest process).
import { startFakeGcsServer, startGcsServer } from '@modelstore/test-servers';

const bucket = 'modelstore-test';

export default async function globalSetup() {
  const started = [];
  const keep = (promise) => promise.then((server) => (started.push(server), server));
  const results = await Promise.allSettled([keep(startGcsServer({ buckets: [bucket] })), keep(startFakeGcsServer({ buckets: [bucket] }))]);
  globalThis.__modelstoreServers = started;
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((server) => server.close()));
    throw failed.reason;
  }
  const [gcs, fakeGcs] = results.map((result) => result.value);
  process.env.MODELSTORE_TEST_GCS = JSON.stringify({ endpoint: gcs.endpoint, bucket });
  process.env.MODELSTORE_TEST_FAKE_GCS = JSON.stringify({ endpoint: fakeGcs.endpoint, bucket });
}
