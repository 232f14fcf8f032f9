import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  await Promise.allSettled((globalThis.__safetensorsServers ?? []).map((server) => server.close()));
  if (globalThis.__safetensorsWork) rmSync(globalThis.__safetensorsWork, { recursive: true, force: true });
}
