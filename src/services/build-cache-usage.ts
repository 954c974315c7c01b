/**
 * The build cache as its own record set, in BuildKit's terms (`system df -v`, `builder prune`):
 *
 * - `regular`: a cached step and the layer it made. A layer an image also has is `Shared`
 *   (removing the entry frees nothing); one only the cache keeps counts its dir and blobs.
 * - `exec.cachemount`: a RUN --mount=type=cache dir under `build-cache-mounts/`.
 * - `source.local`: the remembered hashes of build context files (rows in the metadata
 *   database: dropping them frees no disk, so they weigh 0 B).
 * - `internal`: a whole build's result (the image config a fully cached build gives again).
 *
 * A record a live build is using (its layer or cache dir named by a lease) is `InUse`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import type { Digest } from '../oci/digest.ts';
import type { BuildCacheRecords } from '../store/build-cache.ts';
import type { FileHashRecords } from '../store/file-hashes.ts';
import type { LiveLeases } from '../store/leases.ts';
import { createSha256 } from '../sys/crypto.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { duBytes, type StoreUsage } from './disk-measure.ts';

export type CacheRecordType = 'regular' | 'exec.cachemount' | 'source.local' | 'internal';

/** What removes a record: a build_cache row, a cache mount dir, or the context hashes. */
export type CacheRecordSource = { kind: 'row'; key: string; diffId?: Digest; config?: Digest } | { kind: 'mount'; dir: string } | { kind: 'hashes' };

export interface CacheRecord {
  /** 25 characters, as BuildKit's record ids are. */
  readonly id: string;
  readonly type: CacheRecordType;
  readonly description: string;
  readonly size: number;
  readonly shared: boolean;
  readonly inUse: boolean;
  readonly createdMs: number;
  readonly lastUsedMs: number;
  /** How many times a build used it, as BuildKit counts: its making, then each hit. */
  readonly usageCount: number;
  readonly source: CacheRecordSource;
}

export interface BuildCacheUsageDeps extends Pick<ImageStores, 'content' | 'images' | 'snapshots'> {
  readonly root: string;
  readonly buildCache: Pick<BuildCacheRecords, 'steps' | 'keys' | 'configOf' | 'entryTimes'>;
  readonly fileHashes: Pick<FileHashRecords, 'count'>;
}

/** Where RUN --mount=type=cache dirs live (builder/mounts.ts makes them). */
export function cacheMountsDir(root: string): string {
  return join(root, 'build-cache-mounts');
}

const shortId = (hex: string) => hex.replace(/^sha256:/, '').slice(0, 25);

/** The context hashes are one record; its id is fixed so a filter or a second look finds it again. */
/** The id of the context hashes' record, computed when listed (not as the module loads, which every build does). */
const sourceLocalId = () => shortId(createSha256().update('berth source.local context hashes').digest('hex'));

/** What the images hold: their layers' diffIDs and their config digests. */
export async function imageHoldings(deps: Pick<ImageStores, 'content' | 'images'>): Promise<{ layers: Set<string>; configs: Set<string> }> {
  const images = await Promise.all(deps.images.list().map((r) => loadImage(deps, r.id).catch(() => undefined)));
  return {
    layers: new Set(images.flatMap((i) => i?.config.rootfs.diff_ids ?? [])),
    configs: new Set(deps.images.list().map((r) => r.id)),
  };
}

export async function listBuildCache(deps: BuildCacheUsageDeps, usage: StoreUsage, live: LiveLeases): Promise<CacheRecord[]> {
  const held = await imageHoldings(deps);
  const leased = (kind: 'layer' | 'cachemount' | 'blob', name: string) => live.names.get(kind)?.has(name) ?? false;
  const out: CacheRecord[] = [];
  // Two steps can give the same layer: its bytes count once, on the first record.
  const counted = new Set<string>();
  for (const s of deps.buildCache.steps()) {
    const shared = held.layers.has(s.diffId);
    const size = shared || counted.has(s.diffId) ? 0 : usage.layer(s.diffId);
    counted.add(s.diffId);
    out.push({
      id: shortId(s.key),
      type: 'regular',
      description: `layer ${s.diffId}`,
      size: shared ? usage.layer(s.diffId) : size,
      shared,
      inUse: leased('layer', s.diffId),
      createdMs: s.created,
      lastUsedMs: s.lastUsed,
      usageCount: s.usageCount,
      source: { kind: 'row', key: s.key, diffId: s.diffId },
    });
  }
  for (const key of deps.buildCache.keys()) {
    const config = deps.buildCache.configOf(key);
    if (!config) continue;
    const times = deps.buildCache.entryTimes(key);
    const shared = held.configs.has(config);
    out.push({
      id: shortId(key),
      type: 'internal',
      description: `build result ${config}`,
      size: usage.blob(config),
      shared,
      inUse: leased('blob', config),
      createdMs: times?.created ?? 0,
      lastUsedMs: times?.lastUsed ?? 0,
      usageCount: times?.usageCount ?? 1,
      source: { kind: 'row', key, config },
    });
  }
  out.push(...(await cacheMountRecords(deps.root, (name) => leased('cachemount', name))));
  const hashed = deps.fileHashes.count();
  if (hashed) {
    // The hashes keep no times of their own: they were last used by the latest build.
    const latest = out.reduce((t, r) => Math.max(t, r.lastUsedMs), 0) || Date.now();
    out.push({
      id: sourceLocalId(),
      type: 'source.local',
      description: `local source: hashes of ${hashed} context file(s)`,
      size: 0,
      shared: false,
      inUse: false,
      createdMs: latest,
      lastUsedMs: latest,
      usageCount: 1,
      source: { kind: 'hashes' },
    });
  }
  return out;
}

async function cacheMountRecords(root: string, inUse: (name: string) => boolean): Promise<CacheRecord[]> {
  const base = cacheMountsDir(root);
  let names: string[];
  try {
    names = readdirSync(base).filter((n) => /^[0-9a-f]{32}$/.test(n));
  } catch {
    return [];
  }
  const sizes = await duBytes(names.map((n) => join(base, n)));
  return names.flatMap((name): CacheRecord[] => {
    const dir = join(base, name);
    const st = lstatOrUndefined(dir);
    if (!st?.isDirectory()) return [];
    return [
      {
        id: shortId(name),
        type: 'exec.cachemount',
        description: `cached mount ${name}`,
        size: sizes.get(dir) ?? 0,
        shared: false,
        inUse: inUse(name),
        createdMs: st.birthtimeMs || st.ctimeMs,
        lastUsedMs: Math.max(st.mtimeMs, st.ctimeMs),
        usageCount: 1,
        source: { kind: 'mount', dir },
      },
    ];
  });
}

/** The bytes the cache holds on its own: what `system df` shows as its SIZE (shared records do not count). */
export function cacheBytes(records: readonly CacheRecord[]): number {
  return records.reduce((n, r) => n + (r.shared ? 0 : r.size), 0);
}
