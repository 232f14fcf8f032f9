// A crash-injection worker: uploads, deletes and labels models until it is killed.
import { runChurnWorker } from '@modelstore/storage-conformance/reliability';
import { S3Storage } from '@modelstore/storage-s3';

await runChurnWorker((options) => new S3Storage(options));
