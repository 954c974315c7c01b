/**
 * `builder prune` and the automatic cache budget: removes build cache records
 * (build-cache-usage.ts), then the layers and blobs only they kept (gc.ts).
 *
 * As BuildKit's prune: without `all`, a record an image shares (removing it frees nothing)
 * stays; `until` keeps what was used more recently; `keepStorage` removes the least recently
 * used records only until the cache is under that many bytes. A record a live build uses
 * (named by its lease) is never removed, and the removal itself happens in the metadata's
 * write lock, where a build names what it is about to use (store/leases.ts).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { fileKeepStorage } from '../config/file.ts';
import { settings } from '../config/index.ts';
import type { BuildCacheRecords } from '../store/build-cache.ts';
import type { FileHashRecords } from '../store/file-hashes.ts';
import { randomHex } from '../sys/crypto.ts';
import { type BuildCacheUsageDeps, type CacheRecord, cacheBytes, cacheMountsDir, imageHoldings, listBuildCache } from './build-cache-usage.ts';
import { duBytes, measureStore } from './disk-measure.ts';
import { anyValue, boolFilter, checkFilterKeys, type FilterArgs, invalidValue, NO_FILTERS } from './filters/args.ts';
import { untilCutoff } from './filters/time.ts';
import type { GcDeps } from './gc.ts';

export interface BuildCachePruneDeps extends GcDeps, BuildCacheUsageDeps {
  readonly buildCache: Pick<BuildCacheRecords, 'references' | 'steps' | 'keys' | 'configOf' | 'entryTimes' | 'delete'>;
  readonly fileHashes: Pick<FileHashRecords, 'count' | 'clear'>;
}

export interface BuildCachePruneOptions {
  /** Shared records too (docker's `-a`). */
  readonly all?: boolean;
  /** docker's build cache filters: `until` (or `unused-for`), `id`, `type`, `description`, `shared`, `private`, `inuse`. */
  readonly filters?: FilterArgs;
  /** Bytes of cache to keep: the least recently used records go until the rest fits. */
  readonly keepStorage?: number;
}

export interface BuildCachePruneReport {
  /** The ids of the records removed. */
  readonly deleted: string[];
  readonly reclaimedBytes: number;
}

export const BUILD_CACHE_FILTER_KEYS = ['until', 'unused-for', 'id', 'type', 'description', 'shared', 'private', 'inuse'] as const;

/** Which records the filters take; checked before anything is removed. */
export function buildCacheMatcher(args: FilterArgs): (r: CacheRecord) => boolean {
  checkFilterKeys(args, BUILD_CACHE_FILTER_KEYS);
  if (args.has('until') && args.has('unused-for')) throw invalidValue('until', [...(args.get('until') ?? []), ...(args.get('unused-for') ?? [])]);
  const cutoff = untilCutoff(args.has('unused-for') ? new Map([['until', args.get('unused-for')!]]) : args);
  const shared = boolFilter(args, 'shared');
  const priv = boolFilter(args, 'private');
  const inUse = boolFilter(args, 'inuse');
  return (r) =>
    (cutoff === undefined || (r.lastUsedMs || r.createdMs) < cutoff) &&
    anyValue(args, 'id', (v) => r.id.startsWith(v)) &&
    anyValue(args, 'type', (v) => r.type === v) &&
    anyValue(args, 'description', (v) => r.description.includes(v)) &&
    (shared === undefined || r.shared === shared) &&
    (priv === undefined || !r.shared === priv) &&
    (inUse === undefined || r.inUse === inUse);
}

/** The records a prune with these options removes, least recently used first. */
export function selectForPrune(records: readonly CacheRecord[], opts: BuildCachePruneOptions): CacheRecord[] {
  const matches = buildCacheMatcher(opts.filters ?? NO_FILTERS);
  const candidates = records
    .filter((r) => !r.inUse && (opts.all || !r.shared) && matches(r))
    .sort((a, b) => (a.lastUsedMs || a.createdMs) - (b.lastUsedMs || b.createdMs));
  if (opts.keepStorage === undefined) return candidates;
  let total = cacheBytes(records);
  const out: CacheRecord[] = [];
  for (const r of candidates) {
    if (total <= opts.keepStorage) break;
    out.push(r);
    if (!r.shared) total -= r.size;
  }
  return out;
}

export async function pruneBuildCache(engine: BuildCachePruneDeps, opts: BuildCachePruneOptions = {}): Promise<BuildCachePruneReport> {
  // Only what the cache holds alone is measured: a shared record's size frees nothing.
  const held = await imageHoldings(engine);
  const own = new Set<string>(engine.buildCache.steps().flatMap((st) => (held.layers.has(st.diffId) ? [] : [st.diffId])));
  const records = await listBuildCache(engine, await measureStore(engine, own), engine.leases.read());
  const chosen = selectForPrune(records, opts);
  const deleted: string[] = [];
  const trash: string[] = [];
  let mountBytes = 0;
  mkdirSync(join(engine.root, 'tmp'), { recursive: true, mode: 0o700 });
  await engine.metadata.writeLocked(async () => {
    // Leases named since the records were listed: a build that began meanwhile keeps what it uses.
    const live = engine.leases.read();
    const named = (kind: 'layer' | 'cachemount' | 'blob', name: string) => live.names.get(kind)?.has(name) ?? false;
    for (const r of chosen) {
      const s = r.source;
      if (s.kind === 'row') {
        if ((s.diffId && named('layer', s.diffId)) || (s.config && named('blob', s.config))) continue;
        if (engine.buildCache.delete(s.key)) deleted.push(r.id);
      } else if (s.kind === 'mount') {
        const name = s.dir.slice(s.dir.lastIndexOf('/') + 1);
        if (named('cachemount', name)) continue;
        // Renamed away inside the lock (a build that comes next makes a fresh dir), deleted after it.
        const away = join(engine.root, 'tmp', `rm-cachemount-${randomHex(8)}`);
        try {
          renameSync(s.dir, away);
        } catch {
          continue; // gone already
        }
        trash.push(away);
        mountBytes += r.size;
        deleted.push(r.id);
      } else {
        engine.fileHashes.clear();
        deleted.push(r.id);
      }
    }
  });
  for (const dir of trash) rmSync(dir, { recursive: true, force: true });
  // gc.ts (with the image schemas behind it) is loaded only by a prune that deleted something:
  // this module is loaded by every build, for its budget.
  const swept = deleted.length ? await (await import('./gc.ts')).pruneStore(engine, { keepImages: true }) : { reclaimedBytes: 0 };
  return { deleted, reclaimedBytes: swept.reclaimedBytes + mountBytes };
}

/**
 * The cache budget: `configured` (BERTH_BUILDER_KEEP_STORAGE, or the config file's
 * `builder.gc.defaultKeepStorage`, 0 when its `enabled` is false), else a tenth of the file system that holds the root, as
 * BuildKit's default GC policy has it. 0 means no automatic clean-up.
 */
export function cacheBudget(root: string, configured: number | undefined = settings().builderKeepStorage ?? fileKeepStorage()): number {
  if (configured !== undefined) return configured;
  const fs = statfsSync(root);
  return Math.floor((fs.blocks * fs.bsize) / 10);
}

/** What the cache mounts hold; none made yet (most builds use none) is measured without starting `du`. */
async function cacheMountBytes(root: string): Promise<number> {
  const dir = cacheMountsDir(root);
  try {
    if (readdirSync(dir).length === 0) return 0;
  } catch {
    return 0; // no cache mount since the root was made
  }
  return [...(await duBytes([dir])).values()].reduce((n, b) => n + b, 0);
}

/**
 * After a build: when the cache holds more than `budget`, its least recently used records go
 * until it fits. A first estimate from the recorded layer sizes spares the common case (well
 * under budget) the measuring of every cached layer. Returns what went; undefined when the
 * cache fit.
 */
export async function keepCacheInBudget(engine: BuildCachePruneDeps, budget = cacheBudget(engine.root)): Promise<BuildCachePruneReport | undefined> {
  if (budget <= 0) return undefined;
  const steps = engine.buildCache.steps();
  const mounts = await cacheMountBytes(engine.root);
  // Every step counted, even those an image holds: when even that fits, as after most builds,
  // the images need not be loaded to find which layers they hold.
  if (steps.reduce((n, s) => n + s.size, 0) + mounts <= budget) return undefined;
  const held = await imageHoldings(engine);
  const layers = steps.reduce((n, s) => n + (held.layers.has(s.diffId) ? 0 : s.size), 0);
  if (layers + mounts <= budget) return undefined;
  return pruneBuildCache(engine, { keepStorage: budget });
}
