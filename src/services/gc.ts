/**
 * Consistency check and garbage collection over the whole store. GC is mark-and-sweep:
 * everything reachable from an image record, a container or the build cache is kept, and so
 * is what a live process's lease covers (store/leases.ts); the rest goes (leftovers.ts). The marks
 * and the deletion of content-addressed names run in one write transaction, so a process that
 * leases a name either is seen by the marks or looks for it after the deletions. A crash
 * mid-prune loses only garbage.
 */
import { familiarTag } from '../image/inspect.ts';
import type { Digest } from '../oci/digest.ts';
import { imageConfigSchema, manifestSchema } from '../oci/schema.ts';
import type { BuildCacheRecords } from '../store/build-cache.ts';
import type { MetadataDatabase } from '../store/metadata.ts';
import { findLeftovers, type Leftover, type StoreRoots } from './leftovers.ts';

/** What check and prune use: the leftover scan's roles, the build cache and the database's own checks and lock. */
export interface GcDeps extends StoreRoots {
  readonly buildCache: Pick<BuildCacheRecords, 'references'>;
  readonly metadata: MetadataDatabase;
}

export interface CheckReport {
  readonly blobs: number;
  readonly images: number;
  readonly layers: number;
  /** Damage: a blob that does not match its digest, a reference to something missing. */
  readonly problems: string[];
  /** What prune would reclaim: unreferenced files and crash leftovers no live process owns. */
  readonly leftovers: string[];
}

async function imageRefs(engine: GcDeps): Promise<{ blobs: Set<Digest>; layers: Set<Digest>; problems: string[] }> {
  const blobs = new Set<Digest>();
  const layers = new Set<Digest>();
  const problems: string[] = [];
  for (const img of engine.images.list()) {
    blobs.add(img.manifestDigest);
    blobs.add(img.id);
    try {
      const manifest = manifestSchema.parse(JSON.parse((await engine.content.readBytes(img.manifestDigest)).toString()));
      const config = imageConfigSchema.parse(JSON.parse((await engine.content.readBytes(img.id)).toString()));
      for (const l of manifest.layers) blobs.add(l.digest);
      for (const d of config.rootfs.diff_ids) {
        layers.add(d);
        for (const b of engine.images.blobsOfLayer(d)) blobs.add(b.digest);
      }
    } catch (e) {
      problems.push(`image ${img.id}: cannot read its manifest or config (${(e as Error).message.split('\n')[0]})`);
    }
  }
  for (const d of engine.images.indexes().digests) blobs.add(d); // a multi-platform image's index
  const cached = engine.buildCache.references();
  for (const d of cached.layers) {
    layers.add(d);
    blobs.add(d);
  }
  for (const c of cached.configs) blobs.add(c);
  for (const id of engine.containers.imageIds()) blobs.add(id);
  return { blobs, layers, problems };
}

export async function checkStore(engine: GcDeps): Promise<CheckReport> {
  const { blobs: wanted, layers: wantedLayers, problems } = await imageRefs(engine);
  const unpacked = new Set((await engine.snapshots.walk()).layers.map((l) => l.name));
  const unpackedHas = (d: Digest) => unpacked.has(d);
  let blobs = 0;
  const present = new Set<Digest>();
  for await (const b of engine.content.walk()) {
    blobs++;
    present.add(b.digest);
    if (!(await engine.content.verify(b.digest))) problems.push(`blob ${b.digest}: content does not match its digest`);
  }
  for (const d of wanted) {
    // A layer built here is kept as its unpacked dir only; its tar is regenerated on demand.
    if (!present.has(d) && !(engine.images.dirLayer(d) && unpackedHas(d))) problems.push(`blob ${d}: referenced but missing`);
  }
  for (const d of wantedLayers) if (!unpacked.has(d)) problems.push(`layer ${d}: referenced but not unpacked`);
  for (const t of engine.images.allTags()) if (!engine.images.get(t.imageId)) problems.push(`tag ${t.name}: points to missing image ${t.imageId}`);
  for (const p of engine.metadata.integrityProblems()) problems.push(`metadata database: ${p}`);
  // Read-only: expired leases are reported, not removed.
  const leftovers = (await findLeftovers(engine, engine.leases.read(), { blobs: wanted, layers: wantedLayers })).map((l) => l.what);
  return { blobs, images: engine.images.list().length, layers: unpacked.size, problems, leftovers };
}

export interface PruneReport {
  /** The familiar names (`bb:1`) of the images deleted, untagged before their ids go. */
  readonly untagged: string[];
  readonly deletedImages: Digest[];
  readonly deletedBlobs: number;
  readonly deletedLayers: number;
  /** Crash leftovers removed (partial downloads, temp trees, orphaned snapshots and networks...). */
  readonly leftovers: number;
  readonly reclaimedBytes: number;
  /** Leftovers that could not be removed, and why. */
  readonly warnings: string[];
}

/** Which images a prune may take beyond the unused ones: their creation time and labels. */
export type ImagePruneFilter = (img: { readonly created?: string; readonly labels: Readonly<Record<string, string>> | null }) => boolean;

/**
 * Removes dangling images (no tag, no container, no lease; every unused one with
 * `allImages`) that `matches` takes, then everything no longer reachable. With `keepImages`,
 * only the unreachable rest (after build cache entries were dropped).
 */
export async function pruneStore(engine: GcDeps, opts: { allImages?: boolean; keepImages?: boolean; matches?: ImagePruneFilter } = {}): Promise<PruneReport> {
  const untagged: string[] = [];
  const deletedImages: Digest[] = [];
  let deletedBlobs = 0;
  let deletedLayers = 0;
  let reclaimedBytes = 0;
  let removed = 0;
  const warnings: string[] = [];
  const later: Leftover[] = [];
  const finishing: Array<{ what: string; finish: () => Promise<void> }> = [];
  const failed = (what: string, e: unknown) => warnings.push(`${what}: ${(e as Error).message.split('\n')[0]}`);
  const drop = async (l: Leftover) => {
    try {
      const finish = await l.remove();
      if (finish) finishing.push({ what: l.what, finish });
      removed++;
      reclaimedBytes += l.bytes;
      if (l.what.startsWith('blob ')) deletedBlobs++;
      else if (l.what.startsWith('layer dir ')) deletedLayers++;
    } catch (e) {
      failed(l.what, e);
    }
  };
  await engine.metadata.writeLocked(async () => {
    const live = engine.leases.read();
    engine.leases.drop(live.dead);
    const leased = live.names.get('image') ?? new Set<string>();
    const used = engine.containers.imageIds();
    const children = engine.images.indexes().children; // a platform of a tagged multi-platform image is not dangling
    for (const img of opts.keepImages ? [] : engine.images.list()) {
      if (used.has(img.id) || leased.has(img.id)) continue;
      const tags = engine.images.tagsOf(img.id);
      if (!opts.allImages && (tags.length || children.has(img.id))) continue;
      if (opts.matches && !opts.matches({ created: img.created, labels: await labelsOf(engine, img.id) })) continue;
      untagged.push(...tags.map(familiarTag));
      engine.images.delete(img.id);
      deletedImages.push(img.id);
    }
    const refs = await imageRefs(engine);
    const found = await findLeftovers(engine, { ...live, dead: [] }, refs);
    for (const l of found) {
      if (l.locked) await drop(l);
      else later.push(l);
    }
    const leasedLayers = live.names.get('layer') ?? new Set<string>();
    for (const l of engine.images.allLayers()) {
      if (!refs.layers.has(l.diffId) && !leasedLayers.has(l.diffId) && !(await engine.snapshots.stat(l.diffId))) engine.images.deleteLayer(l.diffId);
    }
  });
  // Slow deletes, and what has random names nobody can take meanwhile: after the transaction.
  for (const f of finishing) await f.finish().catch((e: unknown) => failed(f.what, e));
  for (const l of later) await drop(l);
  return { untagged, deletedImages, deletedBlobs, deletedLayers, leftovers: removed - deletedBlobs - deletedLayers, reclaimedBytes, warnings };
}

/** An image's labels from its config; null when the config cannot be read (such an image still prunes). */
async function labelsOf(engine: GcDeps, id: Digest): Promise<Readonly<Record<string, string>> | null> {
  try {
    return imageConfigSchema.parse(JSON.parse((await engine.content.readBytes(id)).toString())).config?.Labels ?? null;
  } catch {
    return null;
  }
}
