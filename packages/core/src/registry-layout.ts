/** Keys of the Python modelstore registry layout, relative to a Storage's root. */
export const registryRoot = 'operatorai-model-store';

export const layout = {
  domain: (domain: string) => `${registryRoot}/domains/${domain}.json`,
  domains: () => `${registryRoot}/domains/`,
  state: (state: string) => `${registryRoot}/model_states/${state}.json`,
  states: () => `${registryRoot}/model_states/`,
  version: (domain: string, modelId: string) => `${registryRoot}/${domain}/versions/${modelId}.json`,
  versions: (domain: string) => `${registryRoot}/${domain}/versions/`,
  stateVersion: (domain: string, state: string, modelId: string) => `${registryRoot}/${domain}/versions/${state}/${modelId}.json`,
  stateVersions: (domain: string, state: string) => `${registryRoot}/${domain}/versions/${state}/`,
  domainPrefix: (domain: string) => `${registryRoot}/${domain}/`,
  /** This library's first index of the domain's creation times, one document (still read; no longer written). */
  index: (domain: string) => `${registryRoot}/${domain}/modelstore-index.json`,
  /** This library's append-only index of the domain's models (log, checkpoint parts, `_last_checkpoint`; Python modelstore never reads it). */
  indexRoot: (domain: string) => `${registryRoot}/${domain}/modelstore-index/`,
  /** This library's append-only index of the registry's domains and their latest model's time. */
  domainsIndexRoot: () => `${registryRoot}/modelstore-index/domains/`,
  archive: (domain: string, created: Date, modelId: string) => `${registryRoot}/${domain}/${archiveFolder(created)}/${modelId}/artifacts.tar.gz`,
};

const pad = (value: number) => String(value).padStart(2, '0');

/** `YYYY.MM.DD-HH.MM.SS` (UTC), the archive folder name. */
export function archiveFolder(date: Date): string {
  return `${date.getUTCFullYear()}.${pad(date.getUTCMonth() + 1)}.${pad(date.getUTCDate())}-${pad(date.getUTCHours())}.${pad(date.getUTCMinutes())}.${pad(date.getUTCSeconds())}`;
}

/** `YYYY/MM/DD/HH:MM:SS` (UTC), Python modelstore's `created` format. */
export function createdStamp(date: Date): string {
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** Milliseconds since the epoch of a `YYYY/MM/DD/HH:MM:SS` stamp, read as UTC; NaN if malformed. */
export function parseCreatedStamp(stamp: string | undefined): number {
  const match = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2}):(\d{2}):(\d{2})$/.exec(stamp ?? '');
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/**
 * The key of a model's archive from its metadata's `storage` block. Registries
 * move (a copied folder, a renamed bucket prefix), so the key is taken from the
 * registry folder name onwards rather than from the recorded absolute location.
 */
export function archiveKeyFromLocation(location: { path?: string; prefix?: string } | undefined): string | undefined {
  // Metadata is data: anything but a string here names no archive.
  const candidate = typeof location?.path === 'string' ? location.path : typeof location?.prefix === 'string' ? location.prefix : '';
  const recorded = candidate.replaceAll('\\', '/');
  const marker = `${registryRoot}/`;
  const at = recorded.startsWith(marker) ? 0 : recorded.lastIndexOf(`/${marker}`) + 1;
  return at === 0 && !recorded.startsWith(marker) ? undefined : recorded.slice(at);
}
