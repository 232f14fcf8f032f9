// Starts the GCS JSON API server the tests talk to, on 127.0.0.1 with a free port,
// and passes its endpoint to the test workers through the environment.
import { startGcsServer } from '@modelstore/test-servers';

export default async function globalSetup() {
  const gcs = await startGcsServer({ buckets: ['modelstore-test'] });
  globalThis.__modelstoreServers = [gcs];
  process.env.MODELSTORE_TEST_GCS = JSON.stringify({ endpoint: gcs.endpoint, bucket: 'modelstore-test' });
}
