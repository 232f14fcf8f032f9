/**
 * `modelstore cache ls` and `modelstore cache prune`: the local folder where `load`
 * keeps extracted models (`--cache-dir`, else `$XDG_CACHE_HOME/modelstore` or the
 * platform's cache folder), over core's `listCache` and `pruneCache`.
 */
import { InvalidArgumentError, listCache, pruneCache, type CacheEntry, type StorageLocation } from '@modelstore/core';
import type { Command } from 'commander';
import ms from 'ms';
import { table } from './columns.js';
import { formatBytes } from './words.js';

/** What the cache commands need from the `modelstore` program. */
export interface CacheCommandContext {
  /** The cache folder, absolute: `--cache-dir`, else the default. */
  cacheDir(): string;
  /** Prints `value` as JSON with `--json`, else the text `human()` returns. */
  output(value: unknown, human: () => string): void;
}

const sizeUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  tib: 2 ** 40,
};

/**
 * A size such as `500MB`, `2GiB`, `1.5g` or `1000000` (bytes): decimal units (k, M, G, T,
 * with or without B) are powers of 1000, binary ones (KiB, MiB, GiB, TiB) of 1024.
 * @throws InvalidArgumentError naming `--max-size`
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? sizeUnits[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new InvalidArgumentError(`--max-size takes a size such as 500MB, 2GiB or 1000000 (bytes), got "${text}"`, { argument: '--max-size' });
  }
  return Math.floor(Number(match[1]) * unit);
}

function parseAge(text: string): number {
  const value = ms(text as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`--older-than takes a duration such as 30m, 12h or 7d, got "${text}"`, { argument: '--older-than' });
  }
  return value;
}

/** A registry location in one short phrase: `file_system /srv/models`, `aws:s3 bucket/prefix`. */
function describeStore(store: StorageLocation | undefined): string {
  if (!store) return '?';
  const where = [store.bucket ?? store.container ?? store.root, store.bucket !== undefined || store.container !== undefined ? store.prefix : undefined].filter((part) => part !== undefined && part !== '').join('/');
  return where ? `${store.type} ${where}` : store.type;
}

/** ISO 8601 UTC to the second, as `modelstore ls` prints times. */
const isoSeconds = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

/** An entry as `--json` prints it. */
function entryJson(entry: CacheEntry) {
  return {
    domain: entry.model?.domain ?? null,
    modelId: entry.model?.modelId ?? null,
    library: entry.model?.library ?? null,
    store: entry.model?.store ?? null,
    created: entry.model?.created ?? null,
    bytes: entry.bytes,
    lastUsed: entry.lastUsed.toISOString(),
    inUse: entry.inUse,
    directory: entry.directory,
  };
}

function entryRows(entries: CacheEntry[]): string[][] {
  return [
    ['DOMAIN', 'MODEL ID', 'SIZE', 'LAST USED', 'IN USE', 'STORE'],
    ...entries.map((entry) => [entry.model?.domain ?? '?', entry.model?.modelId ?? '?', formatBytes(entry.bytes), isoSeconds(entry.lastUsed), entry.inUse ? 'yes' : '', describeStore(entry.model?.store)]),
  ];
}

/** Adds `cache ls` and `cache prune` to `program`. */
export function registerCacheCommands(program: Command, context: CacheCommandContext): void {
  const cache = program.command('cache').description('the local cache of loaded models (--cache-dir, default $XDG_CACHE_HOME/modelstore): list and prune it; the store is not touched');

  cache
    .command('ls')
    .description('list the cached models, most recently used first: domain, id, size, last use, whether a running load holds it, and the store')
    .action(async () => {
      const cacheDir = context.cacheDir();
      const entries = await listCache(cacheDir);
      const totalBytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
      context.output({ cacheDir, totalBytes, models: entries.map(entryJson) }, () =>
        entries.length === 0 ? `no cached models in ${cacheDir}\n` : `${table(entryRows(entries))}${entries.length} model(s), ${formatBytes(totalBytes)} in ${cacheDir}\n`,
      );
    });

  cache
    .command('prune')
    .description('remove cached models, least recently used first: those unused for longer than --older-than, then more until the cache fits --max-size; never one a running load holds')
    .option('--older-than <duration>', 'remove models not used for this long: 30m, 12h, 7d')
    .option('--max-size <size>', 'remove the least recently used models until the cache holds at most this much: 500MB, 2GiB, 0 (everything not in use)')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .action(async (options: { olderThan?: string; maxSize?: string; dryRun?: boolean }) => {
      // Checked before the cache is touched.
      const olderThan = options.olderThan === undefined ? undefined : parseAge(options.olderThan);
      const maxBytes = options.maxSize === undefined ? undefined : parseSize(options.maxSize);
      if (olderThan === undefined && maxBytes === undefined) {
        throw new InvalidArgumentError('cache prune needs --older-than <duration> and/or --max-size <size> (--max-size 0 removes every cached model not in use)', { argument: '--max-size' });
      }
      const cacheDir = context.cacheDir();
      const report = await pruneCache(cacheDir, { ...(olderThan === undefined ? {} : { olderThan }), ...(maxBytes === undefined ? {} : { maxBytes }), dryRun: options.dryRun ?? false });
      const removedBytes = report.removed.reduce((sum, entry) => sum + entry.bytes, 0);
      context.output(
        { cacheDir, dryRun: options.dryRun ?? false, removed: report.removed.map(entryJson), inUse: report.inUse.map(entryJson), bytes: report.bytes, leftovers: report.leftovers },
        () =>
          `${options.dryRun ? 'would remove' : 'removed'} ${report.removed.length} cached model(s), ${formatBytes(removedBytes)}; ${formatBytes(report.bytes)} left in ${cacheDir}\n` +
          (report.removed.length ? table(entryRows(report.removed)) : '') +
          (report.inUse.length ? `kept ${report.inUse.length} model(s) a running load holds:\n${table(entryRows(report.inUse))}` : '') +
          (report.leftovers.length ? `removed ${report.leftovers.length} leftover(s) of killed loads\n` : ''),
      );
    });
}
