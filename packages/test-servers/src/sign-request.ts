import { createHash, createHmac } from 'node:crypto';

/**
 * Sends one AWS Signature Version 4 signed request with an empty body (service `s3`,
 * region us-east-1), enough to create buckets on MinIO and moto without an SDK. The
 * signing steps are those of https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html.
 * Resolves to the HTTP status and body text.
 */
export async function signedS3Request(method: string, url: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const now = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = now.slice(0, 8);
  const payloadHash = createHash('sha256').update('').digest('hex');
  const headers: Record<string, string> = { host: target.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': now };
  const signedHeaders = Object.keys(headers).sort().join(';');
  const canonical = [
    method,
    target.pathname || '/',
    '',
    ...Object.keys(headers)
      .sort()
      .map((name) => `${name}:${headers[name]}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/us-east-1/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', now, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(date).digest();
  for (const part of ['us-east-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const response = await fetch(url, {
    method,
    headers: {
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': now,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: await response.text() };
}
