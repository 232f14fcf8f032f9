import type { SdkErrors } from '@modelstore/core/storage-kit';

/**
 * The HTTP status of an SDK error: `code` on JSON API errors, `status` on resumable-upload
 * errors, `response.status` on gaxios errors. Only 100–599: a DOMException's numeric
 * `code` (23 for a timeout) is not a status.
 */
export function statusOf(error: unknown): number | undefined {
  const candidate = error as { code?: unknown; status?: unknown; response?: { status?: unknown } } | undefined;
  for (const value of [candidate?.code, candidate?.status, candidate?.response?.status]) {
    if (typeof value === 'number' && value >= 100 && value <= 599) return value;
  }
  return undefined;
}

/**
 * How `@google-cloud/storage` and this package's own requests (fetch) report errors, for
 * the kit's error mapper: the status as a number in `code` (or `status`), a network
 * error's code as a string in `code`, node-fetch's timeouts as `type`
 * (`request-timeout`, `body-timeout`), and transport failures it reports only in words.
 */
export const gcsErrors: SdkErrors = {
  name: 'GCS',
  status: statusOf,
  code: (error) => {
    const { code, type } = (error ?? {}) as { code?: unknown; type?: unknown };
    if (typeof code === 'string') return code;
    return typeof type === 'string' ? type : undefined;
  },
  retryableCodes: ['request-timeout', 'body-timeout'],
  retryableMessage: /network timeout|socket hang up|premature close/i,
};
