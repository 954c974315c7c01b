/**
 * A layer's tar entries, read as a stream from wherever the layer lives (a stored blob,
 * compressed or not, or the unpacked dir of a layer built here, regenerated and verified):
 * nothing is extracted and no body is held in memory.
 */
import { pipeline } from 'node:stream/promises';
import { openLayerBlob } from '../image/layer-blob.ts';
import type { ImageStores } from '../image/stores.ts';
import { decompressAuto, readTar, type TarEntry } from '../layer/index.ts';
import type { Digest } from '../oci/digest.ts';

export async function* layerEntries(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
  digest: Digest,
  opts: { signal?: AbortSignal } = {},
): AsyncGenerator<TarEntry> {
  const blob = await openLayerBlob(stores, digest);
  const plain = decompressAuto();
  let failure: unknown;
  const piped = pipeline(blob, plain, { signal: opts.signal }).catch((e: unknown) => {
    failure = e;
  });
  let readToEnd = false;
  try {
    yield* readTar(plain);
    readToEnd = true;
  } catch (e) {
    const cause = failure;
    blob.destroy();
    plain.destroy();
    await piped;
    throw cause ?? e;
  } finally {
    // A reader that stops early (the duplicate pass) leaves the rest unread.
    if (!readToEnd) {
      blob.destroy();
      plain.destroy();
    }
  }
  await piped;
  if (failure) throw failure;
}
