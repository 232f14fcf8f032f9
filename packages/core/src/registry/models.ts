/** Reading one model: by id, as the latest, or as the newest in a state. */
import { DomainNotFoundError, InvalidOptionError, ModelDeletedError, ModelNotFoundError } from '../errors.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { readModel, type StoredModel } from './documents.js';
import { latestOrThrow } from './latest.js';
import { newestInState } from './states.js';

/** A model's committed document. @throws ModelNotFoundError, ModelDeletedError, DomainNotFoundError, IntegrityError */
export async function modelOrThrow(storage: Storage, domain: string, modelId: string): Promise<StoredModel> {
  const model = await readModel(storage, layout.version(domain, modelId));
  if (model) return model;
  if (await storage.head(layout.stateVersion(domain, deletedState, modelId))) throw new ModelDeletedError(domain, modelId);
  if (!(await storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
  throw new ModelNotFoundError(domain, modelId);
}

/** The model `options` name: by id, the newest in a state, or the latest. @throws InvalidOptionError when both `modelId` and `state` are given */
export async function resolveModel(storage: Storage, domain: string, options: { modelId?: string; state?: string }, method: string): Promise<StoredModel> {
  if (options.modelId !== undefined && options.state !== undefined) {
    throw new InvalidOptionError('state', `${method}: pass modelId or state, not both (modelId names one model; state picks the newest model in that state)`);
  }
  if (options.modelId !== undefined) return modelOrThrow(storage, domain, options.modelId);
  if (options.state === undefined) return latestOrThrow(storage, domain);
  const newest = await newestInState(storage, domain, options.state);
  return newest.model ?? modelOrThrow(storage, domain, newest.id);
}
