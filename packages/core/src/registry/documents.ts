/**
 * Registry documents on a storage: listing (all pages), reading JSON documents in Python's
 * dialect together with the version read and their exact text, and writing them.
 * Python modelstore writes every registry document with `json.dumps`, so documents are
 * read with `parseJson` (NaN, Infinity, integers of any size); documents this library
 * copies are written with the very text read.
 */
import { text as readText } from 'node:stream/consumers';
import pMap from 'p-map';
import { IntegrityError } from '../errors.js';
import { parseJson } from '../json.js';
import { checkModelMetadata, type ModelMetadata } from '../metadata.js';
import { deletedState, validateDomain, validateModelId, validateStateName } from '../names.js';
import { layout } from '../registry-layout.js';
import type { ObjectInfo, Storage } from '../storage.js';

/** A JSON document as read: its value (the parse error when `damaged`), the version read, and its exact text. */
export interface StoredDocument {
  value: unknown;
  info: ObjectInfo;
  text: string;
  damaged: boolean;
}

/**
 * A committed model's metadata document as read: its parsed value, the version read
 * (`info.etag`, `info.lastModified`) and its exact text — documents this library copies
 * (state copies, soft-delete copies, the latest pointer) are written with these very
 * bytes, so values JavaScript cannot hold (Python's big integers, `1.0` vs `1`) are kept.
 */
export interface StoredModel {
  metadata: ModelMetadata;
  info: ObjectInfo;
  text: string;
}

/** Every object under `prefix`, all pages. */
export async function* listAll(storage: Storage, prefix: string): AsyncGenerator<ObjectInfo> {
  let cursor: string | undefined;
  do {
    const page = await storage.list(prefix, cursor === undefined ? {} : { cursor });
    yield* page.objects;
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/** What a listed name is: a domain, a model id or a state — checked by its rule before it is used in a key. */
export type NameKind = 'domain' | 'model id' | 'state';

const usable: Record<NameKind, (name: string) => unknown> = {
  domain: validateDomain,
  'model id': validateModelId,
  state: (name) => validateStateName(name, { allowReserved: true }),
};

/**
 * Objects `<name><suffix>` directly under `prefix` (not in sub-folders), with what the
 * listing says of them. Names that break their kind's rule (another writer's — e.g. a
 * model id with a tab, which Python modelstore accepts but no key of this library may
 * hold) are left out when `kind` is given: they could not be read or acted on, and must
 * not hide the others.
 */
export async function listObjects(storage: Storage, prefix: string, suffix: string, kind?: NameKind): Promise<{ name: string; info: ObjectInfo }[]> {
  const objects: { name: string; info: ObjectInfo }[] = [];
  for await (const object of listAll(storage, prefix)) {
    const rest = object.key.slice(prefix.length);
    if (rest.includes('/') || !rest.endsWith(suffix)) continue;
    const name = rest.slice(0, -suffix.length);
    try {
      if (kind !== undefined) usable[kind](name);
    } catch {
      continue;
    }
    objects.push({ name, info: object });
  }
  return objects;
}

/** Names `<name><suffix>` directly under `prefix`, of `kind` (see {@link listObjects}). */
export async function listNames(storage: Storage, prefix: string, suffix: string, kind?: NameKind): Promise<string[]> {
  return (await listObjects(storage, prefix, suffix, kind)).map(({ name }) => name);
}

/**
 * One listing of `<domain>/versions/`: the committed documents (`<id>.json`, with what the
 * listing says of them) and, by model id, the states holding a copy (`<state>/<id>.json`;
 * never the deleted state). Ids and state names that break their rules are left out.
 */
export async function listVersions(storage: Storage, domain: string): Promise<{ documents: { name: string; info: ObjectInfo }[]; copies: Map<string, string[]> }> {
  const prefix = layout.versions(domain);
  const documents: { name: string; info: ObjectInfo }[] = [];
  const copies = new Map<string, string[]>();
  for await (const object of listAll(storage, prefix)) {
    const parts = object.key.slice(prefix.length).split('/');
    const file = parts.at(-1)!;
    if (parts.length > 2 || !file.endsWith('.json')) continue;
    const id = file.slice(0, -'.json'.length);
    if (!isUsable('model id', id)) continue;
    if (parts.length === 1) documents.push({ name: id, info: object });
    else if (parts[0] !== deletedState && isUsable('state', parts[0]!)) copies.set(id, [...(copies.get(id) ?? []), parts[0]!]);
  }
  return { documents, copies };
}

const isUsable = (kind: NameKind, name: string): boolean => {
  try {
    usable[kind](name);
    return true;
  } catch {
    return false;
  }
};

/** A JSON document in Python's dialect; one that does not parse is `damaged`, so a writer can replace that very version. `undefined` when missing. */
export async function readDocument(storage: Storage, key: string): Promise<StoredDocument | undefined> {
  const object = await storage.get(key);
  if (!object) return undefined;
  const text = await readText(object.body as NodeJS.ReadableStream);
  try {
    return { value: parseJson(text), info: object, text, damaged: false };
  } catch (error) {
    return { value: error, info: object, text, damaged: true };
  }
}

/** A document that must parse. @throws IntegrityError when it does not */
export async function readValidDocument(storage: Storage, key: string): Promise<StoredDocument | undefined> {
  const read = await readDocument(storage, key);
  if (read?.damaged) throw new IntegrityError(`"${key}" is not valid JSON: it was truncated or written by something else`, { cause: read.value });
  return read;
}

/** A model's metadata document with its version and exact text; `undefined` when missing. @throws IntegrityError when it is not model metadata */
export async function readModel(storage: Storage, key: string): Promise<StoredModel | undefined> {
  const read = await readValidDocument(storage, key);
  if (read === undefined) return undefined;
  return { metadata: checkModelMetadata(read.value, key), info: read.info, text: read.text };
}

/** A model's metadata, or `undefined` when missing. @throws IntegrityError */
export async function readMetadata(storage: Storage, key: string): Promise<ModelMetadata | undefined> {
  return (await readModel(storage, key))?.metadata;
}

/** Writes a document this library makes (strict JSON). */
export function writeJson(storage: Storage, key: string, value: unknown, options: { ifNoneMatch?: '*'; ifMatch?: string } = {}): Promise<ObjectInfo> {
  return storage.put(key, JSON.stringify(value), { contentType: 'application/json', ...options });
}

/** Writes a document's exact text (a copy of one read). */
export function writeText(storage: Storage, key: string, text: string, options: { ifNoneMatch?: '*'; ifMatch?: string } = {}): Promise<ObjectInfo> {
  return storage.put(key, text, { contentType: 'application/json', ...options });
}

/** Reads many models' documents, 16 at a time: `null` for a damaged one, `undefined` for one deleted meanwhile. */
export function readModels(storage: Storage, keys: string[]): Promise<(StoredModel | null | undefined)[]> {
  return pMap(keys, (key) => readModel(storage, key).catch((error: unknown) => (IntegrityError.isInstance(error) ? null : Promise.reject(error))), { concurrency: 16 });
}

/** Random backoff before retrying a compare-and-swap: up to 200 ms, growing with the attempt. */
export const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));

/** How many times a compare-and-swap on a registry document is tried before giving up. */
export const registryRetries = 50;
