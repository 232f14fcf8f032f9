import type { StorageCapabilities } from '@modelstore/core';

/** One group of a conformance suite: its name, the capability it needs (`undefined`: every store), and the function that registers its tests. */
export interface GroupEntry<N extends string, F> {
  name: N;
  requires?: keyof StorageCapabilities;
  register: F;
}

/**
 * A suite's groups from a table of group name → register function, in the table's
 * order, with the capability that some groups need (`requires`).
 */
export function conformanceGroups<N extends string, F>(table: Record<N, F>, requires: Partial<Record<N, keyof StorageCapabilities>> = {}): Array<GroupEntry<N, F>> {
  return (Object.entries(table) as [N, F][]).map(([name, register]) => {
    const capability = requires[name];
    return capability === undefined ? { name, register } : { name, requires: capability, register };
  });
}

/**
 * Registers each group in turn with `ctx`: not the groups named in `skip`, nor (given the
 * store's `capabilities`) those that need a capability it lacks. With `describe`, each
 * group goes in a `describe` of its name; without, in the current one.
 */
export function registerGroups<C>(
  groups: ReadonlyArray<{ name: string; requires?: keyof StorageCapabilities; register(ctx: C): void }>,
  ctx: C,
  options: { skip?: readonly string[] | undefined; capabilities?: StorageCapabilities; describe?: (name: string, body: () => void) => unknown },
): void {
  const skipped = new Set(options.skip ?? []);
  for (const group of groups) {
    if (skipped.has(group.name)) continue;
    if (group.requires !== undefined && options.capabilities !== undefined && !options.capabilities[group.requires]) continue;
    if (options.describe) options.describe(group.name, () => group.register(ctx));
    else group.register(ctx);
  }
}
