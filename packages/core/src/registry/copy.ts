/**
 * Copying a model between two registries (any pair of backends): the archive streamed
 * and hashed on the way, the source document's bytes with only `storage` changed,
 * committed on the target like an upload.
 */
import { IntegrityError, ModelExistsError, PreconditionFailedError } from '../errors.js';
import { parseJson, replaceMember, stringifyJson } from '../json.js';
import { checkModelMetadata, type ModelMetadata } from '../metadata.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import { sha256PassThrough } from '../sha256.js';
import { bundleKeyOf } from '../signing/bundle.js';
import { readStoredBundle } from '../signing/operations.js';
import type { Storage } from '../storage.js';
import { announceModel, commitModel, holdsArchive } from './commit.js';
import { writeText, type StoredModel } from './documents.js';
import { ensureState } from './states.js';

/**
 * Copies `model` (read from `source`, its archive at `sourceArchiveKey`) into `target`,
 * under `targetModelId` when given (default: the same id).
 * @throws ModelExistsError when the target already has this model id; IntegrityError when the archive read back differs from its metadata
 */
export async function copyModel(source: Storage, target: Storage, model: StoredModel, sourceArchiveKey: string, options: { states?: string[]; signal?: AbortSignal; targetModelId?: string }): Promise<ModelMetadata> {
  const { metadata } = model;
  const { domain } = metadata.model;
  const modelId = options.targetModelId ?? metadata.model.model_id;
  // Under another id the archive gets a key of its own, and the document names the new id
  // (its `model` member rewritten in Python's dialect; every other byte kept).
  const archiveKey = modelId === metadata.model.model_id ? sourceArchiveKey : layout.archive(domain, new Date(), modelId);
  const text = modelId === metadata.model.model_id ? model.text : replaceMember(model.text, 'model', stringifyJson({ ...metadata.model, model_id: modelId }));
  if ((await target.head(layout.version(domain, modelId))) || (await target.head(layout.stateVersion(domain, deletedState, modelId)))) {
    throw new ModelExistsError(domain, modelId);
  }
  const object = await source.get(sourceArchiveKey, options.signal ? { signal: options.signal } : {});
  if (!object) throw new IntegrityError(`The archive of model "${metadata.model.model_id}" is missing from the source store (${sourceArchiveKey})`);
  const hashing = sha256PassThrough(object.body as AsyncIterable<Uint8Array>, object.size);
  let written = false;
  try {
    try {
      await target.put(archiveKey, hashing.stream, {
        contentType: 'application/gzip',
        size: object.size,
        ...(target.capabilities.conditionalWrites ? { ifNoneMatch: '*' as const } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      // As in upload: "already exists" from a retry of an applied write is our own copy.
      const whole = hashing.bytes() === object.size && metadata.archive !== undefined;
      if (!(PreconditionFailedError.isInstance(error) && whole && (await holdsArchive(target, archiveKey, metadata.archive!)))) throw error;
    }
    written = true;
    const { sha256, size } = hashing.result();
    const expected = metadata.archive;
    if (size !== object.size || (expected && (expected.sha256 !== sha256 || expected.size !== size))) {
      throw new IntegrityError(
        `The archive of model "${modelId}" read back as ${size} bytes with sha256 ${sha256}, but ${expected ? `the metadata recorded ${expected.size} bytes, ${expected.sha256}` : `storage reported ${object.size} bytes`}: not copied`,
      );
    }
    // The signature goes with the archive (before the commit, as an upload stores it). Under
    // another id it is left behind: it is bound to the source's id (sign the copy with signModel).
    if (modelId === metadata.model.model_id) await copyBundle(source, target, sourceArchiveKey, archiveKey, options.signal);
    // The source document's bytes with only its `storage` member changed, so every
    // other value (Python's big integers, NaN, 1.0) reaches the target as written.
    const copyText = replaceMember(text, 'storage', JSON.stringify(target.describe(archiveKey)));
    const copy = checkModelMetadata(parseJson(copyText), layout.version(domain, modelId));
    // From here on the commit decides what becomes of the archive.
    written = false;
    const info = await commitModel(target, copy, copyText, archiveKey);
    await announceModel(target, { metadata: copy, info, text: copyText });
    for (const state of options.states ?? []) {
      await ensureState(target, state);
      await writeText(target, layout.stateVersion(domain, state, modelId), copyText);
    }
    return copy;
  } catch (error) {
    if (written) {
      await target.delete(archiveKey).catch(() => undefined);
      await target.delete(bundleKeyOf(archiveKey)).catch(() => undefined);
    }
    if (PreconditionFailedError.isInstance(error)) throw new ModelExistsError(domain, modelId, { cause: error });
    throw error;
  }
}

/** Copies the signature bundle beside the archive, when the source has one. */
async function copyBundle(source: Storage, target: Storage, sourceArchiveKey: string, archiveKey: string, signal: AbortSignal | undefined): Promise<void> {
  const bundle = await readStoredBundle(source, sourceArchiveKey, signal);
  if (!bundle) return;
  await target.put(bundleKeyOf(archiveKey), bundle.text, { contentType: 'application/json', ...(signal ? { signal } : {}) });
}
