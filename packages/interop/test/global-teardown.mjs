export default async function globalTeardown() {
  await Promise.all((globalThis.__modelstoreServers ?? []).map((server) => server.close()));
}
