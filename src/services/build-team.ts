/**
 * What a team's build adds around the builder: `--build-context` values resolved to named
 * contexts (an `oci-layout://` image is copied into the store first), and the
 * `--metadata-file` record, in buildx's keys.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BuildResult } from '../builder/builder.ts';
import { namedContextOf, parseNamedContext, type NamedContext } from '../builder/named-contexts.ts';
import { BerthError } from '../errors/index.ts';
import { archiveImages } from '../image/archive-read.ts';
import { copyImage } from '../image/copy.ts';
import { normalizeName } from '../image/names.ts';
import { StoreImageSink } from '../image/store-transport.ts';
import type { ImageStores } from '../image/stores.ts';
import { hostPlatform } from '../oci/platform.ts';

/** `oci-layout://DIR[:TAG|@DIGEST]`: the image of the layout that the tag (ref.name) or digest names, or its only one. */
async function ociLayoutImage(stores: ImageStores, name: string, spec: string): Promise<NamedContext> {
  const m = /^(.*?)(?:@(sha256:[a-f0-9]{64})|:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?$/.exec(spec)!;
  const dir = resolve(m[1]!);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new BerthError('NOT_FOUND', `--build-context ${name}: OCI layout ${m[1]} not found`);
  const images = await archiveImages(dir);
  const [digest, tag] = [m[2], m[3]];
  const chosen = [];
  for (const img of images) {
    if (digest ? (await img.source.rootManifest()).digest === digest : tag ? img.tags.some((t) => t === tag || t.endsWith(`:${tag}`)) : true) chosen.push(img);
  }
  if (chosen.length !== 1)
    throw new BerthError(
      chosen.length ? 'INVALID_ARGUMENT' : 'NOT_FOUND',
      `--build-context ${name}: ${chosen.length ? 'several images' : 'no image'} in ${m[1]} match`,
      {
        hint: 'name one with oci-layout://DIR:TAG or oci-layout://DIR@sha256:DIGEST',
      },
    );
  const sink = new StoreImageSink(stores, { tags: [] });
  await copyImage(chosen[0]!.source, sink, { platform: hostPlatform() });
  const rec = sink.written.at(-1);
  if (!rec) throw new BerthError('DATA_CORRUPT', `--build-context ${name}: the OCI layout gave no image`);
  return { kind: 'image', ref: rec.id };
}

/** Each `--build-context NAME=VALUE` as the builder's named context. */
export async function resolveNamedContexts(stores: ImageStores, values: readonly string[]): Promise<Map<string, NamedContext>> {
  const out = new Map<string, NamedContext>();
  for (const v of values) {
    const { name, value } = parseNamedContext(v);
    if (out.has(name)) throw new BerthError('INVALID_ARGUMENT', `--build-context ${name} given twice`);
    out.set(name, value.startsWith('oci-layout://') ? await ociLayoutImage(stores, name, value.slice('oci-layout://'.length)) : namedContextOf(name, value));
  }
  return out;
}

/** buildx's `--metadata-file` keys for an image the build made (and pushed: its manifest is then the registry's). */
export async function buildMetadata(
  stores: Pick<ImageStores, 'content'>,
  result: BuildResult,
  tags: readonly string[],
  pushed?: { readonly digest: string; readonly size: number },
): Promise<Record<string, unknown>> {
  const img = result.image;
  const size =
    pushed?.size ??
    (await stores.content.readBytes(img.manifestDigest).then(
      (b) => b.length,
      () => undefined,
    ));
  const digest = pushed?.digest ?? img.manifestDigest;
  return {
    'containerimage.config.digest': img.id,
    'containerimage.descriptor': { mediaType: img.manifestMediaType, digest, ...(size !== undefined ? { size } : {}) },
    'containerimage.digest': digest,
    ...(tags.length ? { 'image.name': tags.map(normalizeName).join(',') } : {}),
  };
}
