/**
 * What the store's things take on disk, measured as `du -sb` measures them (apparent bytes of
 * every entry, a hard-linked file once), so every figure of `system df` is the `du` of the
 * dirs and files behind it. A layer holds its unpacked dir and the blobs stored for it
 * (compressed or not); an image's config and manifest are blobs of their own.
 */
import type { ImageStores } from '../image/stores.ts';
import type { Digest } from '../oci/digest.ts';
import { execFileAsync } from '../sys/exec-file.ts';

/** How many paths one `du` is given: enough to spare a process per dir, few enough for any argv. */
const DU_BATCH = 64;

/**
 * `du -sb` of each path; 0 for one that is not there. Paths are measured in batches, one
 * `du` each: a file hard-linked into two of them counts in the first only, and the dirs
 * measured together here (layers, volumes, cache mounts) share no inodes.
 */
export async function duBytes(paths: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < paths.length; i += DU_BATCH) {
    const batch = paths.slice(i, i + DU_BATCH);
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync('du', ['-sb', '--', ...batch], { maxBuffer: 16 << 20 }));
    } catch (e) {
      // A path that vanished (a prune beside us) makes du fail; the lines it printed still hold.
      stdout = String((e as { stdout?: unknown }).stdout ?? '');
    }
    for (const line of stdout.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) out.set(line.slice(tab + 1), Number(line.slice(0, tab)) || 0);
    }
  }
  return out;
}

/** The bytes of every blob and unpacked layer in the store, measured once for one report. */
export interface StoreUsage {
  /** A blob's bytes; 0 when it is not stored. */
  blob(digest: Digest): number;
  /** A layer's unpacked dir and its stored blobs; 0 when neither is there. */
  layer(diffId: Digest): number;
  /** Just the unpacked dir of a layer (`du -sb`). */
  layerDir(diffId: Digest): number;
}

/** Measures the store; with `only`, just those layers' dirs (the others then count 0 bytes). */
export async function measureStore(deps: Pick<ImageStores, 'content' | 'images' | 'snapshots'>, only?: ReadonlySet<string>): Promise<StoreUsage> {
  const blobs = new Map<string, number>();
  for await (const b of deps.content.walk()) blobs.set(b.digest, b.size);
  const layers = (await deps.snapshots.walk()).layers.filter((l) => !only || only.has(l.name));
  const measured = await duBytes(layers.map((l) => l.path));
  const dirs = new Map(layers.map((l) => [l.name, measured.get(l.path) ?? 0]));
  const blobsOf = new Map<string, Digest[]>();
  for (const b of deps.images.allLayerBlobs()) blobsOf.set(b.diffId, [...(blobsOf.get(b.diffId) ?? []), b.digest]);
  const blob = (d: Digest) => blobs.get(d) ?? 0;
  return {
    blob,
    layerDir: (d) => dirs.get(d) ?? 0,
    layer: (d) => {
      // A layer built here may have its uncompressed tar stored under its diffID too.
      const digests = new Set<Digest>([...(blobsOf.get(d) ?? []), d]);
      return (dirs.get(d) ?? 0) + [...digests].reduce((n, b) => n + blob(b), 0);
    },
  };
}
