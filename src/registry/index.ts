/**
 * The OCI distribution client: a registry repository as an ImageSource (pull) and an
 * ImageSink (push), both used through image/copy.ts's copyImage, with docker's auth and
 * credential files.
 */
import { BerthError, isBerthError } from '../errors/index.ts';
import { copyImage } from '../image/copy.ts';
import { indexSource, localIndex } from '../image/image-index.ts';
import { requireImageId } from '../image/resolve.ts';
import { StoreImageSink } from '../image/store-transport.ts';
import type { ImageStores } from '../image/stores.ts';
import type { ProgressEvent } from '../image/transfer.ts';
import { hostPlatform, parsePlatform } from '../oci/platform.ts';
import { formatReference, parseReference, type Reference, repositoryName, withDefaultTag } from '../reference/index.ts';
import type { ImageRecord } from '../store/images.ts';
import { discard } from './body.ts';
import type { Credentials } from './credentials.ts';
import { mirrorsOf } from './hosts.ts';
import { RegistryClient } from './http.ts';
import { pushSource, type CompressionFormat } from './push-source.ts';
import { RegistrySink } from './sink.ts';
import { RegistrySource } from './source.ts';

export { RegistryClient } from './http.ts';
export { RegistrySource } from './source.ts';
export { RegistrySink } from './sink.ts';
export { getCredentials, storeCredentials, eraseCredentials, type Credentials } from './credentials.ts';
export { listTags } from './tags.ts';

export interface PullOptions {
  readonly platform?: string;
  readonly allPlatforms?: boolean;
  readonly insecure?: boolean;
  /** The registry's credentials; `null` for none; read from docker's config when absent. */
  readonly credentials?: Credentials | null;
  readonly signal?: AbortSignal;
  readonly onProgress?: (ev: ProgressEvent) => void;
}

/**
 * Pulls `name`: from each mirror the config file gives its registry, in order, and from the
 * registry itself when none serves it, as docker falls back from its mirrors. A mirror that
 * fails in any way (down, without the image, broken) is passed over; a cancel is not.
 */
export async function pullImage(stores: ImageStores, name: string, opts: PullOptions = {}): Promise<{ record: ImageRecord; digest: string; ref: string }> {
  const ref = withDefaultTag(parseReference(name));
  for (const mirror of mirrorsOf(ref.registry)) {
    // The registry's own credentials are not sent to a mirror; one given none gets none.
    const client = new RegistryClient(new URL(mirror).host, { endpoint: mirror, credentials: opts.credentials === null ? null : undefined });
    try {
      return await pullFrom(client, stores, ref, opts);
    } catch (e) {
      if (isBerthError(e, 'CANCELLED') || opts.signal?.aborted) throw e;
    }
  }
  return pullFrom(new RegistryClient(ref.registry, { insecure: opts.insecure, credentials: opts.credentials }), stores, ref, opts);
}

async function pullFrom(
  client: RegistryClient,
  stores: ImageStores,
  ref: Reference,
  opts: PullOptions,
): Promise<{ record: ImageRecord; digest: string; ref: string }> {
  const sink = new StoreImageSink(stores, { tags: ref.tag ? [formatReference({ ...ref, digest: undefined })] : [], repository: repositoryName(ref) });
  const result = await copyImage(new RegistrySource(client, ref), sink, {
    platform: opts.platform ? parsePlatform(opts.platform) : hostPlatform(),
    allPlatforms: opts.allPlatforms,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  const record = sink.named ?? sink.written.at(-1);
  if (!record) throw new BerthError('NOT_FOUND', `no image was found at ${formatReference(ref)}`);
  return { record, digest: result.root.digest, ref: formatReference(ref) };
}

export interface PushOptions {
  readonly insecure?: boolean;
  /** The registry's credentials; `null` for none; read from docker's config when absent. */
  readonly credentials?: Credentials | null;
  readonly compression?: CompressionFormat;
  readonly signal?: AbortSignal;
  readonly onProgress?: (ev: ProgressEvent) => void;
  readonly onMessage?: (s: string) => void;
}

export async function pushImage(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots' | 'lease'>,
  name: string,
  opts: PushOptions = {},
): Promise<{ digest: string; size: number }> {
  const ref = withDefaultTag(parseReference(name));
  const id = requireImageId(stores, name);
  stores.lease.add('image', [id]); // kept from a prune while its blobs are sent
  const record = stores.images.get(id);
  if (!record) throw new BerthError('NOT_FOUND', `No such image: ${name}`);
  const client = new RegistryClient(ref.registry, { insecure: opts.insecure, credentials: opts.credentials });
  const mountFrom = stores.images
    .repoDigestsOf(id)
    .map((d) => parseReference(d.repository))
    .filter((r) => r.registry === ref.registry)
    .map((r) => r.repository);
  const compression = opts.compression ?? 'auto';
  // A multi-platform image goes up as its index, with every child.
  const index = localIndex(stores, name);
  if (index)
    stores.lease.add(
      'image',
      index.children.map((c) => c.id),
    );
  const source = index
    ? await indexSource(
        stores,
        index,
        await Promise.all(index.children.map(async (c) => ({ record: c, source: await pushSource(stores, c, compression, opts.onMessage) }))),
      )
    : await pushSource(stores, record, compression, opts.onMessage);
  const result = await copyImage(source, new RegistrySink(client, ref, mountFrom), { signal: opts.signal, onProgress: opts.onProgress, allPlatforms: !!index });
  stores.images.put(record, [], [{ repository: repositoryName(ref), digest: result.root.digest }]);
  return { digest: result.root.digest, size: result.root.bytes.length };
}

/** Checks credentials against the registry's /v2/ endpoint. */
export async function checkLogin(registry: string, username: string, password: string, insecure = false): Promise<void> {
  const client = new RegistryClient(registry, { insecure, credentials: { username, password } });
  const res = await client.request('GET', '/v2/', { scope: '' });
  discard(res);
  if (res.statusCode === 401 || res.statusCode === 403) {
    throw new BerthError('UNAUTHORIZED', `login to ${registry} failed: 401 unauthorized: incorrect username or password`);
  }
  if ((res.statusCode ?? 500) >= 400) throw new BerthError('UNAVAILABLE', `login to ${registry} failed: registry answered ${res.statusCode}`);
}
