/**
 * `builder prune`: drops build cache entries, then the layers only they kept. "Dangling" cache,
 * which a prune without `all` removes, is an entry whose layer no image has: dropping it frees
 * space, where an entry that shares an image's layer frees nothing.
 */
import { loadImage } from '../image/resolve.ts';
import type { BuildCacheRecords } from '../store/build-cache.ts';
import { type GcDeps, pruneStore } from './gc.ts';

export interface BuildCachePruneDeps extends GcDeps {
  readonly buildCache: Pick<BuildCacheRecords, 'references' | 'steps' | 'delete'>;
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
  const swept = await pruneStore(engine, { keepImages: true });
  return { deleted, reclaimedBytes: swept.reclaimedBytes };
}
