// Starts the servers the CLI tests use (S3, GCS, Azurite) on 127.0.0.1 with free
// ports, and passes their coordinates to the test workers through the environment.
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, startGcsServer, startS3Server } from '@modelstore/test-servers';

export default async function globalSetup() {
  const [s3, gcs, azurite] = await Promise.all([startS3Server({ buckets: ['cli-models'] }), startGcsServer({ buckets: ['cli-models'] }), startAzurite()]);
  globalThis.__modelstoreServers = [s3, gcs, azurite];
  await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('cli-models').create();
  process.env.MODELSTORE_TEST_SERVERS = JSON.stringify({
    s3: { endpoint: s3.endpoint, credentials: s3.credentials, bucket: 'cli-models' },
    gcs: { endpoint: gcs.endpoint, bucket: 'cli-models' },
    azure: { connectionString: azurite.connectionString, container: 'cli-models' },
  });
}
