/**
 * Image records: what the store knows about each image (keyed by config digest), its
 * tags and repo digests, and each layer's blobs. Blobs themselves live in the content store.
 */
import type { Digest } from '../oci/digest.ts';
import { immediate, type Database } from './db.ts';

export interface ImageRecord {
  readonly id: Digest;
  readonly manifestDigest: Digest;
  readonly manifestMediaType: string;
  readonly created?: string;
  readonly size: number;
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly addedAt: number;
}

/**
 * What berth built an image from: the Dockerfile's name and text, and for each entry of the
 * image's history (in the config's order) the lines of the instruction that made it, or null
 * (an entry of a base image pulled or loaded). Only images built here have one.
 */
export interface BuildSource {
  readonly file: string;
  /** Undefined when the Dockerfile was longer than `MAX_SOURCE_TEXT`: the lines are kept all the same. */
  readonly text?: string;
  readonly lines: ReadonlyArray<readonly [line: number, endLine: number] | null>;
}

/** The most Dockerfile text kept with an image; a longer one keeps its lines only. */
export const MAX_SOURCE_TEXT = 256 * 1024;

export interface LayerBlob {
  readonly diffId: Digest;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
}

interface ImageRow {
  id: string;
  manifest_digest: string;
  manifest_media_type: string;
  created: string | null;
  size: number;
  os: string;
  architecture: string;
  variant: string | null;
  added_at: number;
}

function toRecord(r: ImageRow): ImageRecord {
  return {
    id: r.id as Digest,
    manifestDigest: r.manifest_digest as Digest,
    manifestMediaType: r.manifest_media_type,
    created: r.created ?? undefined,
    size: r.size,
    os: r.os,
    architecture: r.architecture,
    variant: r.variant ?? undefined,
    addedAt: r.added_at,
  };
}

export class ImageRecords {
  constructor(private readonly db: Database) {}

  /** Records an image and points `tags` at it, moving a tag that pointed elsewhere. */
  put(img: ImageRecord, tags: readonly string[] = [], repoDigests: ReadonlyArray<{ repository: string; digest: Digest }> = []): void {
    immediate(this.db, () => {
      this.db
        .prepare(
          `INSERT INTO images (id, manifest_digest, manifest_media_type, created, size, os, architecture, variant, added_at)
           VALUES (@id, @manifestDigest, @manifestMediaType, @created, @size, @os, @architecture, @variant, @addedAt)
           ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, manifest_media_type = excluded.manifest_media_type`,
        )
        .run({ ...img, created: img.created ?? null, variant: img.variant ?? null });
      const tag = this.db.prepare('INSERT INTO tags (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id');
      const unindex = this.db.prepare('DELETE FROM image_indexes WHERE name = ?');
      for (const t of tags) {
        tag.run(t, img.id);
        unindex.run(t);
      }
      const rd = this.db.prepare('INSERT OR REPLACE INTO repo_digests (repository, digest, image_id) VALUES (?, ?, ?)');
      for (const d of repoDigests) rd.run(d.repository, d.digest, img.id);
    });
  }

  get(id: Digest): ImageRecord | undefined {
    const r = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    return r && toRecord(r);
  }

  list(): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY added_at DESC').all() as ImageRow[]).map(toRecord);
  }

  /** Ids starting with a hex prefix (Docker accepts unique id prefixes). */
  byIdPrefix(hexPrefix: string): ImageRecord[] {
    const rows = this.db.prepare('SELECT * FROM images WHERE id >= ? AND id < ? LIMIT 2').all(`sha256:${hexPrefix}`, `sha256:${hexPrefix}\uffff`) as ImageRow[];
    return rows.map(toRecord);
  }

  resolveTag(name: string): Digest | undefined {
    const r = this.db.prepare('SELECT image_id FROM tags WHERE name = ?').get(name) as { image_id: string } | undefined;
    return r?.image_id as Digest | undefined;
  }

  resolveRepoDigest(repository: string, digest: Digest): Digest | undefined {
    const r = this.db.prepare('SELECT image_id FROM repo_digests WHERE repository = ? AND digest = ?').get(repository, digest) as
      | { image_id: string }
      | undefined;
    if (r) return r.image_id as Digest;
    const m = this.db.prepare('SELECT id FROM images WHERE manifest_digest = ?').get(digest) as { id: string } | undefined;
    return m?.id as Digest | undefined;
  }

  tagsOf(id: Digest): string[] {
    return (this.db.prepare('SELECT name FROM tags WHERE image_id = ? ORDER BY name').all(id) as { name: string }[]).map((r) => r.name);
  }

  repoDigestsOf(id: Digest): Array<{ repository: string; digest: Digest }> {
    return this.db.prepare('SELECT repository, digest FROM repo_digests WHERE image_id = ? ORDER BY repository').all(id) as Array<{
      repository: string;
      digest: Digest;
    }>;
  }

  allTags(): Array<{ name: string; imageId: Digest }> {
    return (this.db.prepare('SELECT name, image_id FROM tags').all() as Array<{ name: string; image_id: string }>).map((r) => ({
      name: r.name,
      imageId: r.image_id as Digest,
    }));
  }

  /** Points `name` at an image; with `index`, the multi-platform image another tag holds comes along. */
  tag(name: string, id: Digest, index?: { digest: Digest; children: readonly Digest[] }): void {
    immediate(this.db, () => {
      this.db.prepare('INSERT INTO tags (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id').run(name, id);
      this.db.prepare('DELETE FROM image_indexes WHERE name = ?').run(name);
      if (index) this.putIndexRows(name, index.digest, index.children);
    });
  }

  /** Removes a tag (and the index it held); returns whether it existed. */
  untag(name: string): boolean {
    return immediate(this.db, () => {
      this.db.prepare('DELETE FROM image_indexes WHERE name = ?').run(name);
      return this.db.prepare('DELETE FROM tags WHERE name = ?').run(name).changes > 0;
    });
  }

  /**
   * Makes `name` a multi-platform image: the tag points at `tagged` (one of the children, which
   * are recorded already) and the index at `digest` lists them all.
   */
  putIndex(name: string, digest: Digest, tagged: Digest, children: readonly Digest[]): void {
    immediate(this.db, () => {
      this.db.prepare('INSERT INTO tags (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id').run(name, tagged);
      this.db.prepare('DELETE FROM image_indexes WHERE name = ?').run(name);
      this.putIndexRows(name, digest, children);
    });
  }

  /** Records the index a digest reference (`repo@sha256:…`) names, with no tag: a pull by the index's digest. */
  putDigestIndex(name: string, digest: Digest, children: readonly Digest[]): void {
    immediate(this.db, () => {
      this.db.prepare('DELETE FROM image_indexes WHERE name = ?').run(name);
      this.putIndexRows(name, digest, children);
    });
  }

  private putIndexRows(name: string, digest: Digest, children: readonly Digest[]): void {
    const row = this.db.prepare('INSERT OR IGNORE INTO image_indexes (name, digest, image_id) VALUES (?, ?, ?)');
    for (const c of children) row.run(name, digest, c);
  }

  /** The index a tag holds (a multi-platform image), and its children in this store. */
  indexOf(name: string): { digest: Digest; children: Digest[] } | undefined {
    const rows = this.db.prepare('SELECT digest, image_id FROM image_indexes WHERE name = ? ORDER BY rowid').all(name) as Array<{
      digest: string;
      image_id: string;
    }>;
    if (!rows.length) return undefined;
    return { digest: rows[0]!.digest as Digest, children: rows.map((r) => r.image_id as Digest) };
  }

  /** Every index a tag holds, and the images that are children of one (not dangling though untagged). */
  indexes(): { digests: Set<Digest>; children: Set<Digest> } {
    const rows = this.db.prepare('SELECT digest, image_id FROM image_indexes').all() as Array<{ digest: string; image_id: string }>;
    return { digests: new Set(rows.map((r) => r.digest as Digest)), children: new Set(rows.map((r) => r.image_id as Digest)) };
  }

  /** Forgets the image's digests at one repository (its last tag there is gone); returns the digests forgotten. */
  untagRepoDigests(id: Digest, repository: string): Digest[] {
    return immediate(this.db, () => {
      const rows = this.db.prepare('SELECT digest FROM repo_digests WHERE image_id = ? AND repository = ?').all(id, repository) as Array<{ digest: Digest }>;
      this.db.prepare('DELETE FROM repo_digests WHERE image_id = ? AND repository = ?').run(id, repository);
      return rows.map((r) => r.digest);
    });
  }

  /** Deletes the image record and everything naming it. */
  delete(id: Digest): void {
    immediate(this.db, () => {
      // An index without one of its children is not that image any more: its tags lose it.
      this.db.prepare('DELETE FROM image_indexes WHERE name IN (SELECT name FROM image_indexes WHERE image_id = ?)').run(id);
      this.db.prepare('DELETE FROM tags WHERE image_id = ?').run(id);
      this.db.prepare('DELETE FROM repo_digests WHERE image_id = ?').run(id);
      this.db.prepare('DELETE FROM image_sources WHERE image_id = ?').run(id);
      this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
    });
  }

  /** Keeps what a recorded image was built from, replacing what an earlier build of the same image kept. */
  putBuildSource(id: Digest, source: BuildSource): void {
    const text = source.text !== undefined && Buffer.byteLength(source.text) <= MAX_SOURCE_TEXT ? source.text : null;
    this.db
      .prepare('INSERT OR REPLACE INTO image_sources (image_id, file, text, lines) VALUES (?, ?, ?, ?)')
      .run(id, source.file, text, JSON.stringify(source.lines));
  }

  buildSource(id: Digest): BuildSource | undefined {
    const r = this.db.prepare('SELECT file, text, lines FROM image_sources WHERE image_id = ?').get(id) as
      | { file: string; text: string | null; lines: string }
      | undefined;
    return r && { file: r.file, ...(r.text !== null ? { text: r.text } : {}), lines: JSON.parse(r.lines) as BuildSource['lines'] };
  }

  putLayer(diffId: Digest, size: number, blob?: Omit<LayerBlob, 'diffId'>): void {
    immediate(this.db, () => {
      this.db.prepare('INSERT OR IGNORE INTO layers (diff_id, size) VALUES (?, ?)').run(diffId, size);
      if (blob) {
        this.db
          .prepare('INSERT OR IGNORE INTO layer_blobs (diff_id, digest, media_type, size) VALUES (?, ?, ?, ?)')
          .run(diffId, blob.digest, blob.mediaType, blob.size);
      }
    });
  }

  layerSize(diffId: Digest): number | undefined {
    const r = this.db.prepare('SELECT size FROM layers WHERE diff_id = ?').get(diffId) as { size: number } | undefined;
    return r?.size;
  }

  blobsOfLayer(diffId: Digest): LayerBlob[] {
    return (
      this.db.prepare('SELECT diff_id, digest, media_type, size FROM layer_blobs WHERE diff_id = ?').all(diffId) as Array<{
        diff_id: string;
        digest: string;
        media_type: string;
        size: number;
      }>
    ).map((r) => ({ diffId: r.diff_id as Digest, digest: r.digest as Digest, mediaType: r.media_type, size: r.size }));
  }

  allLayers(): Array<{ diffId: Digest; size: number }> {
    return (this.db.prepare('SELECT diff_id, size FROM layers').all() as Array<{ diff_id: string; size: number }>).map((r) => ({
      diffId: r.diff_id as Digest,
      size: r.size,
    }));
  }

  deleteLayer(diffId: Digest): void {
    immediate(this.db, () => {
      this.db.prepare('DELETE FROM layer_blobs WHERE diff_id = ?').run(diffId);
      this.db.prepare('DELETE FROM layer_sources WHERE diff_id = ?').run(diffId);
      this.db.prepare('DELETE FROM layers WHERE diff_id = ?').run(diffId);
    });
  }

  allLayerBlobs(): LayerBlob[] {
    return (
      this.db.prepare('SELECT diff_id, digest, media_type, size FROM layer_blobs').all() as Array<{
        diff_id: string;
        digest: string;
        media_type: string;
        size: number;
      }>
    ).map((r) => ({ diffId: r.diff_id as Digest, digest: r.digest as Digest, mediaType: r.media_type, size: r.size }));
  }

  /** Marks a layer whose tar is not stored: it is regenerated from its unpacked dir. */
  putDirLayer(diffId: Digest, size: number, sourceDateEpoch: number | undefined): void {
    immediate(this.db, () => {
      this.db.prepare('INSERT OR IGNORE INTO layers (diff_id, size) VALUES (?, ?)').run(diffId, size);
      this.db.prepare('INSERT OR REPLACE INTO layer_sources (diff_id, source_date_epoch) VALUES (?, ?)').run(diffId, sourceDateEpoch ?? null);
    });
  }

  /** For a dir-backed layer, the mtime clamp to regenerate its tar with (null: none). */
  dirLayer(diffId: Digest): { sourceDateEpoch?: number } | undefined {
    const r = this.db.prepare('SELECT source_date_epoch FROM layer_sources WHERE diff_id = ?').get(diffId) as { source_date_epoch: number | null } | undefined;
    return r && { sourceDateEpoch: r.source_date_epoch ?? undefined };
  }
}
