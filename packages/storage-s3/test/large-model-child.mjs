// A large model round trip through S3Storage in a process of its own (see large-model.test.ts).
import { largeModelRoundTrip } from '@modelstore/storage-conformance/large-model';
import { S3Storage } from '@modelstore/storage-s3';

// argv: work folder, size in MiB, and the environment variable naming the server (MODELSTORE_TEST_S3 by default).
const [work, sizeMiB, serverVariable = 'MODELSTORE_TEST_S3'] = process.argv.slice(2);
const info = JSON.parse(process.env[serverVariable]);
const storage = new S3Storage({ bucket: info.bucket, rootPrefix: `large-${process.pid}`, endpoint: info.endpoint, forcePathStyle: true, credentials: info.credentials, region: 'us-east-1' });
process.stdout.write(JSON.stringify(await largeModelRoundTrip({ storage, sizeMiB: Number(sizeMiB), work })));
storage.client.destroy();
