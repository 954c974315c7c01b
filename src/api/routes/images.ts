/**
 * The image endpoints: list, inspect, history, tag, remove, pull and import
 * (`/images/create`), push, save (`/images/get`), load, prune, `/commit` and `/auth`. Names in paths come unescaped with their
 * `/` and `:` (the router's greedy `:name*`); the CLI normalizes a tag target to
 * `docker.io/library/...`, which the store keeps as berth keeps any name.
 */
import { BerthError, isBerthError } from '../../errors/index.ts';
import { familiarName, parseReference, withDefaultTag } from '../../reference/index.ts';
import { pruneStore } from '../../services/gc.ts';
import { historyOf, imageDetails, imageIdOf, importImage, inspectImages, loadImages, saveImages, tagImage, type ImageDetail } from '../../services/images.ts';
import { commitContainer } from '../../services/commit.ts';
import { removeImage } from '../../services/remove-image.ts';
import { checkCredentials, pull, push } from '../../services/registry.ts';
import { isTarArchive } from '../../layer/magic.ts';
import type { ApiDeps } from '../deps.ts';
import { type ApiContext, JsonMessageStream, readJson, sendEmpty, sendJson } from '../http.ts';
import { filterImages, imagePruneSelection } from '../../services/filters/images.ts';
import { queryFilters } from '../filters.ts';
import { historyJson, imageSummaryJson } from '../image-json.ts';
import { pullMessages, pushMessages, type JsonMessage } from '../progress-json.ts';
import { registryAuth } from '../registry-auth.ts';
import { type Route, route } from '../router.ts';
import { boundedUpload, closeAfterReply, uploadLimit } from '../upload.ts';

/** A name from a path or a query, before it reaches a lookup: no control characters, no absurd length. */
function checkName(name: string | undefined, what = 'image name'): string {
  if (!name) throw new BerthError('INVALID_ARGUMENT', `${what} is required`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\x00-\x1f\x7f]/.test(name) || name.length > 512) throw new BerthError('INVALID_ARGUMENT', `invalid ${what} ${JSON.stringify(name.slice(0, 100))}`);
  return name;
}

/** `name` with `tag` (a tag, or a digest) as `fromImage`/`repo` and `tag` give them. */
function withTag(name: string, tag: string | undefined): string {
  if (!tag) return name;
  return tag.startsWith('sha256:') ? `${name}@${tag}` : `${name}:${tag}`;
}

async function listImages(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const filters = queryFilters(ctx);
  const legacy = ctx.query.get('filter'); // API < 1.41's name filter
  const all = await imageDetails(deps.engine);
  const byName = (n: string): ImageDetail | undefined => {
    const id = imageIdOf(deps.engine, n);
    return all.find((i) => i.id === id);
  };
  const withLegacy = legacy ? new Map([...filters, ['reference', [...(filters.get('reference') ?? []), legacy]]]) : filters;
  sendJson(ctx, 200, filterImages(all, withLegacy, byName).map(imageSummaryJson));
}

async function inspect(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const [view] = await inspectImages(deps.engine, [checkName(ctx.params.name)]);
  sendJson(ctx, 200, { ...view, Container: '', ContainerConfig: {} });
}

async function history(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const name = checkName(ctx.params.name);
  const rows = await historyOf(deps.engine, name);
  const [view] = await inspectImages(deps.engine, [name]);
  sendJson(ctx, 200, historyJson(rows, (view?.RepoTags as string[] | undefined) ?? []));
}

function tag(deps: ApiDeps, ctx: ApiContext): void {
  const source = checkName(ctx.params.name);
  const repo = checkName(ctx.query.get('repo'), 'repository name');
  const target = withTag(repo, ctx.query.get('tag'));
  if (target.includes('@')) throw new BerthError('INVALID_ARGUMENT', 'refusing to create a tag with a digest reference');
  tagImage(deps.engine, source, target);
  sendEmpty(ctx, 201);
}

function remove(deps: ApiDeps, ctx: ApiContext): void {
  sendJson(ctx, 200, removeImage(deps.engine, checkName(ctx.params.name), { force: ctx.query.bool('force') }));
}

/**
 * Pull: nothing is sent until the registry has answered for the manifest, so a missing tag
 * or an unreachable registry is an HTTP error (404, 500) as dockerd's are; later failures go
 * in the stream.
 */
async function pullImage(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const from = checkName(ctx.query.get('fromImage'));
  const name = withTag(from, ctx.query.get('tag'));
  const ref = withDefaultTag(parseReference(name));
  const credentials = registryAuth(ctx.req);
  const stream = new JsonMessageStream(ctx);
  const held: JsonMessage[] = [];
  let live = false;
  const write = (m: JsonMessage) => (live ? stream.write(m) : held.push(m));
  const goLive = () => {
    if (live) return;
    live = true;
    for (const m of held.splice(0)) stream.write(m);
  };
  // dockerd skips the layer lines of an image it has (under any name): `Already exists` is
  // held until a layer downloads, and dropped if none does and the image was here before.
  const present: JsonMessage[] = [];
  let downloaded = false;
  const progress = pullMessages((m) => {
    if (m.status === 'Already exists' && !downloaded) return present.push(m);
    if (m.status === 'Pulling fs layer' && !downloaded) {
      downloaded = true;
      for (const p of present.splice(0)) write(p);
    }
    write(m);
  });
  const before = imageIdOf(deps.engine, name);
  const known = new Set(deps.engine.images.list().map((i) => i.id));
  try {
    const r = await pull(deps.engine, name, {
      platform: ctx.query.get('platform') || undefined,
      credentials,
      signal: ctx.signal,
      // dockerd names the repository by its path at the registry: `rnd`, `library/alpine`.
      onStart: (p) => write({ status: `Pulling from ${ref.repository}`, id: p.tagOrDigest }),
      onProgress: (ev) => {
        if (ev.kind !== 'message') goLive();
        progress(ev);
      },
    });
    if (!known.has(r.record.id)) for (const p of present.splice(0)) write(p);
    goLive();
    write({ status: `Digest: ${r.digest}` });
    write({ status: `Status: ${before === r.record.id ? 'Image is up to date' : 'Downloaded newer image'} for ${r.familiar}` });
    stream.end();
  } catch (e) {
    if (!live && isBerthError(e, 'NOT_FOUND'))
      throw new BerthError('NOT_FOUND', `manifest for ${familiarName(ref)} not found: manifest unknown: manifest unknown`, { cause: e });
    if (!live) throw e;
    stream.fail(e);
  }
}

/** `fromSrc=-`: the body is a rootfs tarball, imported as one image (`docker import`). */
async function importFromBody(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  if (ctx.query.get('fromSrc') !== '-') throw new BerthError('UNSUPPORTED', 'importing from a URL is not supported: send the tarball as the body (fromSrc=-)');
  const repo = ctx.query.get('repo');
  const reference = repo ? withTag(checkName(repo, 'repository name'), ctx.query.get('tag')) : undefined;
  if (reference) parseReference(reference);
  let record: Awaited<ReturnType<typeof importImage>>;
  try {
    const { head, body } = await boundedUpload(ctx, 'image tarball', await uploadLimit(deps.engine.root));
    if (!isTarArchive(head)) throw new BerthError('INVALID_ARGUMENT', 'the body is not a tar archive (plain or gzip-compressed)');
    record = await importImage(deps.engine, body, {
      reference,
      changes: ctx.query.all('changes'),
      message: ctx.query.get('message') || undefined,
      platform: ctx.query.get('platform') || undefined,
      source: '-',
      signal: ctx.signal,
    });
  } catch (e) {
    closeAfterReply(ctx);
    throw e;
  }
  const stream = new JsonMessageStream(ctx);
  stream.write({ status: record.id });
  stream.end();
}

async function pushImage(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const name = withTag(checkName(ctx.params.name), ctx.query.get('tag'));
  const credentials = registryAuth(ctx.req);
  if (!imageIdOf(deps.engine, name)) throw new BerthError('NOT_FOUND', `An image does not exist locally with the tag: ${familiarName(parseReference(name))}`);
  const stream = new JsonMessageStream(ctx);
  try {
    const r = await push(deps.engine, name, {
      credentials,
      signal: ctx.signal,
      onStart: (p) => stream.write({ status: `The push refers to repository [${p.repository}]` }),
      onProgress: pushMessages((m) => stream.write(m)),
      onMessage: (text) => stream.write({ status: text }),
    });
    stream.write({ status: `${r.tag}: digest: ${r.digest} size: ${r.size}` });
    stream.write({ progressDetail: {}, aux: { Tag: r.tag, Digest: r.digest, Size: r.size } });
    stream.end();
  } catch (e) {
    stream.fail(e);
  }
}

/** `save`: a docker-archive streamed as it is written; a bad name is an HTTP error, as nothing is sent before every name resolves. */
async function save(deps: ApiDeps, ctx: ApiContext, names: readonly string[]): Promise<void> {
  if (!names.length) throw new BerthError('INVALID_ARGUMENT', 'no image names given (names=)');
  for (const n of names) checkName(n);
  const res = ctx.res!;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/x-tar');
  await saveImages(deps.engine, names, res, { signal: ctx.signal });
  if (!res.writableEnded) res.end();
}

async function load(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  let lines: string[];
  try {
    const { head, body } = await boundedUpload(ctx, 'image archive', await uploadLimit(deps.engine.root));
    if (!isTarArchive(head)) throw new BerthError('INVALID_ARGUMENT', 'the body is not an image archive: not a tar (plain or gzip-compressed)');
    lines = await loadImages(deps.engine, body, { signal: ctx.signal });
  } catch (e) {
    closeAfterReply(ctx);
    throw e;
  }
  const stream = new JsonMessageStream(ctx);
  for (const l of lines) stream.write({ stream: `${l}\n` });
  stream.end();
}

async function prune(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const selection = imagePruneSelection(queryFilters(ctx));
  const r = await pruneStore(deps.engine, { allImages: selection.all, matches: selection.matches });
  sendJson(ctx, 200, { ImagesDeleted: r.deletedImages.length ? r.deletedImages.map((id) => ({ Deleted: id })) : null, SpaceReclaimed: r.reclaimedBytes });
}

/** The config fields a commit's body may set; empty ones (the CLI sends every key) leave the container's. */
const COMMIT_CONFIG_KEYS = ['Cmd', 'Entrypoint', 'Env', 'Labels', 'User', 'WorkingDir', 'ExposedPorts', 'Volumes', 'StopSignal'] as const;

async function commit(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const container = checkName(ctx.query.get('container'), 'container name');
  const repo = ctx.query.get('repo');
  const reference = repo ? withTag(checkName(repo, 'repository name'), ctx.query.get('tag')) : undefined;
  if (reference) parseReference(reference);
  const body = await readJson<unknown>(ctx);
  const config: Record<string, unknown> = {};
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const k of COMMIT_CONFIG_KEYS) {
      const v = (body as Record<string, unknown>)[k];
      if (v === null || v === undefined || v === '' || (typeof v === 'object' && Object.keys(v as object).length === 0)) continue;
      const ok = ['Cmd', 'Entrypoint', 'Env'].includes(k)
        ? Array.isArray(v) && v.every((x) => typeof x === 'string')
        : ['User', 'WorkingDir', 'StopSignal'].includes(k)
          ? typeof v === 'string'
          : typeof v === 'object' && !Array.isArray(v);
      if (!ok) throw new BerthError('INVALID_ARGUMENT', `invalid commit config: ${k} has the wrong type`);
      config[k] = v;
    }
  }
  const record = await commitContainer(deps.engine, container, {
    reference,
    comment: ctx.query.get('comment') || undefined,
    author: ctx.query.get('author') || undefined,
    changes: ctx.query.all('changes').filter((c) => c.trim() !== ''),
    config,
    pause: ctx.query.bool('pause', true),
    signal: ctx.signal,
  });
  sendJson(ctx, 201, { Id: record.id });
}

/** `/auth`: checks the credentials at the registry and keeps nothing (the CLI stores them). */
async function auth(ctx: ApiContext): Promise<void> {
  const body = await readJson<{ username?: unknown; password?: unknown; serveraddress?: unknown }>(ctx);
  for (const k of ['username', 'password', 'serveraddress'] as const) {
    if (body[k] !== undefined && typeof body[k] !== 'string') throw new BerthError('INVALID_ARGUMENT', `invalid ${k}: not a string`);
  }
  await checkCredentials((body.serveraddress as string | undefined) ?? '', { username: body.username as string, password: body.password as string });
  sendJson(ctx, 200, { Status: 'Login Succeeded', IdentityToken: '' });
}

export function imageRoutes(deps: ApiDeps): Route[] {
  return [
    route('GET', '/images/json', (ctx) => listImages(deps, ctx)),
    route('POST', '/images/create', (ctx) => (ctx.query.get('fromSrc') !== undefined ? importFromBody(deps, ctx) : pullImage(deps, ctx))),
    route('POST', '/images/load', (ctx) => load(deps, ctx)),
    route('GET', '/images/get', (ctx) => save(deps, ctx, ctx.query.all('names'))),
    route('POST', '/images/prune', (ctx) => prune(deps, ctx)),
    route('GET', '/images/search', () => {
      throw new BerthError('UNSUPPORTED', 'image search is not supported');
    }),
    route('POST', '/auth', (ctx) => auth(ctx)),
    route('POST', '/commit', (ctx) => commit(deps, ctx)),
    route('GET', '/images/:name*/json', (ctx) => inspect(deps, ctx)),
    route('GET', '/images/:name*/history', (ctx) => history(deps, ctx)),
    route('GET', '/images/:name*/get', (ctx) => save(deps, ctx, [ctx.params.name!])),
    route('POST', '/images/:name*/tag', (ctx) => tag(deps, ctx)),
    route('POST', '/images/:name*/push', (ctx) => pushImage(deps, ctx)),
    route('DELETE', '/images/:name*', (ctx) => remove(deps, ctx)),
  ];
}
