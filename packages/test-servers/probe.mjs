import http from 'node:http';
import { S3Client, PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startS3rver } from './dist/s3rver.js';
const h = await startS3rver({ buckets: ['b'] });
const c = new S3Client({ endpoint: h.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: h.credentials, maxAttempts: 1 });
for (const k of ['a/1', 'a/2', 'b/3', 'c']) await c.send(new PutObjectCommand({ Bucket: 'b', Key: k, Body: 'x' }));
try { const p = await c.send(new ListObjectsV2Command({ Bucket: 'b', MaxKeys: 2 })); console.log(p.Contents?.length, p.NextContinuationToken);
 const q = await c.send(new ListObjectsV2Command({ Bucket: 'b', MaxKeys: 2, ContinuationToken: p.NextContinuationToken })); console.log(q.Contents?.length); } catch (e) { console.log('ERR', e.$metadata.httpStatusCode, e.name, e.message); }
await h.close();
