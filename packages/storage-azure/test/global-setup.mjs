// Starts azurite-blob in memory on 127.0.0.1 with a free port, creates the test
// container, and passes the connection string to the test workers.
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from '@modelstore/test-servers';

export default async function globalSetup() {
  const azurite = await startAzurite();
  globalThis.__modelstoreServers = [azurite];
  await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('modelstore-test').create();
  process.env.MODELSTORE_TEST_AZURE = JSON.stringify({ connectionString: azurite.connectionString, container: 'modelstore-test' });
}
