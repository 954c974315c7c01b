/**
 * The build cache: step cache key → the layer that step produced. A key chains the parent
 * key, the expanded instruction and the content digest of its inputs, so a change misses
 * that step and — because every later key contains it — every later step, and nothing else.
 */
import type { BuilderDeps } from './step-context.ts';
import { hasLayerBlob } from '../image/layer-blob.ts';
import type { Digest } from '../oci/digest.ts';

export interface CachedLayer {
  readonly diffId: Digest;
  readonly size: number;
}

export function cacheGet(engine: BuilderDeps, key: string): CachedLayer | undefined {
  const row = engine.buildCache.layerOf(key);
  return row && { diffId: row.diffId, size: row.size };
}

/** A hit counts only if its layer is still unpacked and its blob still stored; it is one more use of the entry. */
export async function cacheLookup(engine: BuilderDeps, key: string): Promise<CachedLayer | undefined> {
  const hit = cacheGet(engine, key);
  if (!hit) return undefined;
  engine.lease.add('layer', [hit.diffId]); // before the look: a prune either keeps the layer or is done with it
  if (!(await engine.snapshots.stat(hit.diffId)) || !(await hasLayerBlob(engine, hit.diffId))) return undefined;
  engine.buildCache.recordHit(key);
  return hit;
}

export function cachePut(engine: BuilderDeps, key: string, layer: CachedLayer, sourceDateEpoch?: number): void {
  if (!engine.images.layerSize(layer.diffId)) engine.images.putDirLayer(layer.diffId, layer.size, sourceDateEpoch);
  engine.buildCache.putLayer(key, layer.diffId, layer.size);
}
