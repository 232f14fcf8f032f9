/** Orders keys by their UTF-8 bytes, as S3 and GCS list them. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export interface ListPage {
  /** Keys listed on this page, in byte order. */
  keys: string[];
  /** Common prefixes ("folders") rolled up by the delimiter, in byte order. */
  prefixes: string[];
  /** Present when the listing continues: pass it back as the page token. */
  nextToken?: string;
}

/**
 * One page of a listing as S3's ListObjectsV2 and GCS's objects.list compute it:
 * keys under `prefix` after `after`, keys sharing a segment up to `delimiter`
 * rolled into one prefix, at most `max` entries (keys and prefixes together). The
 * page token is the last key considered, so the next page starts after it.
 */
export function listPage(allKeys: Iterable<string>, options: { prefix: string; delimiter: string; max: number; after: string }): ListPage {
  const { prefix, delimiter, max, after } = options;
  const candidates = [...allKeys].filter((key) => key.startsWith(prefix) && (after === '' || byteOrder(key, after) > 0)).sort(byteOrder);
  const keys: string[] = [];
  const prefixes: string[] = [];
  const seen = new Set<string>();
  let last = '';
  for (const key of candidates) {
    let rolled: string | undefined;
    if (delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) rolled = key.slice(0, at + delimiter.length);
    }
    if (rolled !== undefined && seen.has(rolled)) {
      last = key;
      continue;
    }
    if (keys.length + prefixes.length >= max) return { keys, prefixes, nextToken: Buffer.from(last, 'utf8').toString('base64url') };
    if (rolled !== undefined) {
      seen.add(rolled);
      prefixes.push(rolled);
    } else keys.push(key);
    last = key;
  }
  return { keys, prefixes };
}

/** The key a page token continues after. */
export function tokenStart(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}
