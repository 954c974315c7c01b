/**
 * `build --cache-from` and `--cache-to`: the specs parsed (before the build starts, so a bad
 * one fails at once), the imported caches opened, and the session the builder calls and
 * that exports once the build is done (builder/remote-cache/).
 */
import { BuildCacheSession, type CacheCredentials, parseCacheFrom, parseCacheTo, type RemoteCacheStores } from '../builder/remote-cache/index.ts';

export type { BuildCacheSession };

export async function openBuildCaches(
  stores: RemoteCacheStores,
  opts: {
    cacheFrom: readonly string[];
    cacheTo: readonly string[];
    warn: (text: string) => void;
    /** The registries' credentials for this build (the API's client's); docker's config file when absent. */
    credentials?: CacheCredentials;
  },
): Promise<BuildCacheSession | undefined> {
  const to = opts.cacheTo.map(parseCacheTo);
  const from = opts.cacheFrom.map(parseCacheFrom);
  if (!to.length && !from.length) return undefined;
  return BuildCacheSession.open(stores, { from, to, warn: opts.warn, credentials: opts.credentials });
}
