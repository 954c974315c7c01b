/** `berth import`: a rootfs tarball becomes a one-layer image. */
import { pipeline, type Readable } from 'node:stream';
import { BerthError, isBerthError } from '../errors/index.ts';
import { decompressAuto, tarCheck } from '../layer/index.ts';
import { hostPlatform } from '../oci/platform.ts';
import type { ImageConfig, Platform } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';
import { applyConfigChanges } from './changes.ts';
import { commitImage } from './commit.ts';
import type { ImageStores } from './stores.ts';

export interface ImportOptions {
  readonly tags: readonly string[];
  readonly changes?: readonly string[];
  readonly message?: string;
  readonly source?: string;
  /** The platform the image claims (`--platform`); the host's by default, as docker import does. */
  readonly platform?: Platform;
  readonly signal?: AbortSignal;
}

export async function importRootfs(stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>, input: Readable, opts: ImportOptions): Promise<ImageRecord> {
  // Store the uncompressed tar first (its digest is the diffID), then unpack from the
  // stored, verified copy: a corrupt upload never reaches a layer dir. The bytes are read
  // as a tar on their way in, so a file that is not one (or /dev/zero) stops at once.
  const checked = tarCheck();
  pipeline(input, decompressAuto(), checked, () => undefined);
  const blob = await stores.content.put(checked, { signal: opts.signal }).catch((e: unknown) => {
    if (!isBerthError(e, 'DATA_CORRUPT')) throw e;
    throw new BerthError('INVALID_ARGUMENT', `cannot import ${opts.source ?? '-'}: ${e.message}`, {
      hint: 'berth import takes a tar archive of a root filesystem (plain, gzip or zstd)',
    });
  });
  if (!(await stores.snapshots.stat(blob.digest))) {
    await stores.snapshots.unpackLayer(blob.digest, () => stores.content.open(blob.digest), { signal: opts.signal });
  }
  const created = new Date().toISOString();
  const platform = opts.platform ?? hostPlatform();
  let config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created,
    config: {},
    rootfs: { type: 'layers', diff_ids: [blob.digest] },
    history: [{ created, created_by: '', comment: opts.message || `Imported from ${opts.source ?? '-'}` }],
  };
  if (opts.changes?.length) config = applyConfigChanges(config, opts.changes);
  return commitImage(stores, config, [{ diffId: blob.digest, size: blob.size }], opts.tags);
}
