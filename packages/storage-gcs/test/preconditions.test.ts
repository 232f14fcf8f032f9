import { describe, expect, it } from '@jest/globals';
import { Storage } from '@google-cloud/storage';
import { randomBytes } from 'node:crypto';
import { gcsServers, server } from './server.js';

// The generation preconditions GcsStorage relies on, on our GCS server and on
// fake-gcs-server, through the official SDK (multipart and resumable uploads, deletes)
// and the JSON API directly for the media upload the SDK does not send:
// ifGenerationMatch=0 (create-only) and ifGenerationMatch=<generation> (compare and
// swap) must answer 412 when they do not hold
// (https://cloud.google.com/storage/docs/request-preconditions).

function statusOf(error: unknown): number {
  // ApiError carries `code`; a GaxiosError from the resumable session start carries `status`.
  const { code, status, response } = error as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const value of [code, status, response?.status]) if (typeof value === 'number') return value;
  return -1;
}

async function attempt(action: () => Promise<unknown>): Promise<number> {
  try {
    await action();
    return 200;
  } catch (error) {
    return statusOf(error);
  }
}

async function media(endpoint: string, bucket: string, name: string, body: string, ifGenerationMatch: number): Promise<{ status: number; generation?: string }> {
  const query = new URLSearchParams({ uploadType: 'media', name, ifGenerationMatch: String(ifGenerationMatch) });
  const response = await fetch(`${endpoint}/upload/storage/v1/b/${bucket}/o?${query}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
  const text = await response.text();
  return { status: response.status, ...(response.ok ? { generation: String((JSON.parse(text) as { generation: string }).generation) } : {}) };
}

for (const { label, name } of gcsServers) {
  describe(`generation preconditions on ${label}`, () => {
    const info = () => server(name);
    const client = () => new Storage({ apiEndpoint: info().endpoint, projectId: 'modelstore-test' });

    it('media upload: ifGenerationMatch=0 refuses an existing object and a stale generation is refused, with 412', async () => {
      const { endpoint, bucket } = info();
      const key = `pre-media-${randomBytes(6).toString('hex')}`;
      const first = await media(endpoint, bucket, key, 'one', 0);
      expect(first.status).toBe(200);
      expect((await media(endpoint, bucket, key, 'two', 0)).status).toBe(412);
      const second = await media(endpoint, bucket, key, 'three', Number(first.generation));
      expect(second.status).toBe(200);
      expect((await media(endpoint, bucket, key, 'four', Number(first.generation))).status).toBe(412);
    });

    it('multipart upload (SDK, resumable: false): create-only and compare-and-swap answer 412 when they do not hold', async () => {
      const file = client()
        .bucket(info().bucket)
        .file(`pre-multipart-${randomBytes(6).toString('hex')}`);
      expect(await attempt(() => file.save('one', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }))).toBe(200);
      const generation = Number(file.metadata.generation);
      expect(await attempt(() => file.save('two', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }))).toBe(412);
      expect(await attempt(() => file.save('three', { resumable: false, preconditionOpts: { ifGenerationMatch: generation } }))).toBe(200);
      expect(await attempt(() => file.save('four', { resumable: false, preconditionOpts: { ifGenerationMatch: generation } }))).toBe(412);
      const [contents] = await file.download();
      expect(contents.toString()).toBe('three');
    });

    it('resumable upload (SDK): create-only and compare-and-swap answer 412 when they do not hold', async () => {
      const file = client()
        .bucket(info().bucket)
        .file(`pre-resumable-${randomBytes(6).toString('hex')}`);
      const body = randomBytes(300 * 1024);
      expect(await attempt(() => file.save(body, { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }))).toBe(200);
      const generation = Number(file.metadata.generation);
      expect(await attempt(() => file.save(randomBytes(1024), { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }))).toBe(412);
      expect(await attempt(() => file.save(randomBytes(1024), { resumable: true, preconditionOpts: { ifGenerationMatch: generation + 1 } }))).toBe(412);
      const [contents] = await file.download();
      expect(contents.equals(body)).toBe(true);
    });

    it('delete: a stale ifGenerationMatch is refused with 412 (fake-gcs-server: ignored), the current one deletes', async () => {
      const file = client()
        .bucket(info().bucket)
        .file(`pre-delete-${randomBytes(6).toString('hex')}`);
      await file.save('one', { resumable: false });
      const generation = Number(file.metadata.generation);
      // fake-gcs-server 1.56.1 ignores ifGenerationMatch on DELETE and deletes the object
      // (documented in the README). GcsStorage's only conditional delete removes an
      // upload that arrived damaged; nothing else depends on it.
      if (name === 'MODELSTORE_TEST_FAKE_GCS') {
        expect(await attempt(() => file.delete({ ifGenerationMatch: generation + 1 }))).toBe(200);
        expect((await file.exists())[0]).toBe(false);
        return;
      }
      expect(await attempt(() => file.delete({ ifGenerationMatch: generation + 1 }))).toBe(412);
      expect(await attempt(() => file.delete({ ifGenerationMatch: generation }))).toBe(200);
      expect((await file.exists())[0]).toBe(false);
    });

    it('of 12 concurrent create-only writers of one object, exactly one wins', async () => {
      const { endpoint, bucket } = info();
      const key = `pre-race-${randomBytes(6).toString('hex')}`;
      const file = client().bucket(bucket).file(key);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          i % 3 === 0
            ? media(endpoint, bucket, key, `writer ${i}`, 0).then((answer) => answer.status)
            : attempt(() => file.save(randomBytes(i % 3 === 1 ? 1024 : 300 * 1024), { resumable: i % 3 === 2, preconditionOpts: { ifGenerationMatch: 0 } })),
        ),
      );
      expect(answers.filter((answer) => answer === 200)).toHaveLength(1);
      expect(answers.filter((answer) => answer !== 200).every((answer) => answer === 412)).toBe(true);
    });
  });
}
