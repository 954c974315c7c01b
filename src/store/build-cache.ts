/**
 * The `build_cache` table: a build step's cache key → the layer the step produced, and a
 * whole build's chain key → the image config it produced (so a fully cached build gives the
 * same image). The result is kept as JSON: `{ layers: [diffId], size }` for a step,
 * `{ layers: [], config }` for a build. An entry counts its uses as BuildKit's records do: one
 * for its making, one more for each cache hit.
 */
import type { Digest } from '../oci/digest.ts';
import type { Database } from './db.ts';

export interface CachedStepRow {
  readonly diffId: Digest;
  /** Uncompressed bytes of the layer. */
  readonly size: number;
  /** When a build last used it (ms). */
  readonly lastUsed: number;
}

/** A step entry as `system df -v` lists it. */
export interface CacheStepEntry {
  readonly key: string;
  readonly diffId: Digest;
  readonly size: number;
  /** When it was made and last used (ms). */
  readonly created: number;
  readonly lastUsed: number;
  /** Its making, then each hit. */
  readonly usageCount: number;
}

interface Result {
  layers?: Digest[];
  size?: number;
  config?: Digest;
}

export class BuildCacheRecords {
  constructor(private readonly db: Database) {}

  private result(key: string): { result: Result; lastUsed: number } | undefined {
    const row = this.db.prepare('SELECT result, last_used FROM build_cache WHERE cache_key = ?').get(key) as { result: string; last_used: number } | undefined;
    return row && { result: JSON.parse(row.result) as Result, lastUsed: row.last_used };
  }

  private put(key: string, result: Result, now: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO build_cache (cache_key, result, created, last_used) VALUES (?, ?, ?, ?)')
      .run(key, JSON.stringify(result), now, now);
  }

  /** The layer a step with this cache key produced. */
  layerOf(key: string): CachedStepRow | undefined {
    const row = this.result(key);
    const diffId = row?.result.layers?.[0];
    return diffId ? { diffId, size: row.result.size ?? 0, lastUsed: row.lastUsed } : undefined;
  }

  putLayer(key: string, diffId: Digest, size: number, now = Date.now()): void {
    this.put(key, { layers: [diffId], size }, now);
  }

  /** The image config a build with this chain key produced. */
  configOf(key: string): Digest | undefined {
    return this.result(key)?.result.config;
  }

  putConfig(key: string, configId: Digest, now = Date.now()): void {
    this.put(key, { layers: [], config: configId }, now);
  }

  /** Records a hit: one more use, and its time. */
  recordHit(key: string, now = Date.now()): void {
    this.db.prepare('UPDATE build_cache SET last_used = ?, usage_count = usage_count + 1 WHERE cache_key = ?').run(now, key);
  }

  /** Every layer and image config the cache names: garbage collection keeps them. */
  references(): { layers: Digest[]; configs: Digest[] } {
    const layers: Digest[] = [];
    const configs: Digest[] = [];
    for (const row of this.db.prepare('SELECT result FROM build_cache').all() as Array<{ result: string }>) {
      const r = JSON.parse(row.result) as Result;
      layers.push(...(r.layers ?? []));
      if (r.config) configs.push(r.config);
    }
    return { layers, configs };
  }

  /** Every step entry (a cached layer), as `system df` lists them. */
  steps(): CacheStepEntry[] {
    const rows = this.db.prepare('SELECT cache_key, result, created, last_used, usage_count FROM build_cache').all() as Array<{
      cache_key: string;
      result: string;
      created: number;
      last_used: number;
      usage_count: number;
    }>;
    return rows.flatMap((r) => {
      const res = JSON.parse(r.result) as Result;
      const diffId = res.layers?.[0];
      return diffId ? [{ key: r.cache_key, diffId, size: res.size ?? 0, created: r.created, lastUsed: r.last_used, usageCount: r.usage_count }] : [];
    });
  }

  /** Every entry's key, step and image config entries alike. */
  keys(): string[] {
    return (this.db.prepare('SELECT cache_key FROM build_cache').all() as Array<{ cache_key: string }>).map((r) => r.cache_key);
  }

  /** When an entry was made and last used (ms), and how many times it was used. */
  entryTimes(key: string): { created: number; lastUsed: number; usageCount: number } | undefined {
    const r = this.db.prepare('SELECT created, last_used, usage_count FROM build_cache WHERE cache_key = ?').get(key) as
      | { created: number; last_used: number; usage_count: number }
      | undefined;
    return r && { created: r.created, lastUsed: r.last_used, usageCount: r.usage_count };
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) n FROM build_cache').get() as { n: number }).n;
  }

  /** Removes one entry; returns whether it was there. */
  delete(key: string): boolean {
    return this.db.prepare('DELETE FROM build_cache WHERE cache_key = ?').run(key).changes > 0;
  }
}
