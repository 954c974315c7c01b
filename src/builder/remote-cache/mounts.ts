/**
 * Cache mounts (`RUN --mount=type=cache`) as layers beside the layer cache: a mount's dir is
 * archived as a plain tar (gzip), content-addressed, annotated with its id; restored into
 * an empty mount dir before the first step that uses it. The extraction resolves every
 * entry inside the dir (layer/apply.ts), so an archive cannot write outside it.
 */
import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import { applyLayer, compress, writeLayer } from '../../layer/index.ts';
import { MediaType } from '../../oci/mediatypes.ts';
import type { Descriptor } from '../../oci/schema.ts';
import type { CacheBackend } from './backends.ts';
import { randomHex } from '../../sys/crypto.ts';
import { CACHE_MOUNT_ANNOTATION } from './format.ts';
import type { RemoteCacheStores } from './types.ts';

export async function packMount(stores: RemoteCacheStores, id: string, dir: string): Promise<Descriptor> {
  const info = await stores.content.put(writeLayer(dir, { mode: 'plain' }).pipe(compress('gzip')));
  stores.lease.add('blob', [info.digest]);
  return { mediaType: MediaType.OciLayerGzip, digest: info.digest, size: info.size, annotations: { [CACHE_MOUNT_ANNOTATION]: id } };
}

/**
 * Fills `dir` from the cache's layer, unless the dir has something in it already (this
 * machine's own cache wins). The blob is stored (verified by digest) before a byte is
 * extracted, and extracted beside the dir, which it replaces only when complete.
 */
export async function restoreMount(stores: RemoteCacheStores, backend: CacheBackend, desc: Descriptor, dir: string): Promise<void> {
  if ((await readdir(dir).catch(() => [])).length) return;
  stores.lease.add('blob', [desc.digest]);
  await stores.content.put(await backend.openBlob(desc), { expected: desc.digest, expectedSize: desc.size });
  const tmp = `${dir}.restore-${randomHex(6)}`;
  try {
    await applyLayer(await stores.content.open(desc.digest), tmp, { whiteouts: 'plain' });
    if ((await readdir(dir).catch(() => [])).length) return; // a step of another build filled it meanwhile
    await rmdir(dir).catch(() => undefined);
    await rename(tmp, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
