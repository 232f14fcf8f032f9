import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Why a request failed authentication, as S3 error codes. */
export type SigV4Failure = { code: 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'AuthorizationHeaderMalformed'; message: string };

const authorizationPattern = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;\-.]+),\s*Signature=([0-9a-f]{64})$/;

/** RFC 3986 encoding, as SigV4 canonicalisation requires. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const name = decodeURIComponent((at < 0 ? pair : pair.slice(0, at)).replace(/\+/g, '%20'));
      const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1).replace(/\+/g, '%20'));
      return [encode(name), encode(value)] as const;
    });
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Checks an AWS Signature Version 4 `Authorization` header (header-based signing,
 * as the SDK sends it), following the public SigV4 documentation: canonical
 * request, string to sign, derived signing key. The payload hash is the one the
 * client declared in `x-amz-content-sha256`; the server checks it against the body.
 */
export function verifySigV4(request: IncomingMessage, credentials: Map<string, string>): SigV4Failure | undefined {
  const authorization = request.headers.authorization;
  if (!authorization) return { code: 'AccessDenied', message: 'Anonymous requests are not allowed' };
  const match = authorizationPattern.exec(authorization);
  if (!match) return { code: 'AuthorizationHeaderMalformed', message: 'The authorization header is malformed' };
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match as unknown as string[];
  const secret = credentials.get(accessKeyId!);
  if (secret === undefined) return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const payloadHash = String(request.headers['x-amz-content-sha256'] ?? '');
  if (!amzDate.startsWith(date!) || payloadHash === '') return { code: 'AuthorizationHeaderMalformed', message: 'x-amz-date and x-amz-content-sha256 are required' };

  const rawUrl = request.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const canonicalUri = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const signedHeaders = signedHeaderList!.split(';');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = request.headers[name];
      const text = Array.isArray(value) ? value.join(',') : String(value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [request.method, canonicalUri, canonicalQuery(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1)), canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest();
  const given = Buffer.from(signature!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return undefined;
}
