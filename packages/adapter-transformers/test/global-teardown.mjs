import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  await Promise.all((globalThis.__modelstoreServers ?? []).map((server) => server.close()));
  if (globalThis.__modelstoreTransformersWork) rmSync(globalThis.__modelstoreTransformersWork, { recursive: true, force: true });
}
