/**
 * `builder prune`: drops build cache entries, then the layers only they kept. "Dangling" cache,
 * which a prune without `all` removes, is an entry whose layer no image has: dropping it frees
 * space, where an entry that shares an image's layer frees nothing; so is an entry naming a
 * build's image config that no image has any more.
 */
import { loadImage } from '../image/resolve.ts';
import type { BuildCacheRecords } from '../store/build-cache.ts';
import { type GcDeps, pruneStore } from './gc.ts';

export interface BuildCachePruneDeps extends GcDeps {
  readonly buildCache: Pick<BuildCacheRecords, 'references' | 'steps' | 'keys' | 'configOf' | 'delete'>;
}

export interface BuildCachePruneReport {
  /** The cache keys of the entries removed. */
  readonly deleted: string[];
  readonly reclaimedBytes: number;
}

export async function pruneBuildCache(engine: BuildCachePruneDeps, opts: { all?: boolean } = {}): Promise<BuildCachePruneReport> {
  const images = await Promise.all(engine.images.list().map((r) => loadImage(engine, r.id).catch(() => undefined)));
  const inImages = new Set<string>(images.flatMap((img) => img?.config.rootfs.diff_ids ?? []));
  const deleted: string[] = [];
  for (const step of engine.buildCache.steps()) {
    if (!opts.all && inImages.has(step.diffId)) continue;
    if (engine.buildCache.delete(step.key)) deleted.push(step.key);
  }
  // The entries that name a whole build's image config: dangling once no image has that config.
  const imageIds = new Set<string>(engine.images.list().map((r) => r.id));
  for (const key of engine.buildCache.keys()) {
    const config = engine.buildCache.configOf(key);
    if (!config || (!opts.all && imageIds.has(config))) continue;
    if (engine.buildCache.delete(key)) deleted.push(key);
  }
  const swept = await pruneStore(engine, { keepImages: true });
  return { deleted, reclaimedBytes: swept.reclaimedBytes };
}
