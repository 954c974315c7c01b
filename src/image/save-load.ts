/** `save` and `load`: the store to an archive and back, both through copyImage. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { hostPlatform } from '../oci/platform.ts';
import { familiarName, parseReference, withDefaultTag } from '../reference/index.ts';
import { normalizeName } from './names.ts';
import { archiveImages, unpackArchive } from './archive-read.ts';
import { ArchiveImageSink, ArchiveWriter } from './archive-write.ts';
import { copyImage } from './copy.ts';
import { indexSource, localIndex } from './image-index.ts';
import { requireImageId } from './resolve.ts';
import type { ImageSource } from './transfer.ts';
import type { Digest } from '../oci/digest.ts';
import { MAX_DOCUMENT_BYTES } from '../oci/limits.ts';
import { StoreImageSink, StoreImageSource } from './store-transport.ts';
import { recordEvent } from '../store/events.ts';
import type { ImageStores } from './stores.ts';
import type { ImageRecord } from '../store/images.ts';

export async function saveImages(
  stores: ImageStores,
  names: readonly string[],
  outStream: Writable,
  opts: { format?: string; signal?: AbortSignal } = {},
): Promise<void> {
  if (opts.format && opts.format !== 'docker-archive' && opts.format !== 'oci-archive') {
    throw new BerthError('INVALID_ARGUMENT', `unknown save format "${opts.format}"`, { hint: 'use docker-archive or oci-archive' });
  }
  // Resolve everything first: a typo fails before any byte is written.
  const picked = names.map((n) => {
    const id = requireImageId(stores, n);
    stores.lease.add('image', [id]); // kept from a prune while it is written out
    const byId = /^(sha256:)?[a-f0-9]{4,64}$/.test(n) && !stores.images.resolveTag(normalizeName(n));
    return { id, tags: byId ? [] : [normalizeName(n)] };
  });
  const writer = new ArchiveWriter(outStream);
  for (const p of picked) {
    const record = stores.images.get(p.id);
    if (!record) throw new BerthError('NOT_FOUND', `No such image: ${p.id}`);
    // A multi-platform image is saved whole: its index and every platform.
    await writeImage(stores, writer, record, p.tags, p.tags.length ? localIndex(stores, p.tags[0]!) : undefined, opts.signal);
  }
  await writer.finish({ ociRefNames: opts.format === 'oci-archive' });
}

/**
 * Saves one multi-platform image whole, named by `tags` (none: unnamed), from its index as the
 * store holds it: what `build -o type=oci|docker` of several platforms writes.
 */
export async function saveIndex(
  stores: ImageStores,
  index: { digest: Digest; children: readonly ImageRecord[] },
  tags: readonly string[],
  outStream: Writable,
  opts: { format: 'docker-archive' | 'oci-archive'; signal?: AbortSignal },
): Promise<void> {
  const writer = new ArchiveWriter(outStream);
  await writeImage(stores, writer, index.children[0]!, tags.map(normalizeName), index, opts.signal);
  await writer.finish({ ociRefNames: opts.format === 'oci-archive' });
}

async function writeImage(
  stores: ImageStores,
  writer: ArchiveWriter,
  record: ImageRecord,
  tags: readonly string[],
  index: { digest: Digest; children: readonly ImageRecord[] } | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const source = index
    ? await indexSource(
        stores,
        index,
        index.children.map((c) => ({ record: c, source: new StoreImageSource(stores, c) })),
      )
    : new StoreImageSource(stores, record);
  if (index)
    stores.lease.add(
      'image',
      index.children.map((c) => c.id),
    );
  await copyImage(source, new ArchiveImageSink(writer, tags), { signal, allPlatforms: !!index });
  recordEvent('image', 'save', record.id, { name: record.id });
}

/** Loads every image in the archive (a path, `-` for stdin, or a stream); returns docker's output lines. */
export async function loadImages(stores: ImageStores, input: string | Readable, tmpDir: string, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  let dir = tmpDir;
  if (typeof input === 'string' && input !== '-' && (await stat(input).catch(() => undefined))?.isDirectory()) {
    dir = input;
  } else {
    const stream = typeof input !== 'string' ? input : input === '-' ? process.stdin : createReadStream(input);
    await unpackArchive(stream, tmpDir, opts);
  }
  const lines: string[] = [];
  for (const img of await archiveImages(dir)) {
    const tags: string[] = [];
    for (const t of img.tags) {
      try {
        const ref = parseReference(t);
        if (!ref.digest) tags.push(normalizeName(t));
      } catch {
        /* a bare OCI ref name such as "1" names no repository: load untagged */
      }
    }
    const sink = new StoreImageSink(stores, { tags });
    // A multi-platform image comes in whole when the archive holds every platform of it.
    const whole = await holdsEveryPlatform(img.source);
    await copyImage(img.source, sink, { signal: opts.signal, platform: hostPlatform(), allPlatforms: whole });
    const rec = sink.written.at(-1);
    if (!rec) continue;
    recordEvent('image', 'load', rec.id, { name: rec.id });
    if (tags.length) for (const t of tags) lines.push(`Loaded image: ${familiarName(withDefaultTag(parseReference(t)))}`);
    else lines.push(`Loaded image ID: ${rec.id}`);
  }
  if (!lines.length) throw new BerthError('DATA_CORRUPT', 'the archive holds no images');
  return lines;
}

/** Whether a source's root is an index whose platforms' manifests are all there (an archive may hold only some). */
async function holdsEveryPlatform(source: ImageSource): Promise<boolean> {
  const root = await source.rootManifest();
  const doc = JSON.parse(root.bytes.toString()) as { manifests?: Array<{ digest: Digest; size?: number; platform?: { architecture?: string } }> };
  if (!doc.manifests) return false;
  const platforms = doc.manifests.filter((m) => m.platform && m.platform.architecture !== 'unknown');
  if (!platforms.length) return false;
  for (const m of platforms) {
    // Read only within the limit copyImage holds documents to (it refuses a bigger one itself).
    if (typeof m.size !== 'number' || m.size > MAX_DOCUMENT_BYTES) return false;
    const found = await source.manifest(m.digest).then(
      () => true,
      () => false,
    );
    if (!found) return false;
  }
  return true;
}
