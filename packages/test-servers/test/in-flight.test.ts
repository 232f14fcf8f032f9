import { describe, expect, it } from '@jest/globals';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import http from 'node:http';
import { Readable } from 'node:stream';
import { requestsInFlight, startFaultProxy, startGcsServer, startS3Server } from '../src/index.js';

/** Sends the headers and half the body of a PUT/POST, and returns a function that sends the rest. */
function halfSent(endpoint: string, method: string, path: string): { finish(): Promise<number> } {
  const body = Buffer.alloc(1024, 7);
  const request = http.request(`${endpoint}${path}`, { method, headers: { 'content-length': body.length, 'content-type': 'application/octet-stream' } });
  const answered = new Promise<number>((resolve, reject) => {
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
  });
  request.write(body.subarray(0, 512));
  return {
    finish() {
      request.end(body.subarray(512));
      return answered;
    },
  };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('requests in progress', () => {
  it('the GCS server counts a write whose body is still arriving, and reports it over HTTP', async () => {
    const server = await startGcsServer({ buckets: ['b'] });
    try {
      expect(await requestsInFlight(server.endpoint)).toBe(0);
      const upload = halfSent(server.endpoint, 'POST', '/upload/storage/v1/b/b/o?uploadType=media&name=x.bin');
      await until(() => server.inFlight === 1);
      expect(await requestsInFlight(server.endpoint)).toBe(1);
      expect(await upload.finish()).toBe(200);
      await until(() => server.inFlight === 0);
      expect(await requestsInFlight(server.endpoint)).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('the S3 server counts a write whose body is still arriving, and reports it over HTTP', async () => {
    const server = await startS3Server({ buckets: ['b'] });
    const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: server.credentials, maxAttempts: 1 });
    try {
      expect(await requestsInFlight(server.endpoint)).toBe(0);
      // A signed PUT whose body is held back half-way.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const body = Readable.from(
        (async function* () {
          yield Buffer.alloc(512, 1);
          await held;
          yield Buffer.alloc(512, 2);
        })(),
      );
      const put = client.send(new PutObjectCommand({ Bucket: 'b', Key: 'x.bin', Body: body, ContentLength: 1024 }));
      await until(() => server.inFlight === 1);
      expect(await requestsInFlight(server.endpoint)).toBe(1);
      release();
      await put;
      await until(() => server.inFlight === 0);
      expect(await requestsInFlight(server.endpoint)).toBe(0);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('the fault proxy counts a stalled request until it is dropped', async () => {
    const server = await startGcsServer({ buckets: ['b'] });
    const proxy = await startFaultProxy({ target: server.endpoint, stallMs: 300, decide: () => 'stall' });
    try {
      const request = http.get(`${proxy.endpoint}/storage/v1/b/b/o`);
      const dropped = new Promise<void>((resolve) => request.on('error', () => resolve()));
      await until(() => proxy.inFlight === 1);
      await dropped;
      await until(() => proxy.inFlight === 0);
    } finally {
      await proxy.close();
      await server.close();
    }
  });
});
