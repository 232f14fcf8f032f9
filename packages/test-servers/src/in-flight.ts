import type { IncomingMessage, ServerResponse } from 'node:http';

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

/**
 * A request listener for our test servers: it answers `inFlightPath` itself, runs
 * every other request through `handle`, and counts the requests `handle` has not
 * finished (`inFlight`). A request that fails is answered by `answerError`, or its
 * connection destroyed when an answer has already begun.
 */
export function countingInFlight(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  answerError: (error: unknown, request: IncomingMessage, response: ServerResponse) => void,
): { listener: (request: IncomingMessage, response: ServerResponse) => void; readonly inFlight: number } {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    listener(request, response) {
      if (request.url === inFlightPath) {
        request.resume();
        const text = JSON.stringify({ inFlight });
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        response.end(text);
        return;
      }
      inFlight++;
      handle(request, response)
        .catch((error: unknown) => {
          if (response.headersSent || response.destroyed) {
            response.destroy();
            return;
          }
          answerError(error, request, response);
        })
        .finally(() => {
          inFlight--;
        });
    },
  };
}
