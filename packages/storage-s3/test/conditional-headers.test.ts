import { describe, expect, it } from '@jest/globals';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { clientOn, conditionalServers, server } from './servers.js';

// The conditional requests S3Storage relies on, sent with the SDK to our S3 server and
// to the real MinIO and moto: If-None-Match: * and If-Match on PutObject and on
// CompleteMultipartUpload, If-Match on a ranged GetObject, and N create-only writers of
// one key of which exactly one must win. The answers are AWS's documented ones
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).

async function status(client: S3Client, command: any): Promise<number> {
  try {
    const output = (await client.send(command)) as unknown as { $metadata: { httpStatusCode?: number }; Body?: { transformToByteArray(): Promise<Uint8Array> } };
    await output.Body?.transformToByteArray();
    return output.$metadata.httpStatusCode ?? 0;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

async function multipart(client: S3Client, Bucket: string, Key: string, conditions: { IfNoneMatch?: string; IfMatch?: string }): Promise<number> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const part = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(1024) }));
  return status(client, new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...conditions }));
}

for (const { label, name } of conditionalServers) {
  describe(`conditional requests on ${label}`, () => {
    it('PutObject: If-None-Match * refuses an existing key with 412; If-Match takes the current ETag and refuses a stale one with 412', async () => {
      const info = server(name);
      const client = clientOn(info);
      const Bucket = info.bucket;
      const Key = `conditional-${randomBytes(6).toString('hex')}`;
      try {
        expect(await status(client, new PutObjectCommand({ Bucket, Key, Body: 'one', IfNoneMatch: '*' }))).toBe(200);
        expect(await status(client, new PutObjectCommand({ Bucket, Key, Body: 'two', IfNoneMatch: '*' }))).toBe(412);
        const first = await client.send(new PutObjectCommand({ Bucket, Key, Body: 'three' }));
        expect(await status(client, new PutObjectCommand({ Bucket, Key, Body: 'four', IfMatch: first.ETag }))).toBe(200);
        expect(await status(client, new PutObjectCommand({ Bucket, Key, Body: 'five', IfMatch: first.ETag }))).toBe(412);
        // AWS answers 404 to If-Match on a missing key; what S3Storage needs is "not 2xx".
        expect(await status(client, new PutObjectCommand({ Bucket, Key: `${Key}-missing`, Body: 'x', IfMatch: first.ETag }))).toBeGreaterThanOrEqual(400);
        expect(await status(client, new GetObjectCommand({ Bucket, Key, Range: 'bytes=0-1', IfMatch: first.ETag }))).toBe(412);
      } finally {
        client.destroy();
      }
    }, 60_000);

    it('CompleteMultipartUpload: If-None-Match * refuses an existing key with 412; If-Match refuses a stale ETag with 412 (not on moto)', async () => {
      const info = server(name);
      const client = clientOn(info);
      const Bucket = info.bucket;
      const Key = `conditional-mpu-${randomBytes(6).toString('hex')}`;
      try {
        expect(await multipart(client, Bucket, Key, { IfNoneMatch: '*' })).toBe(200);
        expect(await multipart(client, Bucket, Key, { IfNoneMatch: '*' })).toBe(412);
        // moto 5.2.5 ignores If-Match on CompleteMultipartUpload (documented in the README):
        // the stale write is applied. Registry pointers are small single PutObjects, which it checks.
        expect(await multipart(client, Bucket, Key, { IfMatch: '"0123456789abcdef0123456789abcdef"' })).toBe(name === 'MODELSTORE_TEST_MOTO' ? 200 : 412);
      } finally {
        client.destroy();
      }
    }, 60_000);

    it('of 12 concurrent create-only writers of one key, exactly one wins', async () => {
      const info = server(name);
      const client = clientOn(info);
      const Key = `conditional-race-${randomBytes(6).toString('hex')}`;
      try {
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? status(client, new PutObjectCommand({ Bucket: info.bucket, Key, Body: `writer ${i}`, IfNoneMatch: '*' })) : multipart(client, info.bucket, Key, { IfNoneMatch: '*' }))),
        );
        expect(answers.filter((answer) => answer === 200)).toHaveLength(1);
        // Losers get 412, or 409 (ConditionalRequestConflict) for a concurrent one.
        expect(answers.filter((answer) => answer !== 200).every((answer) => answer === 412 || answer === 409)).toBe(true);
      } finally {
        client.destroy();
      }
    }, 60_000);
  });
}
