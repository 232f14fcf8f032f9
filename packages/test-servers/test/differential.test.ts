import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3Server, type S3Server } from '../src/s3-server.js';
import { startS3rver, type S3rverHandle } from '../src/s3rver.js';
import { seededRandom as random } from '../src/seeded-random.js';

type Outcome = Record<string, unknown>;

/** Runs one operation and reduces its result to what both servers must agree on. */
async function apply(client: S3Client, Bucket: string, op: { kind: string; key: string; body?: string; range?: string; maxKeys?: number }): Promise<Outcome> {
  try {
    switch (op.kind) {
      case 'put': {
        const result = await client.send(new PutObjectCommand({ Bucket, Key: op.key, Body: op.body }));
        return { etag: result.ETag };
      }
      case 'get': {
        const result = await client.send(new GetObjectCommand({ Bucket, Key: op.key, ...(op.range ? { Range: op.range } : {}) }));
        return { body: await result.Body!.transformToString(), etag: result.ETag, length: result.ContentLength, range: result.ContentRange };
      }
      case 'head': {
        const result = await client.send(new HeadObjectCommand({ Bucket, Key: op.key }));
        return { etag: result.ETag, length: result.ContentLength };
      }
      case 'delete':
        await client.send(new DeleteObjectCommand({ Bucket, Key: op.key }));
        return { deleted: true };
      default: {
        const keys: string[] = [];
        let ContinuationToken: string | undefined;
        let pages = 0;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: op.key, MaxKeys: op.maxKeys, ContinuationToken }));
          keys.push(...(page.Contents ?? []).map((object) => `${object.Key} ${object.Size} ${object.ETag}`));
          ContinuationToken = page.NextContinuationToken;
          pages++;
        } while (ContinuationToken);
        return { keys, pages };
      }
    }
  } catch (error) {
    return { error: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
  }
}

describe('differential: the modelstore S3 server and s3rver agree', () => {
  let ours: S3Server;
  let theirs: S3rverHandle;
  let clients: [S3Client, S3Client];
  beforeAll(async () => {
    ours = await startS3Server();
    theirs = await startS3rver();
    const client = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) => new S3Client({ endpoint, credentials, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1 });
    clients = [client(ours.endpoint, ours.credentials), client(theirs.endpoint, theirs.credentials)];
    for (const c of clients) await c.send(new CreateBucketCommand({ Bucket: 'diff' }));
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await ours.close();
    await theirs.close();
  });

  it('on 300 seeded operations: puts, gets with ranges, heads, deletes and paginated listings', async () => {
    const next = random(20261127);
    const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
    // Letters, digits and "/": s3rver orders keys by file system walk, which matches
    // S3's byte order only when no key has a character below "/".
    const segments = ['a', 'b', 'ab', 'x1', 'models', 'v2'];
    const keyOf = () => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(segments)).join('/') + `/${pick(['f1', 'f2', 'f3'])}`;
    // s3rver 3.7.1 answers suffix ranges ("bytes=-2") and "bytes=0-0" from the start of
    // the object; the S3 server's own tests check those against the RFC 7233 meaning.
    const ranges = ['bytes=0-4', 'bytes=3-', 'bytes=2-1000', 'bytes=1-1'];
    const disagreements: string[] = [];
    for (let step = 0; step < 300; step++) {
      const roll = next();
      const op =
        roll < 0.35
          ? { kind: 'put', key: keyOf(), body: `body-${step}-`.repeat(1 + Math.floor(next() * 20)) }
          : roll < 0.55
            ? { kind: 'get', key: keyOf(), ...(next() < 0.5 ? { range: pick(ranges) } : {}) }
            : roll < 0.7
              ? { kind: 'head', key: keyOf() }
              : roll < 0.85
                ? { kind: 'delete', key: keyOf() }
                : { kind: 'list', key: pick(['', 'a/', 'a', 'models/', 'ab/x1/', 'zz']), maxKeys: pick([1, 2, 5, 1000]) };
      const [a, b] = await Promise.all(clients.map((c) => apply(c, 'diff', op)));
      if (JSON.stringify(a) !== JSON.stringify(b)) disagreements.push(`${step} ${JSON.stringify(op)}: ours ${JSON.stringify(a)} s3rver ${JSON.stringify(b)}`);
    }
    expect(disagreements).toEqual([]);
  }, 120_000);
});
