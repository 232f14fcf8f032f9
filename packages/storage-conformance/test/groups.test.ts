import { describe, expect, it } from '@jest/globals';
import { registerGroups } from '../src/groups.js';
import { registryConformanceGroups, storageConformanceGroups } from '../src/index.js';

describe('the groups of the suites', () => {
  it('are listed in the documented order, with the capability each needs', () => {
    expect(storageConformanceGroups.map((group) => [group.name, group.requires])).toEqual([
      ['round trips', undefined],
      ['large objects', undefined],
      ['head', undefined],
      ['list', undefined],
      ['delete', undefined],
      ['keys', undefined],
      ['range reads', 'rangeReads'],
      ['conditional writes', 'conditionalWrites'],
      ['concurrency', undefined],
      ['abort', undefined],
    ]);
    expect(registryConformanceGroups.map((group) => group.name)).toEqual(['round trips', 'states', 'names', 'listing', 'races', 'failures', 'archives', 'copy', 'garbage collection', 'cache', 'python fixture']);
    expect(registryConformanceGroups.every((group) => !('requires' in group))).toBe(true);
  });

  it('registers each group in order, leaving out skipped ones and those needing a capability the store lacks', () => {
    const calls: string[] = [];
    const groups = ['a', 'b', 'c', 'd'].map((name) => ({ name, ...(name === 'c' ? { requires: 'rangeReads' as const } : {}), register: (ctx: string) => calls.push(`${name}(${ctx})`) }));
    registerGroups(groups, 'ctx', { skip: ['b'], capabilities: { conditionalWrites: true, rangeReads: false } });
    expect(calls).toEqual(['a(ctx)', 'd(ctx)']);
    calls.length = 0;
    const described: string[] = [];
    registerGroups(groups, 'x', {
      describe: (name, body) => {
        described.push(name);
        body();
      },
    });
    expect(described).toEqual(['a', 'b', 'c', 'd']);
    expect(calls).toEqual(['a(x)', 'b(x)', 'c(x)', 'd(x)']);
  });
});
