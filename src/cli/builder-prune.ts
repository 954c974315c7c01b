/**
 * `builder prune [-a] [-f] [--filter k=v] [--keep-storage SIZE]` as docker 28 has it: docker's
 * question unless `-f` (a no removes nothing and exits 0), then the ids removed and
 * `Total reclaimed space`. What goes is services/build-cache.ts's choice.
 */
import { Command, InvalidArgumentError } from 'commander';
import { getEngine, out } from './context.ts';
import { addFilterOption, cliFilters } from './filter-option.ts';
import { humanSize } from './format.ts';
import { confirm } from './prompt.ts';

const BINARY_UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** docker's `opts.MemBytes` (go-units RAMInBytes): `10GB`, `512m`, `1.5g`, in binary units. */
export function parseKeepStorage(v: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(v);
  if (!m || !Number.isFinite(Number(m[1]))) throw new InvalidArgumentError(`invalid size: '${v}'`);
  return Math.floor(Number(m[1]) * BINARY_UNITS[(m[2] ?? '').toLowerCase()]!);
}

/** The `Deleted build cache objects:` section and the total, as docker prints them. */
export function buildCacheReport(r: { deleted: readonly string[]; reclaimedBytes: number }, total = true): string {
  const ids = r.deleted.length ? `Deleted build cache objects:\n${r.deleted.map((id) => `${id}\n`).join('')}\n` : '';
  // docker prints the total with go-units' HumanSize: 4 significant digits.
  return total ? `${ids}Total reclaimed space: ${humanSize(r.reclaimedBytes, 4)}\n` : ids;
}

export function builderPrune(): Command {
  const cmd = new Command('prune')
    .description('Remove build cache')
    .option('-a, --all', 'remove all unused build cache, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--keep-storage <bytes>', 'amount of disk space to keep for cache', parseKeepStorage);
  addFilterOption(cmd, { short: false });
  return cmd.action(async (o: { all?: boolean; force?: boolean; filter?: string[]; keepStorage?: number }, c: Command) => {
    const filters = cliFilters(o.filter);
    const { buildCacheMatcher, pruneBuildCache } = await import('../services/build-cache.ts');
    buildCacheMatcher(filters); // a bad filter fails before the question
    const warning = o.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
    if (!o.force && !(await confirm(`${warning}\nAre you sure you want to continue?`))) return;
    const engine = await getEngine(c);
    out(buildCacheReport(await pruneBuildCache(engine, { all: o.all, filters, keepStorage: o.keepStorage })));
  });
}
