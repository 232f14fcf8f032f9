// A large model round trip through GcsStorage in a process of its own (see large-model.test.ts).
import { largeModelRoundTrip } from '@modelstore/storage-conformance/large-model';
import { GcsStorage } from '@modelstore/storage-gcs';

// argv: work folder, size in MiB, and the environment variable naming the server (MODELSTORE_TEST_GCS by default).
const [work, sizeMiB, serverVariable = 'MODELSTORE_TEST_GCS'] = process.argv.slice(2);
const info = JSON.parse(process.env[serverVariable]);
const storage = new GcsStorage({ bucket: info.bucket, rootPrefix: `large-${process.pid}`, apiEndpoint: info.endpoint, projectId: 'modelstore-test' });
process.stdout.write(JSON.stringify(await largeModelRoundTrip({ storage, sizeMiB: Number(sizeMiB), work })));
