/**
 * Image use cases as the CLI and the API call them: list, tag, inspect, history, import,
 * save and load. Each takes the stores it uses and plain options, and returns data; the
 * caller formats it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { importRootfs } from '../image/import.ts';
import { familiarTag, imageHistory, inspectImage, type HistoryRow } from '../image/inspect.ts';
import { normalizeName } from '../image/names.ts';
import { indexChildFor, localIndex, platformOf } from '../image/image-index.ts';
import { findImageId, loadImage, requireImageId } from '../image/resolve.ts';
import { MediaType } from '../oci/mediatypes.ts';
import { BerthError } from '../errors/index.ts';
import { loadImages as loadArchive, saveImages as saveArchive } from '../image/save-load.ts';
import type { ImageStores } from '../image/stores.ts';
import type { Digest } from '../oci/digest.ts';
import { formatPlatform, parsePlatform, platformMatches } from '../oci/platform.ts';
import { recordEvent } from '../store/events.ts';
import { familiarRepository, parseReference } from '../reference/index.ts';
import type { ImageRecord } from '../store/images.ts';
import { type FilterArgs, filterImages } from './filters/index.ts';

export type { HistoryRow };

/** One row of `images`: an image under one of its names (`<none>` when it has none). */
export interface ImageSummary {
  readonly id: Digest;
  readonly repository: string;
  readonly tag: string;
  /** The first repo digest the image is known by at a registry, or `<none>`. */
  readonly digest: string;
  readonly created?: string;
  readonly size: number;
}

/** Every image once per name, in the store's order; `repository` keeps only that repository's (or that name's) rows. */
export function listImages(stores: Pick<ImageStores, 'images'>, opts: { repository?: string } = {}): ImageSummary[] {
  const rows: ImageSummary[] = [];
  const { children } = stores.images.indexes();
  for (const img of stores.images.list()) {
    const tags = stores.images.tagsOf(img.id).map(familiarTag);
    // A platform of a multi-platform image is listed under its tag, or, pulled by digest, as the one the digest names.
    if (!tags.length && children.has(img.id) && !stores.images.repoDigestsOf(img.id).length) continue;
    const digest = stores.images.repoDigestsOf(img.id)[0]?.digest ?? '<none>';
    for (const t of tags.length ? tags : ['<none>:<none>']) {
      const i = t.lastIndexOf(':');
      const repository = t.slice(0, i);
      if (opts.repository && repository !== opts.repository && t !== opts.repository) continue;
      rows.push({ id: img.id, repository, tag: t.slice(i + 1), digest, created: img.created, size: img.size });
    }
  }
  return rows;
}

/** One image with all its names, as the Engine API lists them (`GET /images/json`). */
export interface ImageDetail {
  readonly id: Digest;
  /** Familiar names: `bb:1`, `127.0.0.1:5000/cap:1`. */
  readonly tags: readonly string[];
  /** `NAME@sha256:...` for each registry the image is known at. */
  readonly repoDigests: readonly string[];
  readonly created?: string;
  readonly size: number;
  readonly labels: Readonly<Record<string, string>> | null;
}

/** Every image once, with its names and labels (read from its config). */
export async function imageDetails(stores: Pick<ImageStores, 'content' | 'images'>): Promise<ImageDetail[]> {
  const out: ImageDetail[] = [];
  for (const img of stores.images.list()) {
    const config = await loadImage(stores, img.id).then(
      (l) => l.config,
      () => undefined, // a record whose blobs are gone still lists, as `images` does
    );
    out.push({
      id: img.id,
      tags: stores.images.tagsOf(img.id).map(familiarTag),
      repoDigests: stores.images.repoDigestsOf(img.id).map((d) => `${familiarRepository(parseReference(d.repository))}@${d.digest}`),
      created: img.created,
      size: img.size,
      labels: config?.config?.Labels ?? null,
    });
  }
  return out;
}

/**
 * `images` with `--filter`: the rows of `listImages` whose image, and whose name when a
 * `reference` filter narrows the names, the filters keep (filters/images.ts).
 */
export async function listImagesFiltered(
  stores: Pick<ImageStores, 'content' | 'images'>,
  opts: { repository?: string; filters: FilterArgs },
): Promise<ImageSummary[]> {
  const details = await imageDetails(stores);
  const byName = (n: string) => {
    const id = imageIdOf(stores, n);
    return details.find((d) => d.id === id);
  };
  const kept = new Map(filterImages(details, opts.filters, byName).map((d) => [d.id, d]));
  return listImages(stores, opts).filter((row) => {
    const d = kept.get(row.id);
    return d !== undefined && (d.tags.length === 0 || d.tags.includes(`${row.repository}:${row.tag}`));
  });
}

/** The id of the image a name or id names, or undefined when there is none (or the name is not one). */
export function imageIdOf(stores: Pick<ImageStores, 'images'>, nameOrId: string): Digest | undefined {
  try {
    return findImageId(stores, nameOrId);
  } catch {
    return undefined;
  }
}

/** `tag SOURCE TARGET`: TARGET names the image SOURCE names. */
export function tagImage(stores: Pick<ImageStores, 'images'>, source: string, target: string): void {
  const id = requireImageId(stores, source);
  const index = localIndex(stores, source);
  stores.images.tag(normalizeName(target), id, index && { digest: index.digest, children: index.children.map((c) => c.id) });
  recordEvent('image', 'tag', id, { name: familiarTag(normalizeName(target)) });
}

/** Docker's `image inspect` JSON of each named image, in order; an unknown name fails them all. */
export async function inspectImages(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
  names: readonly string[],
  opts: { platform?: string } = {},
): Promise<Array<Record<string, unknown>>> {
  const want = opts.platform ? parsePlatform(opts.platform) : undefined;
  const views = [];
  for (const n of names) {
    const id = requireImageId(stores, n);
    const index = localIndex(stores, n);
    if (want) {
      // `--platform`: that platform's image, from a multi-platform image or as the image is.
      const child = index ? indexChildFor(stores, n, want) : stores.images.get(id);
      if (!child || (!index && !platformMatches(want, platformOf(child))))
        throw new BerthError('NOT_FOUND', `image with reference ${n} was found but does not provide the specified platform (${formatPlatform(want)})`);
      views.push(await inspectImage(stores, child.id));
      continue;
    }
    const view = await inspectImage(stores, id);
    // A multi-platform image is its index, as docker's containerd store shows it.
    if (index) view.Descriptor = { mediaType: MediaType.OciIndex, digest: index.digest, size: (await stores.content.readBytes(index.digest)).length };
    views.push(view);
  }
  return views;
}

/** The history rows of the named image, newest first. */
export async function historyOf(stores: Pick<ImageStores, 'content' | 'images'>, name: string): Promise<HistoryRow[]> {
  return imageHistory(stores, requireImageId(stores, name));
}

export interface ImportImageOptions {
  /** `name[:tag]` for the new image. */
  readonly reference?: string;
  /** Dockerfile instructions applied to its config (`--change`). */
  readonly changes?: readonly string[];
  readonly message?: string;
  /** What the tarball was called, for messages. */
  readonly source?: string;
  /** `os/arch[/variant]` the image claims. */
  readonly platform?: string;
  readonly signal?: AbortSignal;
}

/** `import`: a rootfs tarball read from `input` becomes a one-layer image. */
export async function importImage(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
  input: Readable,
  opts: ImportImageOptions = {},
): Promise<ImageRecord> {
  const tags = opts.reference ? [normalizeName(opts.reference)] : [];
  const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
  const rec = await importRootfs(stores, input, { tags, changes: opts.changes, message: opts.message, source: opts.source, platform, signal: opts.signal });
  recordEvent('image', 'import', rec.id, { name: rec.id });
  return rec;
}

/** `save`: the named images as one docker-archive (or oci-archive) tar stream. */
export function saveImages(
  stores: ImageStores,
  names: readonly string[],
  output: Writable,
  opts: { format?: string; signal?: AbortSignal } = {},
): Promise<void> {
  return saveArchive(stores, names, output, opts);
}

/**
 * `load`: every image in a tar archive (a path, `-` for stdin, or a stream) or an OCI layout directory.
 * Returns docker's lines (`Loaded image: NAME`). The archive is unpacked in a temp dir under
 * the state root, which this process's lease keeps from a prune until it is gone.
 */
export async function loadImages(
  stores: ImageStores & { readonly root: string },
  input: string | Readable,
  opts: { signal?: AbortSignal } = {},
): Promise<string[]> {
  stores.lease.hold();
  const tmp = await mkdtemp(join(stores.root, 'tmp-load-'));
  try {
    return await loadArchive(stores, input, tmp, opts);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
