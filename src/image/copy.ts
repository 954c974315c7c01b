/**
 * The one copy loop. Pull, push, save and load are all copyImage(source, sink): resolve the
 * root manifest, walk to the platform manifests wanted, send each missing blob once (in
 * parallel, deduplicated), then the manifests bottom-up so a sink never sees a manifest
 * before its blobs.
 */
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { limitText, MAX_DOCUMENT_BYTES } from '../oci/limits.ts';
import { isIndexMediaType, MediaType } from '../oci/mediatypes.ts';
import { formatPlatform, platformMatches } from '../oci/platform.ts';
import { indexSchema, manifestSchema, type Descriptor, type Manifest, type Platform } from '../oci/schema.ts';
import type { ImageSink, ImageSource, RawManifest, TransferOptions } from './transfer.ts';
import { forEachLimit } from './for-each-limit.ts';

export interface CopyOptions extends TransferOptions {
  /** Which manifest of an index to copy; undefined with `allPlatforms` copies them all. */
  readonly platform?: Platform;
  readonly allPlatforms?: boolean;
  readonly concurrency?: number;
}

export interface CopyResult {
  readonly root: RawManifest;
  /** The image manifests copied (one unless allPlatforms). */
  readonly images: ReadonlyArray<{ manifest: RawManifest; parsed: Manifest; platform?: Platform }>;
}

export function mediaTypeOf(bytes: Buffer, declared?: string): string {
  if (declared && declared !== 'application/json') return declared;
  const doc = JSON.parse(bytes.toString()) as { mediaType?: string; manifests?: unknown };
  if (doc.mediaType) return doc.mediaType;
  return doc.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
}

function parseJson<T>(raw: RawManifest, schema: { parse(v: unknown): T }): T {
  try {
    return schema.parse(JSON.parse(raw.bytes.toString()));
  } catch (e) {
    throw new BerthError('DATA_CORRUPT', `manifest ${raw.digest} is not valid: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}

/**
 * A manifest or config is read into memory whole, so one whose descriptor claims more than
 * 4 MiB (oci/limits.ts) is refused before it is fetched: it would be streamed to disk
 * within its size, and then read back.
 */
function documentSize(desc: Descriptor, kind: string, source: ImageSource): Descriptor {
  if (desc.size <= MAX_DOCUMENT_BYTES) return desc;
  throw new BerthError(
    'DATA_CORRUPT',
    `the ${kind} ${desc.digest} of ${source.description} is ${desc.size} bytes, more than the ${limitText(MAX_DOCUMENT_BYTES)} berth reads`,
    {
      hint: `a ${kind} is a small JSON document: this image is broken or hostile`,
    },
  );
}

export async function copyImage(source: ImageSource, sink: ImageSink, opts: CopyOptions = {}): Promise<CopyResult> {
  const root = await source.rootManifest(opts);
  const rootType = mediaTypeOf(root.bytes, root.mediaType);
  if (rootType === MediaType.DockerManifestSchema1 || rootType === MediaType.DockerManifestSchema1Signed) {
    throw new BerthError('UNSUPPORTED', `${source.description} uses the Docker schema1 manifest format, which berth does not support`, {
      hint: 'push the image again with a current docker or skopeo',
    });
  }
  const chosen: Array<{ desc?: Descriptor; raw: RawManifest; platform?: Platform }> = [];
  if (isIndexMediaType(rootType)) {
    const index = parseJson(root, indexSchema);
    const candidates = index.manifests.filter((m) => m.platform && m.platform.architecture !== 'unknown');
    const picked =
      opts.allPlatforms || !opts.platform
        ? opts.allPlatforms
          ? candidates
          : candidates.slice(0, 1)
        : candidates.filter((m) => platformMatches(opts.platform!, m.platform!)).slice(0, 1);
    if (picked.length === 0) {
      const have = candidates.map((m) => formatPlatform(m.platform!)).join(', ') || 'none';
      throw new BerthError(
        'NOT_FOUND',
        `no matching manifest for ${opts.platform ? formatPlatform(opts.platform) : 'this platform'} in ${source.description}`,
        {
          hint: `the image provides: ${have}`,
        },
      );
    }
    for (const d of picked) {
      documentSize(d, 'manifest', source);
      chosen.push({ desc: d, raw: await source.manifest(d.digest, opts), platform: d.platform });
    }
  } else {
    chosen.push({ raw: { ...root, mediaType: rootType } });
  }

  const images = chosen.map((c) => ({ manifest: c.raw, parsed: parseJson(c.raw, manifestSchema), platform: c.platform }));
  const blobs = new Map<Digest, Descriptor>();
  for (const img of images) for (const d of [img.parsed.config, ...img.parsed.layers]) blobs.set(d.digest, d);
  const copyBlob = async (desc: Descriptor) => {
    if (await sink.hasBlob(desc, opts)) {
      opts.onProgress?.({ kind: 'blob-done', digest: desc.digest, skipped: 'exists', label: desc.mediaType });
      return;
    }
    opts.onProgress?.({ kind: 'blob-start', digest: desc.digest, size: desc.size, label: desc.mediaType });
    // Bytes as they come, for progress: counted at the source, whichever way the sink reads.
    let bytes = 0;
    let last = 0;
    const count = <T extends Readable | 'unsupported'>(s: T, from = 0): T => {
      if (typeof s === 'string' || !opts.onProgress) return s;
      if (from) bytes = Math.max(bytes, from);
      s.on('data', (c: Buffer) => {
        bytes += c.length;
        if (Date.now() - last >= 100) {
          last = Date.now();
          opts.onProgress!({ kind: 'blob-progress', digest: desc.digest, bytes: Math.min(bytes, desc.size), size: desc.size });
        }
      });
      return s;
    };
    const openRange = source.openBlobRange
      ? async (start: number, end: number, o: TransferOptions) => count(await source.openBlobRange!(desc, start, end, { ...opts, ...o }))
      : undefined;
    const how = await sink.putBlob(desc, async (start) => count(await source.openBlob(desc, { ...opts, start }), start), { ...opts, openRange });
    opts.onProgress?.({ kind: 'blob-done', digest: desc.digest, ...(how === 'mounted' ? { skipped: 'mounted' as const } : {}) });
  };
  // Configs first: a sink that unpacks layers learns their diffIDs from them, and can then
  // unpack each layer while it downloads.
  const configs = new Map(images.map((img) => [img.parsed.config.digest, documentSize(img.parsed.config, 'config', source)]));
  await forEachLimit([...configs.values()], opts.concurrency ?? 4, copyBlob);
  for (const img of images) await sink.expectLayers?.(img.parsed.config, img.parsed.layers);
  await forEachLimit(
    [...blobs.values()].filter((d) => !configs.has(d.digest)),
    opts.concurrency ?? 4,
    copyBlob,
  );
  for (const img of images) await sink.putManifest(img.manifest, { ...opts, platform: img.platform });
  if (isIndexMediaType(rootType) && opts.allPlatforms) await sink.putManifest({ ...root, mediaType: rootType }, opts);
  await sink.finish?.({ ...root, mediaType: rootType }, opts);
  return { root, images };
}
