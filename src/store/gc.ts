/**
 * Consistency check and garbage collection over the whole store. GC is mark-and-sweep:
 * everything reachable from an image record, a container or the build cache is kept;
 * unreferenced blobs, layer dirs and stale ingests go. Deletion is always the last step,
 * after the marks, so a crash mid-prune loses only garbage.
 */
import type { Engine } from '../engine.ts';
import type { Digest } from '../oci/digest.ts';
import { imageConfigSchema, manifestSchema } from '../oci/schema.ts';

export interface CheckReport {
  readonly blobs: number;
  readonly images: number;
  readonly layers: number;
  readonly problems: string[];
}

async function imageRefs(engine: Engine): Promise<{ blobs: Set<Digest>; layers: Set<Digest>; problems: string[] }> {
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
  for (const row of engine.db.prepare('SELECT result FROM build_cache').all() as Array<{ result: string }>) {
    const r = JSON.parse(row.result) as { layers?: Digest[]; config?: Digest };
    for (const d of r.layers ?? []) {
      layers.add(d);
      blobs.add(d);
    }
    if (r.config) blobs.add(r.config);
  }
  for (const row of engine.db.prepare('SELECT image_id FROM containers').all() as Array<{ image_id: Digest }>) blobs.add(row.image_id);
  return { blobs, layers, problems };
}

export async function checkStore(engine: Engine): Promise<CheckReport> {
  const { blobs: wanted, layers: wantedLayers, problems } = await imageRefs(engine);
  const unpacked = new Set(await engine.snapshots.listLayers());
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
  const integrity = engine.db.pragma('integrity_check', { simple: true });
  if (integrity !== 'ok') problems.push(`metadata database: ${String(integrity)}`);
  return { blobs, images: engine.images.list().length, layers: unpacked.size, problems };
}

export interface PruneReport {
  readonly deletedImages: Digest[];
  readonly deletedBlobs: number;
  readonly deletedLayers: number;
  readonly reclaimedBytes: number;
}

/** Removes dangling images (no tag, no container), then everything no longer reachable. */
export async function pruneStore(engine: Engine, opts: { allImages?: boolean } = {}): Promise<PruneReport> {
  const used = new Set((engine.db.prepare('SELECT image_id FROM containers').all() as Array<{ image_id: Digest }>).map((r) => r.image_id));
  const deletedImages: Digest[] = [];
  for (const img of engine.images.list()) {
    if (used.has(img.id)) continue;
    if (opts.allImages || engine.images.tagsOf(img.id).length === 0) {
      engine.images.delete(img.id);
      deletedImages.push(img.id);
    }
  }
  const { blobs: keep, layers: keepLayers } = await imageRefs(engine);
  let deletedBlobs = 0;
  let reclaimedBytes = 0;
  for await (const b of engine.content.walk()) {
    if (keep.has(b.digest)) continue;
    await engine.content.delete(b.digest);
    deletedBlobs++;
    reclaimedBytes += b.size;
  }
  let deletedLayers = 0;
  for (const d of await engine.snapshots.listLayers()) {
    if (keepLayers.has(d)) continue;
    await engine.snapshots.removeLayer(d);
    deletedLayers++;
  }
  for (const l of engine.images.allLayers()) if (!keepLayers.has(l.diffId)) engine.images.deleteLayer(l.diffId);
  await engine.content.pruneIngests(60 * 60 * 1000);
  return { deletedImages, deletedBlobs, deletedLayers, reclaimedBytes };
}
