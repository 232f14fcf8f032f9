export { startS3Server } from './s3-server.js';
export type { S3Server, S3ServerOptions } from './s3-server.js';
export { startS3rver } from './s3rver.js';
export type { S3rverHandle } from './s3rver.js';
export { verifySigV4 } from './sigv4.js';
export { decodeAwsChunked } from './aws-chunked.js';
export { startGcsServer } from './gcs-server.js';
export type { GcsServer, GcsServerOptions } from './gcs-server.js';
export { splitMultipart } from './multipart-related.js';
