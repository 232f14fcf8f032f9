// A crash-injection worker: uploads, deletes and labels models until it is killed.
import { runChurnWorker } from '@modelstore/storage-conformance/reliability';
import { GcsStorage } from '@modelstore/storage-gcs';

await runChurnWorker((options) => new GcsStorage(options));
