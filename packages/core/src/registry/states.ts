/**
 * Model states: `model_states/<state>.json` documents, and the byte copies of a model's
 * document under `<domain>/versions/<state>/` that put it in a state (as Python
 * modelstore's `set_model_state` makes them).
 */
import { IntegrityError, ModelNotFoundError, PreconditionFailedError, StateNotFoundError } from '../errors.js';
import type { ModelStateDocument } from '../metadata.js';
import { deletedState } from '../names.js';
import { createdStamp, layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { timesOf } from './creation-index.js';
import { listAll, listVersions, readModel, writeJson, type StoredModel } from './documents.js';
import { sortByTime } from './order.js';

/** Creates the state document if missing (create-only: concurrent creators agree). */
export async function ensureState(storage: Storage, state: string): Promise<void> {
  if (await storage.head(layout.state(state))) return;
  const document: ModelStateDocument = { created: createdStamp(new Date()), state_name: state };
  try {
    await writeJson(storage, layout.state(state), document, { ifNoneMatch: '*' });
  } catch (error) {
    if (!PreconditionFailedError.isInstance(error)) throw error;
  }
}

/** @throws StateNotFoundError when the state was never created (or was deleted) */
export async function requireState(storage: Storage, state: string): Promise<void> {
  if (!(await storage.head(layout.state(state)))) throw new StateNotFoundError(state);
}

/**
 * The live models in `state`, newest first (ties by id, descending): from one listing of
 * `<domain>/versions/` (the committed documents and the state's copies) and the domain's
 * index, so a state of thousands of models costs the listing's pages, not a read per
 * member (a member the index does not describe is read once). A state copy of a model
 * that is not live (deleted by a writer that left the copy) is not listed; a damaged
 * committed document is ordered as oldest.
 * @throws StateNotFoundError when the state was never created (or was deleted)
 */
export async function modelsInState(storage: Storage, domain: string, state: string): Promise<string[]> {
  await requireState(storage, state);
  const { documents, copies } = await listVersions(storage, domain);
  const live = documents.filter(({ name }) => copies.get(name)?.includes(state));
  return sortByTime(await timesOf(storage, domain, live));
}

/** The newest live model in `state`, its committed document read (`null` when damaged). @throws StateNotFoundError, ModelNotFoundError when it holds none */
export async function newestInState(storage: Storage, domain: string, state: string): Promise<{ id: string; model: StoredModel | null }> {
  for (const id of await modelsInState(storage, domain, state)) {
    const model = await readModel(storage, layout.version(domain, id)).catch((error: unknown) => (IntegrityError.isInstance(error) ? null : Promise.reject(error)));
    // Deleted since the listing: the next newest.
    if (model !== undefined) return { id, model };
  }
  throw new ModelNotFoundError(domain, `(latest in state "${state}")`);
}

/** The states holding a copy of the model's document (the deleted state aside). */
export async function statesOf(storage: Storage, domain: string, modelId: string): Promise<string[]> {
  const prefix = layout.versions(domain);
  const states: string[] = [];
  for await (const object of listAll(storage, prefix)) {
    const [state, file, ...rest] = object.key.slice(prefix.length).split('/');
    if (rest.length === 0 && file === `${modelId}.json` && state !== deletedState) states.push(state!);
  }
  return states;
}
