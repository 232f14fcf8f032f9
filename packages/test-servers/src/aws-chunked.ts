/**
 * Decodes an `aws-chunked` request body (the SDK's streaming uploads with a
 * trailing checksum): `<hex size>[;chunk-signature=...]\r\n<bytes>\r\n` repeated,
 * a zero-size chunk, then trailer lines `name:value\r\n` and a blank line.
 * Yields the payload bytes; `trailers` is filled once the body ends.
 */
export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, trailers: Map<string, string>): AsyncGenerator<Buffer> {
  let buffer: Buffer = Buffer.alloc(0);
  let remaining = -1; // bytes left in the current chunk; -1 while reading a chunk header
  let done = false;
  for await (const piece of source) {
    buffer = buffer.length === 0 ? piece : Buffer.concat([buffer, piece]);
    while (!done) {
      if (remaining < 0) {
        const lineEnd = buffer.indexOf('\r\n');
        if (lineEnd < 0) {
          if (buffer.length > 4096) throw new Error('aws-chunked: chunk header too long');
          break;
        }
        const header = buffer.subarray(0, lineEnd).toString('latin1');
        const size = Number.parseInt(header.split(';')[0]!, 16);
        if (!Number.isFinite(size) || size < 0) throw new Error(`aws-chunked: bad chunk header ${JSON.stringify(header)}`);
        buffer = buffer.subarray(lineEnd + 2);
        if (size === 0) {
          done = true;
          break;
        }
        remaining = size;
      }
      if (remaining > 0) {
        if (buffer.length === 0) break;
        const take = Math.min(remaining, buffer.length);
        yield buffer.subarray(0, take);
        buffer = buffer.subarray(take);
        remaining -= take;
      }
      if (remaining === 0) {
        if (buffer.length < 2) break;
        if (buffer[0] !== 13 || buffer[1] !== 10) throw new Error('aws-chunked: missing CRLF after chunk');
        buffer = buffer.subarray(2);
        remaining = -1;
      }
    }
    if (done) {
      // Trailer section: read the rest, then parse it.
      continue;
    }
  }
  if (!done) throw new Error('aws-chunked: body ended before the final chunk');
  for (const line of buffer.toString('latin1').split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) trailers.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
}
