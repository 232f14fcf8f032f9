// The package's own media reads (src/media.ts), against a scripted JSON API endpoint:
// retries of 5xx answers, and the CRC32C check of whole-object reads. (Our GCS test
// server always answers correctly; these answers are the ones it never gives.)
import { afterEach, describe, expect, it } from '@jest/globals';
import { CRC32C } from '@google-cloud/storage';
import { IntegrityError, StorageError } from '@modelstore/core';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GcsStorage } from '../src/index.js';
import { buffer } from 'node:stream/consumers';

let server: http.Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function scripted(answer: (request: IncomingMessage, response: ServerResponse, index: number) => void): Promise<GcsStorage> {
  let index = 0;
  server = http.createServer((request, response) => answer(request, response, index++));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return new GcsStorage({ bucket: 'b', apiEndpoint: endpoint, projectId: 'p', maxAttempts: 3, requestTimeoutMs: 2000 });
}

const bytes = Buffer.from('the bytes of a model '.repeat(100));
const crcOf = (data: Buffer) => {
  const crc = new CRC32C();
  crc.update(data);
  return crc.toString();
};

function media(response: ServerResponse, body: Buffer, crc: string) {
  response.writeHead(200, { 'content-length': body.length, 'x-goog-generation': '7', 'x-goog-stored-content-length': body.length, 'x-goog-stored-content-encoding': 'identity', 'x-goog-hash': `crc32c=${crc},md5=AAAAAAAAAAAAAAAAAAAAAA==` });
  response.end(body);
}

describe('GcsStorage media reads', () => {
  it('sends the JSON API media request and checks the CRC32C of a whole read', async () => {
    const seen: string[] = [];
    const storage = await scripted((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      media(response, bytes, crcOf(bytes));
    });
    const stored = await storage.get('models/a b.bin');
    expect((await buffer(stored!.body)).equals(bytes)).toBe(true);
    expect(stored!.etag).toBe('7');
    expect(seen).toEqual(['GET /storage/v1/b/b/o/models%2Fa%20b.bin?alt=media']);
  });

  it('retries a 503, then reads', async () => {
    const storage = await scripted((_request, response, index) => {
      if (index === 0) {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 503, message: 'try again' } }));
        return;
      }
      media(response, bytes, crcOf(bytes));
    });
    expect((await buffer((await storage.get('doc.bin'))!.body)).equals(bytes)).toBe(true);
  }, 20_000);

  it('fails a read whose bytes do not match the CRC32C with IntegrityError, without resuming it', async () => {
    let requests = 0;
    const storage = await scripted((_request, response) => {
      requests++;
      media(response, bytes, crcOf(Buffer.from('other bytes')));
    });
    const error = await buffer((await storage.get('doc.bin'))!.body).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect(requests).toBe(1);
  });

  it('reports a 403 with a typed error that says what to check', async () => {
    const storage = await scripted((_request, response) => {
      response.writeHead(403, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 403, message: 'caller does not have storage.objects.get access' } }));
    });
    const error = await storage.get('doc.bin').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/refused \(403\).*credentials/);
  });
});
