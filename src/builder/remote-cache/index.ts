/** Build cache export and import (--cache-to, --cache-from): BuildKit's formats, and berth's cache mounts beside them. */
export { parseCacheFrom, parseCacheTo, type CacheExportSpec, type CacheImportSpec } from './options.ts';
export { BuildCacheSession, type CacheCredentials } from './session.ts';
export type { LayerStep, RemoteCache, RemoteCacheStores } from './types.ts';
