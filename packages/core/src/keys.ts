import { InvalidNameError, StorageError, type NameKind } from './errors.js';
import type { GetOptions } from './storage.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what keys may not hold
const controlCharacters = /[\u0000-\u001f\u007f]/;

function checkSegments(kind: NameKind, value: string, segments: string[]): void {
  for (const segment of segments) {
    if (segment === '') throw new InvalidNameError(kind, value, 'empty path segment (leading, trailing or doubled "/")');
    if (segment === '.' || segment === '..') throw new InvalidNameError(kind, value, `"${segment}" segments are not allowed`);
  }
}

function checkCharacters(kind: NameKind, value: string): void {
  if (typeof value !== 'string') throw new InvalidNameError(kind, String(value), 'must be a string');
  if (value.startsWith('/')) throw new InvalidNameError(kind, value, 'must be relative (no leading "/")');
  if (value.includes('\\')) throw new InvalidNameError(kind, value, 'backslashes are not allowed; use "/" to separate segments');
  if (controlCharacters.test(value)) throw new InvalidNameError(kind, value, 'NUL and control characters are not allowed');
}

/**
 * Checks a storage key. Every backend calls this before any I/O, so that keys
 * mean the same thing everywhere and none can reach outside the backend's root.
 * @throws InvalidNameError for an empty key or segment, a `.`/`..` segment, a
 * leading `/`, a backslash, or a NUL or control character.
 */
export function validateKey(key: string): string {
  checkCharacters('key', key);
  if (key.length === 0) throw new InvalidNameError('key', key, 'must not be empty');
  checkSegments('key', key, key.split('/'));
  return key;
}

/**
 * Checks a listing prefix: empty (everything), or a key, or a key followed by `/`.
 * @throws InvalidNameError under the same rules as `validateKey`.
 */
export function validatePrefix(prefix: string): string {
  checkCharacters('prefix', prefix);
  if (prefix === '') return prefix;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  checkSegments('prefix', prefix, body.split('/'));
  return prefix;
}

/** A UTF-16 unit from U+D800 up: where unit order and code point order can differ. */
const fromSurrogates = /[\ud800-\uffff]/;

/**
 * Orders keys by their UTF-8 bytes, the order S3, GCS and Azure list in
 * (JavaScript's `<` compares UTF-16 units, which differs above U+FFFF).
 */
export function compareKeys(a: string, b: string): number {
  // UTF-8 byte order is code point order. Keys with no unit from U+D800 up (most keys)
  // are compared with `<`, whose UTF-16 unit order is code point order there: sorting
  // 100,000 keys takes 70 ms, against 400 ms encoding both keys for every comparison.
  if (!fromSurrogates.test(a) && !fromSurrogates.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  // Otherwise units are compared one by one, and only a pair that differs at a
  // surrogate is encoded.
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x & 0xf800) === 0xd800 || (y & 0xf800) === 0xd800) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Checks a `get` range: a non-negative integer `start`, and `end` (inclusive) not
 * before it. @throws StorageError for a malformed range.
 */
export function validateRange(key: string, range: GetOptions['range']): void {
  if (range === undefined) return;
  if (!Number.isInteger(range.start) || range.start < 0 || (range.end !== undefined && (!Number.isInteger(range.end) || range.end < range.start))) {
    throw new StorageError(`Invalid range ${JSON.stringify(range)} for "${key}": start and end are byte offsets, end inclusive and not before start`);
  }
}
