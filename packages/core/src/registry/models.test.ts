// Unit tests of reading one model: by id (found, deleted, unknown domain, unknown id,
// damaged), and resolveModel's choice between id, state and latest.
import { describe, expect, it } from '@jest/globals';
import { DomainNotFoundError, IntegrityError, InvalidOptionError, ModelDeletedError, ModelNotFoundError, StateNotFoundError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import { documentText, putModel, recording, rejection } from '../../test/support.js';
import { modelOrThrow, resolveModel } from './models.js';
import { ensureState } from './states.js';

describe('modelOrThrow', () => {
  it('returns the committed document with its version and text', async () => {
    const storage = new MemoryStorage();
    await putModel(storage, 'a', 1);
    const model = await modelOrThrow(storage, 'd', 'a');
    expect(model.text).toBe(documentText('a', 1));
    expect(model.info.etag).toBe((await storage.head(layout.version('d', 'a')))!.etag);
  });

  it('tells a deleted model, an unknown domain and an unknown id apart', async () => {
    const storage = new MemoryStorage();
    expect(await rejection(modelOrThrow(storage, 'd', 'a'))).toBeInstanceOf(DomainNotFoundError);
    await putModel(storage, 'b', 1);
    await storage.put(layout.domain('d'), documentText('b', 1));
    expect(await rejection(modelOrThrow(storage, 'd', 'a'))).toBeInstanceOf(ModelNotFoundError);
    await storage.put(layout.stateVersion('d', deletedState, 'a'), documentText('a', 1));
    expect(await rejection(modelOrThrow(storage, 'd', 'a'))).toBeInstanceOf(ModelDeletedError);
  });

  it('is IntegrityError for a damaged document, not "not found"', async () => {
    const storage = new MemoryStorage();
    await storage.put(layout.version('d', 'a'), '{"model":');
    expect(IntegrityError.isInstance(await rejection(modelOrThrow(storage, 'd', 'a')))).toBe(true);
  });
});

describe('resolveModel', () => {
  it('refuses modelId and state together, naming the method, before any I/O', async () => {
    const { storage, calls } = recording(new MemoryStorage());
    const error = await rejection(resolveModel(storage, 'd', { modelId: 'a', state: 'prod' }, 'download'));
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    expect((error as InvalidOptionError).option).toBe('state');
    expect((error as Error).message).toMatch(/^download: pass modelId or state, not both/);
    expect(calls).toEqual([]);
  });

  it('picks by id, the newest in a state, or the latest', async () => {
    const storage = new MemoryStorage();
    await ensureState(storage, 'prod');
    await putModel(storage, 'a', 1, ['prod']);
    await putModel(storage, 'b', 2, ['prod']);
    await putModel(storage, 'c', 3);
    expect((await resolveModel(storage, 'd', { modelId: 'a' }, 'load')).metadata.model.model_id).toBe('a');
    expect((await resolveModel(storage, 'd', { state: 'prod' }, 'load')).metadata.model.model_id).toBe('b');
    expect((await resolveModel(storage, 'd', {}, 'load')).metadata.model.model_id).toBe('c');
    // An explicit undefined is as good as absent.
    expect((await resolveModel(storage, 'd', { modelId: undefined, state: 'prod' }, 'load')).metadata.model.model_id).toBe('b');
  });

  it('reports a state that does not exist, an empty state, and a damaged newest member', async () => {
    const storage = new MemoryStorage();
    await putModel(storage, 'a', 1);
    expect(await rejection(resolveModel(storage, 'd', { state: 'prod' }, 'load'))).toBeInstanceOf(StateNotFoundError);
    await ensureState(storage, 'prod');
    expect(await rejection(resolveModel(storage, 'd', { state: 'prod' }, 'load'))).toBeInstanceOf(ModelNotFoundError);
    await storage.put(layout.stateVersion('d', 'prod', 'a'), documentText('a', 1));
    await storage.put(layout.version('d', 'a'), '{"broken');
    expect(IntegrityError.isInstance(await rejection(resolveModel(storage, 'd', { state: 'prod' }, 'load')))).toBe(true);
  });

  it('is DomainNotFoundError for the latest of an empty domain', async () => {
    expect(await rejection(resolveModel(new MemoryStorage(), 'd', {}, 'load'))).toBeInstanceOf(DomainNotFoundError);
  });
});
