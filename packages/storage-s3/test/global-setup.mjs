// Starts the S3 servers the tests talk to, on 127.0.0.1 with free ports, and passes
// their endpoints to the test workers through the environment.
import { startS3Server, startS3rver } from '@modelstore/test-servers';

export default async function globalSetup() {
  const s3 = await startS3Server({ buckets: ['modelstore-test'] });
  const s3rver = await startS3rver({ buckets: ['modelstore-test'] });
  globalThis.__modelstoreServers = [s3, s3rver];
  process.env.MODELSTORE_TEST_S3 = JSON.stringify({ endpoint: s3.endpoint, credentials: s3.credentials, bucket: 'modelstore-test' });
  process.env.MODELSTORE_TEST_S3RVER = JSON.stringify({ endpoint: s3rver.endpoint, credentials: s3rver.credentials, bucket: 'modelstore-test' });
}
