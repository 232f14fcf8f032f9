// A crash-injection worker: uploads, deletes and labels models until it is killed.
import { runChurnWorker } from '@modelstore/storage-conformance/reliability';
import { AzureBlobStorage } from '@modelstore/storage-azure';

await runChurnWorker((options) => new AzureBlobStorage(options));
