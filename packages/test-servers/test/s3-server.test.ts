import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startS3Server, type S3Server } from '../src/s3-server.js';

let server: S3Server;
let client: S3Client;
const Bucket = 'models';

function clientFor(credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
}

async function text(body: unknown): Promise<string> {
  return (body as { transformToString(): Promise<string> }).transformToString();
}

async function errorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(S3ServiceException);
  return error as S3ServiceException;
}

beforeAll(async () => {
  server = await startS3Server();
  client = clientFor(server.credentials);
  await client.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

describe('S3 test server, through the AWS SDK', () => {
  it('creates and heads buckets, and says when one is missing', async () => {
    await client.send(new HeadBucketCommand({ Bucket }));
    expect((await errorOf(client.send(new HeadBucketCommand({ Bucket: 'nope' })))).$metadata.httpStatusCode).toBe(404);
    expect((await errorOf(client.send(new PutObjectCommand({ Bucket: 'nope', Key: 'k', Body: 'x' })))).name).toBe('NoSuchBucket');
    expect((await errorOf(client.send(new CreateBucketCommand({ Bucket })))).name).toBe('BucketAlreadyOwnedByYou');
  });

  it('rejects wrong credentials and bad signatures', async () => {
    const stranger = clientFor({ accessKeyId: 'SOMEONEELSE', secretAccessKey: 'x' });
    expect((await errorOf(stranger.send(new HeadObjectCommand({ Bucket, Key: 'k' })))).$metadata.httpStatusCode).toBe(403);
    expect((await errorOf(stranger.send(new GetObjectCommand({ Bucket, Key: 'k' })))).name).toBe('InvalidAccessKeyId');
    const forger = clientFor({ accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'wrong-secret' });
    expect((await errorOf(forger.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' })))).name).toBe('SignatureDoesNotMatch');
    stranger.destroy();
    forger.destroy();
  });

  it('puts, gets, heads and deletes objects with odd keys', async () => {
    const Key = 'dir/ünï code/with space+plus&amp=.json';
    const put = await client.send(new PutObjectCommand({ Bucket, Key, Body: '{"a":1}', ContentType: 'application/json' }));
    expect(put.ETag).toBe(`"${createHash('md5').update('{"a":1}').digest('hex')}"`);
    const got = await client.send(new GetObjectCommand({ Bucket, Key }));
    expect(await text(got.Body)).toBe('{"a":1}');
    expect(got.ContentType).toBe('application/json');
    const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head.ContentLength).toBe(7);
    expect(head.ETag).toBe(put.ETag);
    await client.send(new DeleteObjectCommand({ Bucket, Key }));
    expect((await errorOf(client.send(new GetObjectCommand({ Bucket, Key })))).name).toBe('NoSuchKey');
    expect((await errorOf(client.send(new HeadObjectCommand({ Bucket, Key })))).$metadata.httpStatusCode).toBe(404);
    await client.send(new DeleteObjectCommand({ Bucket, Key }));
  });

  it('checks Content-MD5 and CRC32 when the client sends them', async () => {
    const error = await errorOf(client.send(new PutObjectCommand({ Bucket, Key: 'md5', Body: 'hello', ContentMD5: createHash('md5').update('other').digest('base64') })));
    expect(error.name).toBe('BadDigest');
    const crcError = await errorOf(client.send(new PutObjectCommand({ Bucket, Key: 'crc', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })));
    expect(crcError.name).toBe('BadDigest');
    await client.send(new PutObjectCommand({ Bucket, Key: 'crc', Body: 'hello', ChecksumAlgorithm: 'CRC32' }));
  });

  it('streams a body of unknown length with aws-chunked encoding and a trailing checksum', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 11);
    await new Upload({ client, params: { Bucket, Key: 'chunked', Body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]) } }).done();
    const got = await client.send(new GetObjectCommand({ Bucket, Key: 'chunked' }));
    expect(Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(data)).toBe(true);
  });

  it('serves ranges and conditional reads', async () => {
    const put = await client.send(new PutObjectCommand({ Bucket, Key: 'range', Body: '0123456789' }));
    const range = await client.send(new GetObjectCommand({ Bucket, Key: 'range', Range: 'bytes=2-5' }));
    expect(await text(range.Body)).toBe('2345');
    expect(range.ContentRange).toBe('bytes 2-5/10');
    expect(await text((await client.send(new GetObjectCommand({ Bucket, Key: 'range', Range: 'bytes=-3' }))).Body)).toBe('789');
    expect(await text((await client.send(new GetObjectCommand({ Bucket, Key: 'range', Range: 'bytes=8-100' }))).Body)).toBe('89');
    expect((await errorOf(client.send(new GetObjectCommand({ Bucket, Key: 'range', Range: 'bytes=20-30' })))).$metadata.httpStatusCode).toBe(416);
    expect((await errorOf(client.send(new GetObjectCommand({ Bucket, Key: 'range', IfMatch: '"nope"' })))).$metadata.httpStatusCode).toBe(412);
    expect((await errorOf(client.send(new GetObjectCommand({ Bucket, Key: 'range', IfNoneMatch: put.ETag })))).$metadata.httpStatusCode).toBe(304);
  });

  it('honours If-None-Match: * and If-Match on PutObject', async () => {
    const first = await client.send(new PutObjectCommand({ Bucket, Key: 'cond', Body: 'v1', IfNoneMatch: '*' }));
    expect((await errorOf(client.send(new PutObjectCommand({ Bucket, Key: 'cond', Body: 'v2', IfNoneMatch: '*' })))).$metadata.httpStatusCode).toBe(412);
    const second = await client.send(new PutObjectCommand({ Bucket, Key: 'cond', Body: 'v2', IfMatch: first.ETag }));
    expect((await errorOf(client.send(new PutObjectCommand({ Bucket, Key: 'cond', Body: 'v3', IfMatch: first.ETag })))).name).toBe('PreconditionFailed');
    expect((await errorOf(client.send(new PutObjectCommand({ Bucket, Key: 'absent', Body: 'v1', IfMatch: second.ETag })))).$metadata.httpStatusCode).toBe(404);
    expect(await text((await client.send(new GetObjectCommand({ Bucket, Key: 'cond' }))).Body)).toBe('v2');
  });

  it('assembles multipart uploads, conditionally, and aborts them', async () => {
    const part = randomBytes(5 * 1024 * 1024);
    const tail = Buffer.from('tail');
    const start = async () => (await client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'multi' }))).UploadId!;
    const UploadId = await start();
    const p1 = await client.send(new UploadPartCommand({ Bucket, Key: 'multi', UploadId, PartNumber: 1, Body: part }));
    const p2 = await client.send(new UploadPartCommand({ Bucket, Key: 'multi', UploadId, PartNumber: 2, Body: tail }));
    const parts = [
      { PartNumber: 1, ETag: p1.ETag },
      { PartNumber: 2, ETag: p2.ETag },
    ];
    const done = await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'multi', UploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: '*' }));
    expect(done.ETag).toMatch(/-2"$/);
    const whole = Buffer.from(await ((await client.send(new GetObjectCommand({ Bucket, Key: 'multi' }))).Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(whole.equals(Buffer.concat([part, tail]))).toBe(true);

    const again = await start();
    const q1 = await client.send(new UploadPartCommand({ Bucket, Key: 'multi', UploadId: again, PartNumber: 1, Body: part }));
    const q2 = await client.send(new UploadPartCommand({ Bucket, Key: 'multi', UploadId: again, PartNumber: 2, Body: tail }));
    const conflict = await errorOf(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'multi',
          UploadId: again,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: q1.ETag },
              { PartNumber: 2, ETag: q2.ETag },
            ],
          },
          IfNoneMatch: '*',
        }),
      ),
    );
    expect(conflict.$metadata.httpStatusCode).toBe(412);
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key: 'multi', UploadId: again }));
    expect((await errorOf(client.send(new UploadPartCommand({ Bucket, Key: 'multi', UploadId: again, PartNumber: 3, Body: tail })))).name).toBe('NoSuchUpload');

    const small = await start();
    const s1 = await client.send(new UploadPartCommand({ Bucket, Key: 'small', UploadId: small, PartNumber: 1, Body: tail }));
    const s2 = await client.send(new UploadPartCommand({ Bucket, Key: 'small', UploadId: small, PartNumber: 2, Body: tail }));
    const tooSmall = await errorOf(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'small',
          UploadId: small,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: s1.ETag },
              { PartNumber: 2, ETag: s2.ETag },
            ],
          },
        }),
      ),
    );
    expect(['EntityTooSmall', 'NoSuchUpload']).toContain(tooSmall.name);
  });

  it('lists with prefix, delimiter, max-keys and continuation past 1,000 keys', async () => {
    const keys = Array.from({ length: 1205 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((Key) => client.send(new PutObjectCommand({ Bucket, Key, Body: Key }))));
    await client.send(new PutObjectCommand({ Bucket, Key: 'many/sub/deep', Body: 'x' }));
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'many/', ContinuationToken }));
      seen.push(...(page.Contents ?? []).map((object) => object.Key!));
      ContinuationToken = page.NextContinuationToken;
      pages++;
    } while (ContinuationToken);
    expect(pages).toBe(2);
    expect(seen).toEqual([...keys, 'many/sub/deep']);
    const delimited = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'many/', Delimiter: '/', StartAfter: 'many/01199' }));
    expect(delimited.CommonPrefixes).toEqual([{ Prefix: 'many/sub/' }]);
    expect(delimited.Contents!.map((object) => object.Key)).toEqual(keys.slice(1200));
    expect(delimited.KeyCount).toBe(6);
    const small = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'many/', MaxKeys: 3 }));
    expect(small.Contents!.map((object) => object.Key)).toEqual(keys.slice(0, 3));
    expect(small.IsTruncated).toBe(true);
    const deleted = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.slice(0, 10).map((Key) => ({ Key })) } }));
    expect(deleted.Deleted).toHaveLength(10);
    expect((await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'many/0000' }))).KeyCount).toBe(0);
  }, 60_000);
});
