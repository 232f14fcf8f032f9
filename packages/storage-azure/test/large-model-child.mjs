// A large model round trip through AzureBlobStorage in a process of its own (see large-model.test.ts).
import { largeModelRoundTrip } from '@modelstore/storage-conformance/large-model';
import { AzureBlobStorage } from '@modelstore/storage-azure';

const [work, sizeMiB] = process.argv.slice(2);
const info = JSON.parse(process.env.MODELSTORE_TEST_AZURE);
const storage = new AzureBlobStorage({ container: info.container, rootPrefix: `large-${process.pid}`, connectionString: info.connectionString });
process.stdout.write(JSON.stringify(await largeModelRoundTrip({ storage, sizeMiB: Number(sizeMiB), work })));
