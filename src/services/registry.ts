/**
 * Registry use cases: pull, push, login, logout. They take the stores they use and plain
 * options, report progress through callbacks, and return what happened; the caller prints.
 */
import { BerthError } from '../errors/index.ts';
import type { ImageStores } from '../image/stores.ts';
import type { ProgressEvent } from '../image/transfer.ts';
import { familiarName, familiarRepository, formatReference, parseReference, repositoryName, withDefaultTag } from '../reference/index.ts';
import { checkLogin, type Credentials, eraseCredentials, listTags, pullImage, pushImage, storeCredentials } from '../registry/index.ts';
import type { CompressionFormat } from '../registry/push-source.ts';
import { recordEvent } from '../store/events.ts';
import type { ImageRecord } from '../store/images.ts';

export type { Credentials };

export interface PullRequest {
  /** `os/arch[/variant]`; the host's by default. */
  readonly platform?: string;
  /**
   * Every platform of an index. By default only for a name that pins an index by its digest
   * (without `platform`): that pull keeps the index whole, so the digest names the same image
   * here as at the registry, and a push of it gives the same index back.
   */
  readonly allPlatforms?: boolean;
  /** Plain HTTP, or HTTPS without verifying the certificate. */
  readonly insecure?: boolean;
  /** The registry's credentials; `null` for none (the API's anonymous requests); docker's config file when absent. */
  readonly credentials?: Credentials | null;
  readonly signal?: AbortSignal;
  /** Called once the name is understood, before anything is fetched (docker's `TAG: Pulling from REPO`). */
  readonly onStart?: (what: { tagOrDigest: string; repository: string }) => void;
  readonly onProgress?: (ev: ProgressEvent) => void;
}

export interface PullResult {
  readonly record: ImageRecord;
  /** Digest of the top manifest or index pulled. */
  readonly digest: string;
  /** The full reference, e.g. `docker.io/library/alpine:latest`. */
  readonly ref: string;
  /** The name as docker shows it, e.g. `alpine:latest`. */
  readonly familiar: string;
}

export async function pull(stores: ImageStores, name: string, opts: PullRequest = {}): Promise<PullResult> {
  const ref = withDefaultTag(parseReference(name));
  opts.onStart?.({ tagOrDigest: (ref.tag ?? ref.digest)!, repository: familiarName({ ...ref, tag: undefined, digest: undefined }).replace(/^library\//, '') });
  const r = await pullImage(stores, name, {
    platform: opts.platform,
    allPlatforms: opts.allPlatforms ?? (!!ref.digest && !opts.platform),
    insecure: opts.insecure,
    credentials: opts.credentials,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  recordEvent('image', 'pull', familiarName(ref), { name: familiarRepository(ref) });
  return { ...r, familiar: familiarName(ref) };
}

/**
 * `pull --all-tags`: every tag the registry lists for the repository, one pull each, in the
 * registry's order. A name with a tag or digest is refused, as docker refuses it.
 */
export async function pullAllTags(
  stores: ImageStores,
  name: string,
  opts: PullRequest = {},
): Promise<{ results: PullResult[]; repository: string; familiar: string }> {
  const ref = parseReference(name);
  if (ref.tag || ref.digest) throw new BerthError('INVALID_ARGUMENT', "tag can't be used with --all-tags/-a");
  const tags = await listTags(ref.registry, ref.repository, { insecure: opts.insecure, credentials: opts.credentials, signal: opts.signal });
  if (!tags.length) throw new BerthError('NOT_FOUND', `${familiarRepository(ref)} has no tags`);
  const results: PullResult[] = [];
  for (const tag of tags) results.push(await pull(stores, formatReference({ ...ref, tag }), opts));
  return { results, repository: repositoryName(ref), familiar: familiarRepository(ref) };
}

export const COMPRESSION_FORMATS: readonly CompressionFormat[] = ['auto', 'gzip', 'none', 'zstd'];

export interface PushRequest {
  readonly insecure?: boolean;
  /** The registry's credentials; `null` for none; docker's config file when absent. */
  readonly credentials?: Credentials | null;
  /** How layers are compressed on the way: auto (gzip unless it does not pay), gzip, none, zstd. */
  readonly compression?: string;
  readonly signal?: AbortSignal;
  /** Called once the name is understood, before anything is sent (docker's `The push refers to repository [REPO]`). */
  readonly onStart?: (what: { repository: string }) => void;
  readonly onProgress?: (ev: ProgressEvent) => void;
  /** Lines about choices made on the way (e.g. a layer sent uncompressed). */
  readonly onMessage?: (line: string) => void;
}

export interface PushResult {
  readonly tag: string;
  /** Digest and byte size of the manifest the registry now holds. */
  readonly digest: string;
  readonly size: number;
}

export async function push(stores: Pick<ImageStores, 'content' | 'images' | 'snapshots' | 'lease'>, name: string, opts: PushRequest = {}): Promise<PushResult> {
  const ref = withDefaultTag(parseReference(name));
  const compression = opts.compression ?? 'auto';
  if (!(COMPRESSION_FORMATS as readonly string[]).includes(compression))
    throw new BerthError('INVALID_ARGUMENT', `unknown compression format "${compression}"`);
  opts.onStart?.({ repository: repositoryName(ref) });
  const r = await pushImage(stores, name, {
    insecure: opts.insecure,
    credentials: opts.credentials,
    compression: compression as CompressionFormat,
    signal: opts.signal,
    onProgress: opts.onProgress,
    onMessage: opts.onMessage,
  });
  recordEvent('image', 'push', familiarName(ref), { name: familiarRepository(ref) });
  return { tag: ref.tag!, ...r };
}

/** The registry host a server argument names: no scheme, no path; `index.docker.io` is docker.io. */
function registryHost(server: string, opts: { dockerIoAlias: boolean }): string {
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return opts.dockerIoAlias ? host.replace(/^index\.docker\.io$/, 'docker.io') : host;
}

/**
 * Checks the credentials at the registry, then stores them in docker's config file. Returns the
 * registry host, and the file that holds them unencrypted when no credential helper took them.
 */
export async function login(
  server: string,
  credentials: { username?: string; password?: string },
  opts: { insecure?: boolean } = {},
): Promise<{ registry: string; unencryptedIn?: string }> {
  const registry = registryHost(server, { dockerIoAlias: true });
  if (!credentials.username) throw new BerthError('INVALID_ARGUMENT', 'a username is required', { hint: 'use -u NAME' });
  if (!credentials.password) throw new BerthError('INVALID_ARGUMENT', 'a password is required', { hint: 'use --password-stdin' });
  await checkLogin(registry, credentials.username, credentials.password, opts.insecure ?? false);
  const stored = await storeCredentials(registry, { username: credentials.username, password: credentials.password });
  return { registry, ...stored };
}

/**
 * Checks credentials at a registry and keeps nothing: the Engine API's `/auth`, where, as with
 * dockerd, the client stores what it logged in with. Returns the registry host.
 */
export async function checkCredentials(
  server: string,
  credentials: { username?: string; password?: string },
  opts: { insecure?: boolean } = {},
): Promise<string> {
  const registry = registryHost(server || 'docker.io', { dockerIoAlias: true });
  if (!credentials.username || !credentials.password) throw new BerthError('INVALID_ARGUMENT', 'a username and a password are required');
  await checkLogin(registry, credentials.username, credentials.password, opts.insecure ?? false);
  return registry;
}

/** Forgets the stored credentials of a registry; says whether there were any. */
export async function logout(server: string): Promise<{ registry: string; removed: boolean }> {
  const registry = registryHost(server, { dockerIoAlias: false });
  return { registry, removed: await eraseCredentials(registry) };
}
