/**
 * Model states: `model_states/<state>.json` documents, and the byte copies of a model's
 * document under `<domain>/versions/<state>/` that put it in a state (as Python
 * modelstore's `set_model_state` makes them).
 */
import { ModelNotFoundError, PreconditionFailedError, StateNotFoundError } from '../errors.js';
import type { ModelStateDocument } from '../metadata.js';
import { deletedState } from '../names.js';
import { createdStamp, layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { listAll, listObjects, readModels, writeJson, type StoredModel } from './documents.js';
import { modelTime, sortByTime } from './order.js';

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
 * The live models in `state`, newest first: one read per member of its committed
 * document (whether the model is live, and when it was made). `model` is null for a
 * document that cannot be read (ordered as oldest); a state copy of a model that is not
 * live (deleted by a writer that left the copy) is not listed.
 */
export async function modelsInState(storage: Storage, domain: string, state: string): Promise<{ id: string; model: StoredModel | null }[]> {
  await requireState(storage, state);
  const ids = (await listObjects(storage, layout.stateVersions(domain, state), '.json', 'model id')).map(({ name }) => name);
  const models = await readModels(
    storage,
    ids.map((id) => layout.version(domain, id)),
  );
  const times = new Map<string, number>();
  const byId = new Map<string, StoredModel | null>();
  ids.forEach((id, position) => {
    const model = models[position];
    if (model === undefined) return;
    times.set(id, model ? modelTime(model) : 0);
    byId.set(id, model);
  });
  return sortByTime(times).map((id) => ({ id, model: byId.get(id)! }));
}

/** The newest live model in `state`. @throws StateNotFoundError, ModelNotFoundError when it holds none */
export async function newestInState(storage: Storage, domain: string, state: string): Promise<{ id: string; model: StoredModel | null }> {
  const [newest] = await modelsInState(storage, domain, state);
  if (!newest) throw new ModelNotFoundError(domain, `(latest in state "${state}")`);
  return newest;
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
