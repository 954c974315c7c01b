/**
 * A layer's uncompressed tar, wherever it lives. Pulled and loaded layers keep their blob in
 * the content store. Layers built here are kept only as their unpacked dir: the tar was
 * hashed (for the diffID) when the step was committed but never stored, and it is
 * regenerated on demand — deterministically, and verified against the diffID as it streams.
 */
import { Transform, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BerthError } from '../errors/index.ts';
import { writeLayer } from '../layer/index.ts';
import type { Digest } from '../oci/digest.ts';
import { createSha256 } from '../sys/crypto.ts';
import type { ImageStores } from './stores.ts';

export async function hasLayerBlob(stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>, digest: Digest): Promise<boolean> {
  if (await stores.content.has(digest)) return true;
  return !!stores.images.dirLayer(digest) && !!(await stores.snapshots.stat(digest));
}

function verifying(expected: Digest, start: number): Transform {
  const h = createSha256();
  let skip = start;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      h.update(chunk);
      if (skip >= chunk.length) {
        skip -= chunk.length;
        return cb();
      }
      const out = skip ? chunk.subarray(skip) : chunk;
      skip = 0;
      cb(null, out);
    },
    flush(cb) {
      const got = `sha256:${h.digest('hex')}`;
      cb(
        got === expected
          ? null
          : new BerthError('DATA_CORRUPT', `layer ${expected} no longer matches its unpacked dir (got ${got})`, {
              hint: 'the layer dir was changed on disk; rebuild the image with --no-cache',
            }),
      );
    },
  });
}

/**
 * `receiverVerifies`: the bytes go, under this digest, to a receiver that checks them itself
 * (a registry refuses an upload whose content does not hash to the digest it was pushed as),
 * so the regenerated tar is not hashed a second time here.
 */
export async function openLayerBlob(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
  digest: Digest,
  opts: { start?: number; receiverVerifies?: boolean } = {},
): Promise<Readable> {
  if (await stores.content.has(digest)) return stores.content.open(digest, { start: opts.start });
  const dir = stores.images.dirLayer(digest);
  if (!dir || !(await stores.snapshots.stat(digest))) throw new BerthError('NOT_FOUND', `content ${digest} not found`);
  // The layer's files stay where they are until the tar has been read to its end.
  const tar = await new Promise<Readable>((resolve, reject) => {
    stores.snapshots
      .readLayer(digest, (layerDir) => {
        const t = writeLayer(layerDir, { mode: 'overlay-upper', sourceDateEpoch: dir.sourceDateEpoch });
        resolve(t);
        return finished(t).catch(() => undefined);
      })
      .catch(reject);
  });
  if (opts.receiverVerifies && !opts.start) return tar;
  return tar.pipe(verifying(digest, opts.start ?? 0));
}
