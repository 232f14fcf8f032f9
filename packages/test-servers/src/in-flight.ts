/**
 * The route on which our S3 and GCS test servers report how many requests they
 * have received and not yet applied and answered: `GET /_modelstore/in-flight`
 * → `{"inFlight": n}`. No S3 bucket name (no leading underscore) and no GCS JSON
 * API route (`/storage`, `/upload`, `/download`) can take this path.
 */
export const inFlightPath = '/_modelstore/in-flight';

/** Asks the test server at `endpoint` how many requests it has in progress. */
export async function requestsInFlight(endpoint: string): Promise<number> {
  const response = await fetch(new URL(inFlightPath, endpoint));
  if (!response.ok) throw new Error(`${endpoint} does not report requests in progress (${response.status}): is it one of our test servers?`);
  const { inFlight } = (await response.json()) as { inFlight: number };
  return inFlight;
}
