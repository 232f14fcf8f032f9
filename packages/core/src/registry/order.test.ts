// Unit tests of the model order: createdTime's zone inference, newestFirst and
// sortByTime ties, and sameModel.
import { describe, expect, it } from '@jest/globals';
import type { ModelMetadata } from '../metadata.js';
import type { StoredModel } from './documents.js';
import { createdTime, modelTime, newestFirst, sameModel, sortByTime } from './order.js';

const minute = 60_000;
const hour = 60 * minute;

function metadata(code: Record<string, unknown> | undefined, extra: Partial<ModelMetadata> = {}): ModelMetadata {
  return {
    model: { domain: 'd', model_id: 'm', model_type: { library: 'x' } },
    storage: { type: 'file_system', path: '/r/operatorai-model-store/d/2024.01.01-00.00.00/m/artifacts.tar.gz' },
    ...(code === undefined ? {} : { code }),
    ...extra,
  } as ModelMetadata;
}

/** A Python document: `created` is the writer's local wall clock, no zone. */
const python = (created: string) => metadata({ created });
const stampUtc = Date.UTC(2024, 0, 1, 9, 0, 0); // "2024/01/01/09:00:00" read as UTC

describe('createdTime', () => {
  it('takes code.created_at when it parses, whatever created and the storage time say', () => {
    const value = metadata({ created_at: '2024-05-06T07:08:09.123Z', created: '2001/01/01/00:00:00' });
    expect(createdTime(value, new Date(0))).toBe(Date.parse('2024-05-06T07:08:09.123Z'));
  });

  it('falls back to the stamp when created_at is not a date, and to the storage time when neither parses', () => {
    expect(createdTime(metadata({ created_at: 'yesterday', created: '2024/01/01/09:00:00' }))).toBe(stampUtc);
    expect(createdTime(metadata({ created: '2024-01-01 09:00:00' }), new Date(1234))).toBe(1234);
    expect(createdTime(metadata({ created: 12 }))).toBe(0);
    expect(createdTime(metadata(undefined))).toBe(0);
  });

  it('reads the stamp as UTC when no storage time is known (or it is not a date)', () => {
    expect(createdTime(python('2024/01/01/09:00:00'))).toBe(stampUtc);
    expect(createdTime(python('2024/01/01/09:00:00'), new Date(Number.NaN))).toBe(stampUtc);
  });

  it('converts a Tokyo stamp (UTC+9) written two seconds before the document to UTC', () => {
    const stored = new Date(Date.UTC(2024, 0, 1, 0, 0, 2));
    expect(createdTime(python('2024/01/01/09:00:00'), stored)).toBe(Date.UTC(2024, 0, 1, 0, 0, 0));
  });

  it('rounds the inferred offset to the nearest quarter hour at the 7.5-minute boundary', () => {
    // stamp − stored just under +7.5 min: offset 0, the stamp is taken as UTC.
    expect(createdTime(python('2024/01/01/09:00:00'), new Date(stampUtc - 7.5 * minute + 1))).toBe(stampUtc);
    // just over +7.5 min: offset +15 min.
    expect(createdTime(python('2024/01/01/09:00:00'), new Date(stampUtc - 7.5 * minute - 1))).toBe(stampUtc - 15 * minute);
    // just under −7.5 min: offset −15 min.
    expect(createdTime(python('2024/01/01/09:00:00'), new Date(stampUtc + 7.5 * minute + 1))).toBe(stampUtc + 15 * minute);
    // just over −7.5 min: offset 0.
    expect(createdTime(python('2024/01/01/09:00:00'), new Date(stampUtc + 7.5 * minute - 1))).toBe(stampUtc);
  });

  it('accepts offsets from −12 h to +14 h and reads the stamp as UTC just outside them', () => {
    const at = (offset: number) => createdTime(python('2024/01/01/09:00:00'), new Date(stampUtc - offset));
    expect(at(-12 * hour)).toBe(stampUtc + 12 * hour);
    expect(at(14 * hour)).toBe(stampUtc - 14 * hour);
    expect(at(5.75 * hour)).toBe(stampUtc - 5.75 * hour); // Nepal, UTC+5:45
    expect(at(-12.25 * hour)).toBe(stampUtc);
    expect(at(14.25 * hour)).toBe(stampUtc);
    // A document rewritten a month later says nothing of the writer's zone.
    expect(at(-30 * 24 * hour)).toBe(stampUtc);
  });
});

function stored(id: string, time: number | string, extra: { lastModified?: Date } = {}): StoredModel {
  const value = typeof time === 'number' ? metadata({ created_at: new Date(time).toISOString() }) : python(time);
  value.model.model_id = id;
  return { metadata: value, info: { key: `k/${id}.json`, size: 1, etag: '"e"', lastModified: extra.lastModified ?? new Date(0) }, text: '{}' };
}

describe('modelTime, newestFirst and sortByTime', () => {
  it('modelTime applies the document storage time to a Python stamp', () => {
    const model = stored('a', '2024/01/01/09:00:00', { lastModified: new Date(Date.UTC(2024, 0, 1, 0, 0, 3)) });
    expect(modelTime(model)).toBe(Date.UTC(2024, 0, 1, 0, 0, 0));
  });

  it('orders newest first, and a Tokyo upload two seconds before a Node one as older', () => {
    const node = stored('node', Date.UTC(2024, 0, 1, 0, 0, 2));
    const tokyo = stored('tokyo', '2024/01/01/09:00:00', { lastModified: new Date(Date.UTC(2024, 0, 1, 0, 0, 1)) });
    expect([tokyo, node].sort(newestFirst).map((model) => model.metadata.model.model_id)).toEqual(['node', 'tokyo']);
    expect([node, tokyo].sort(newestFirst).map((model) => model.metadata.model.model_id)).toEqual(['node', 'tokyo']);
  });

  it('breaks ties by model id, descending, in both functions, whatever the input order', () => {
    const models = ['b', 'c', 'a'].map((id) => stored(id, 1000));
    expect(models.sort(newestFirst).map((model) => model.metadata.model.model_id)).toEqual(['c', 'b', 'a']);
    expect(newestFirst(stored('a', 5), stored('a', 5))).toBe(0);
    const times = new Map([
      ['b', 10],
      ['a', 10],
      ['z', 5],
      ['c', 10],
      ['y', 20],
    ]);
    expect(sortByTime(times)).toEqual(['y', 'c', 'b', 'a', 'z']);
    expect(sortByTime(new Map())).toEqual([]);
  });

  it('agrees between newestFirst and sortByTime on the same models', () => {
    const models = [stored('m1', 3), stored('m3', 3), stored('m2', 9), stored('m0', 1)];
    const bySort = sortByTime(new Map(models.map((model) => [model.metadata.model.model_id, modelTime(model)])));
    expect([...models].sort(newestFirst).map((model) => model.metadata.model.model_id)).toEqual(bySort);
  });
});

describe('sameModel', () => {
  const withUpload = (uploadId: string | undefined, storage: ModelMetadata['storage'] = metadata(undefined).storage) =>
    metadata(undefined, { storage, ...(uploadId === undefined ? {} : { archive: { sha256: 's', size: 1, files: {}, upload_id: uploadId } }) });

  it('is true for the same upload_id and false for another one, whatever the archive says', () => {
    expect(sameModel(withUpload('u1'), withUpload('u1'))).toBe(true);
    expect(sameModel(withUpload('u1'), withUpload('u2'))).toBe(false);
  });

  it('is false when only one document has an upload_id (a re-upload over a Python model, or the reverse)', () => {
    expect(sameModel(withUpload('u1'), withUpload(undefined))).toBe(false);
    expect(sameModel(withUpload(undefined), withUpload('u1'))).toBe(false);
  });

  it('without upload_id, compares the archive key inside the registry (a moved registry is the same model)', () => {
    const moved = withUpload(undefined, { type: 'file_system', path: '/elsewhere/deeper/operatorai-model-store/d/2024.01.01-00.00.00/m/artifacts.tar.gz' });
    expect(sameModel(withUpload(undefined), moved)).toBe(true);
    const bucket = withUpload(undefined, { type: 'aws:s3', bucket: 'b', prefix: 'root/operatorai-model-store/d/2024.01.01-00.00.00/m/artifacts.tar.gz' });
    expect(sameModel(withUpload(undefined), bucket)).toBe(true);
    const reused = withUpload(undefined, { type: 'file_system', path: '/r/operatorai-model-store/d/2025.01.01-00.00.00/m/artifacts.tar.gz' });
    expect(sameModel(withUpload(undefined), reused)).toBe(false);
  });

  it('is false when neither names an archive', () => {
    const none = withUpload(undefined, { type: 'file_system' });
    expect(sameModel(none, none)).toBe(false);
  });

  it('is false for another id or another domain, even with the same upload_id', () => {
    const other = withUpload('u1');
    other.model.model_id = 'n';
    expect(sameModel(withUpload('u1'), other)).toBe(false);
    const elsewhere = withUpload('u1');
    elsewhere.model.domain = 'e';
    expect(sameModel(withUpload('u1'), elsewhere)).toBe(false);
  });
});
