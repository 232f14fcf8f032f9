// A crash-injection worker: uploads, deletes and labels models until it is killed.
import { runChurnWorker } from '@modelstore/storage-conformance/reliability';
import { FileSystemStorage } from '@modelstore/storage-fs';

await runChurnWorker((options) => new FileSystemStorage(options));
