// Builds the pinned Python environments (modelstore 0.0.82 and 0.0.81, model-signing 1.1.1) and starts the
// servers the interop tests share, on 127.0.0.1 with free ports: MinIO and
// fake-gcs-server (real servers, built with go install) and Azurite. The test workers
// get everything through MODELSTORE_INTEROP (JSON). The file-system registries are
// temporary folders made by each test, inside one folder of the run.
import { BlobServiceClient } from '@azure/storage-blob';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensurePythonEnv, startAzurite, startFakeGcsServer, startMinio } from '@modelstore/test-servers';

export const bucket = 'interop';

export default async function globalSetup() {
  const started = [];
  globalThis.__modelstoreServers = started;
  // One folder for every temporary folder of the run (workDir), removed by globalTeardown.
  globalThis.__modelstoreInteropWork = mkdtempSync(path.join(tmpdir(), 'modelstore-interop-'));
  process.env.MODELSTORE_INTEROP_WORK = globalThis.__modelstoreInteropWork;
  const track = (promise) => promise.then((server) => (started.push(server), server));
  const [python, python081, minio, gcs, azurite, pythonSigning] = await Promise.all([
    ensurePythonEnv(),
    ensurePythonEnv({ variant: 'modelstore-0.0.81' }),
    track(startMinio({ buckets: [bucket] })),
    track(startFakeGcsServer({ buckets: [bucket] })),
    track(startAzurite()),
    ensurePythonEnv({ variant: 'signing' }),
  ]);
  await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(bucket).create();
  process.env.MODELSTORE_INTEROP = JSON.stringify({
    python: python.python,
    python081: python081.python,
    pythonSigning: pythonSigning.python,
    minio: { endpoint: minio.endpoint, ...minio.credentials, bucket },
    gcs: { endpoint: gcs.endpoint, bucket },
    azure: { connectionString: azurite.connectionString, container: bucket },
  });
}
