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
