import { createReadStream, openSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

/** A `Range: bytes=...` request header resolved against an object's size (RFC 7233). */
export type ByteRange = { start: number; end: number; partial: boolean } | 'unsatisfiable';

/**
 * `bytes=a-b`, `bytes=a-` and the suffix form `bytes=-n`; `end` is clipped to the
 * object. Anything else (no header, other units, several ranges) means the whole object.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  const whole = { start: 0, end: size - 1, partial: false };
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return whole;
  let start: number;
  let end = size - 1;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
  } else {
    start = Number(match[1]);
    if (match[2] !== '') end = Math.min(end, Number(match[2]));
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end, partial: true };
}

/**
 * Answers a read of a stored object with the bytes `range` selects: 206 and a
 * `content-range` header for a partial range, 200 otherwise, and the `content-length`
 * of what is sent. No body for a HEAD request (`bodyless`) or an empty object. The file
 * is opened synchronously before the answer starts, so an overwrite that renames a new
 * file into place meanwhile cannot take it away.
 *
 * @param headers the object's own headers (etag, dates, ...); the range headers are added to them
 */
export function sendByteRange(response: ServerResponse, object: { file: string; size: number }, range: Exclude<ByteRange, 'unsatisfiable'>, headers: Record<string, string | number>, bodyless = false): void {
  const { start, end } = range;
  const status = range.partial ? 206 : 200;
  if (range.partial) headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
  headers['content-length'] = object.size === 0 ? 0 : end - start + 1;
  if (bodyless || object.size === 0) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const fd = openSync(object.file, 'r');
  response.writeHead(status, headers);
  pipeline(createReadStream('', { fd, start, end }), response).catch(() => undefined);
}
