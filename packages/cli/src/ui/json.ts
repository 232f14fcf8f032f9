/**
 * The ui API's JSON: strict RFC 8259 JSON that a browser's `JSON.parse` reads. Metadata
 * Python wrote may hold what strict JSON cannot carry; those values are written as strings:
 * `NaN`, `Infinity` and `-Infinity` as `"NaN"`, `"Infinity"`, `"-Infinity"`, and integers
 * beyond 2^53 (read exactly by core's `parseJson` as `bigint`) as their digits, e.g.
 * `"18446744073709551615"`.
 */
export function apiJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return Number.isSafeInteger(Number(item)) ? Number(item) : item.toString();
    if (typeof item === 'number' && !Number.isFinite(item)) return Number.isNaN(item) ? 'NaN' : item > 0 ? 'Infinity' : '-Infinity';
    return item;
  });
}

/** A value's text for searching and comparing: strings as they are, everything else as API JSON. */
export function plainText(value: unknown): string {
  return typeof value === 'string' ? value : (apiJson(value) ?? 'undefined');
}

/**
 * Every leaf of a JSON value by its path (`model.parameters.n_estimators`, `extra.tags[0]`);
 * an empty object or array is a leaf of its own. Used to compare two documents.
 */
export function flatten(value: unknown, prefix = '', into: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) into.set(prefix, []);
    value.forEach((item, index) => flatten(item, `${prefix}[${index}]`, into));
  } else if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    if (keys.length === 0 && prefix) into.set(prefix, {});
    for (const key of keys) flatten((value as Record<string, unknown>)[key], prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}
