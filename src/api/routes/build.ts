/**
 * `POST /build`: the classic builder's endpoint, as docker CLI 28 without buildx, CLI 20.10
 * and dockerode call it. The body is the context as a tar, gzipped or not, unpacked as it
 * arrives (bounded, never held whole); the build itself is berth's builder, and its events
 * are told in the classic builder's words (build-json.ts). A failing step ends the stream
 * with `errorDetail`, whose `code` is the CLI's exit status.
 */
import { isIP } from 'node:net';
import type { StepHost } from '../../builder/step-context.ts';
import { HOST_GATEWAY, splitExtraHost } from '../../container/run-config.ts';
import { BerthError, isBerthError } from '../../errors/index.ts';
import { DEFAULT_BRIDGE, subnetGateway } from '../../network/index.ts';
import { parseUlimit } from '../../runtime/ulimits.ts';
import { loadDockerfile } from '../../dockerfile/index.ts';
import type { ImagePuller } from '../../image/ensure.ts';
import { isTarArchive } from '../../layer/magic.ts';
import { familiarName, parseReference, withDefaultTag } from '../../reference/index.ts';
import { buildImage, StepExitError } from '../../services/build.ts';
import { contextFromStream } from '../../services/build-archive.ts';
import { openBuildCaches } from '../../services/build-remote-cache.ts';
import { imageIdOf } from '../../services/images.ts';
import { type Credentials, pull } from '../../services/registry.ts';
import { classicBuildOutput } from '../build-json.ts';
import type { ApiDeps } from '../deps.ts';
import { type ApiContext, JsonMessageStream } from '../http.ts';
import { registryConfig } from '../registry-auth.ts';
import type { Route } from '../router.ts';
import { route } from '../router.ts';
import { boundedUpload, closeAfterReply, uploadLimit } from '../upload.ts';

/** What a build request asks for, read and checked before its body is. */
interface BuildParams {
  readonly dockerfile?: string;
  readonly tags: readonly string[];
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly labels: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly noCache: boolean;
  readonly pull: boolean;
  readonly quiet: boolean;
  readonly network: string;
  readonly platform?: string;
  /** `extrahosts`, `shmsize`, `ulimits`: what every RUN step's container gets, as `build --add-host/--shm-size/--ulimit`. */
  readonly stepHost?: StepHost;
  /** `cachefrom`: images whose inline or registry cache the build may use. */
  readonly cacheFrom: readonly string[];
}

function stringMap(ctx: ApiContext, key: string): Record<string, string> {
  const v = ctx.query.json<unknown>(key, {});
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BerthError('INVALID_ARGUMENT', `invalid ${key} parameter: not a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    // A null build arg is one the client left to the server's environment: docker leaves it unset.
    if (x === null) continue;
    if (typeof x !== 'string') throw new BerthError('INVALID_ARGUMENT', `invalid ${key} parameter: the value of ${k} is not a string`);
    out[k] = x;
  }
  return out;
}

function buildParams(ctx: ApiContext): BuildParams {
  const q = ctx.query;
  if (q.get('remote')) throw new BerthError('UNSUPPORTED', 'remote build contexts are not supported: send the context as the request body');
  if (q.get('version') === '2') throw new BerthError('UNSUPPORTED', 'BuildKit sessions (version=2) are not supported: use the classic builder (version=1)');
  const tags = q.all('t').filter((t) => t !== '');
  for (const t of tags) parseReference(t); // a bad name fails before the upload
  const network = q.get('networkmode') || 'default';
  if (!['default', 'bridge', 'host', 'none'].includes(network))
    throw new BerthError('UNSUPPORTED', `network mode "${network}" is not supported for builds: use default, host or none`);
  return {
    dockerfile: q.get('dockerfile') || undefined,
    tags,
    buildArgs: new Map(Object.entries(stringMap(ctx, 'buildargs'))),
    labels: stringMap(ctx, 'labels'),
    target: q.get('target') || undefined,
    noCache: q.bool('nocache'),
    pull: q.bool('pull'),
    quiet: q.bool('q'),
    network: network === 'bridge' ? 'default' : network,
    platform: q.get('platform') || undefined,
    stepHost: stepHostParams(ctx),
    cacheFrom: cacheFromParam(ctx),
  };
}

/** More cache sources than any build names is a mistake or an attack: each is a registry round trip. */
const MAX_CACHE_FROM = 32;

/**
 * `cachefrom`: a JSON array of image references, as docker's clients send it. Only references:
 * a `type=local,src=DIR` spec would read the server's files, so none is taken here.
 */
function cacheFromParam(ctx: ApiContext): string[] {
  const v = ctx.query.json<unknown>('cachefrom', []) ?? [];
  if (!Array.isArray(v)) throw new BerthError('INVALID_ARGUMENT', 'invalid cachefrom parameter: not a JSON array of image references');
  if (v.length > MAX_CACHE_FROM) throw new BerthError('INVALID_ARGUMENT', `invalid cachefrom parameter: more than ${MAX_CACHE_FROM} images`);
  return v.map((ref: unknown) => {
    if (typeof ref !== 'string') throw new BerthError('INVALID_ARGUMENT', 'invalid cachefrom parameter: each entry is an image reference string');
    try {
      parseReference(ref);
    } catch (e) {
      throw new BerthError('INVALID_ARGUMENT', `invalid cachefrom parameter: ${JSON.stringify(ref.slice(0, 100))} is not an image reference`, { cause: e });
    }
    return ref;
  });
}

/** The hosts, /dev/shm size and ulimits of the steps' containers; docker's CLI sends `shmsize=0&ulimits=null` for none. */
function stepHostParams(ctx: ApiContext): StepHost | undefined {
  const q = ctx.query;
  const extraHosts = q
    .all('extrahosts')
    .flatMap((v) => v.split(','))
    .filter((v) => v !== '')
    .map((entry) => {
      const { name, ip } = splitExtraHost(entry);
      if (!name || !(ip === HOST_GATEWAY || isIP(ip.replace(/^\[(.*)\]$/, '$1'))))
        throw new BerthError('INVALID_ARGUMENT', `invalid extrahosts parameter: ${JSON.stringify(entry)} is not host:ip`);
      return { name, ip: ip === HOST_GATEWAY ? subnetGateway(DEFAULT_BRIDGE.subnet) : ip.replace(/^\[(.*)\]$/, '$1') };
    });
  const rawShm = q.get('shmsize') || '0';
  if (!/^\d{1,15}$/.test(rawShm)) throw new BerthError('INVALID_ARGUMENT', `invalid shmsize parameter: ${JSON.stringify(rawShm)} is not a number of bytes`);
  const shmSize = Number(rawShm) || undefined;
  const rawUlimits = ctx.query.json<unknown>('ulimits', null) ?? [];
  if (!Array.isArray(rawUlimits)) throw new BerthError('INVALID_ARGUMENT', 'invalid ulimits parameter: not a JSON array');
  const ulimits = rawUlimits.map((u: unknown) => {
    const { Name, Soft, Hard } = (u ?? {}) as { Name?: unknown; Soft?: unknown; Hard?: unknown };
    if (typeof Name !== 'string' || !Number.isSafeInteger(Soft) || !Number.isSafeInteger(Hard))
      throw new BerthError('INVALID_ARGUMENT', 'invalid ulimits parameter: each needs a Name and integer Soft and Hard');
    const spec = `${Name}=${Soft}:${Hard}`;
    parseUlimit(spec); // an unknown name or soft above hard, in docker's words
    return spec;
  });
  return extraHosts.length || shmSize !== undefined || ulimits.length ? { extraHosts, shmSize, ulimits } : undefined;
}

/**
 * The N of `Step k/N`: every instruction of the stages up to the target, FROM lines included.
 * The Dockerfile is parsed here, before the stream starts: a syntax error is an HTTP error
 * in dockerd's words, as the classic builder's is.
 */
function stepCount(content: string, target: string | undefined): number {
  let df: ReturnType<typeof loadDockerfile>;
  try {
    df = loadDockerfile(content);
  } catch (e) {
    if (isBerthError(e, 'SYNTAX'))
      throw new BerthError('INVALID_ARGUMENT', `dockerfile parse error${e.position ? ` line ${e.position.line}` : ''}: ${e.message}`, { cause: e });
    throw e;
  }
  const last = target ? df.stages.findIndex((s) => s.name === target.toLowerCase()) : df.stages.length - 1;
  return df.stages.slice(0, (last < 0 ? df.stages.length - 1 : last) + 1).reduce((n, s) => n + 1 + s.instructions.length, 0);
}

/** A FROM's missing image is pulled with the credentials the client sent for its registry, or none. */
function pullerWith(credentials: ReadonlyMap<string, Credentials>): ImagePuller {
  return {
    pull: (stores, name, opts) =>
      pull(stores, name, { platform: opts.platform, allPlatforms: false, credentials: credentials.get(parseReference(name).registry) ?? null }),
  };
}

/** docker's words for a failed build, and the exit status the CLI takes from `code`. */
function buildFailure(e: unknown): { message: string; code?: number } {
  if (e instanceof StepExitError) return { message: `The command '${e.argv.join(' ')}' returned a non-zero code: ${e.exitCode}`, code: e.exitCode };
  return { message: e instanceof Error ? e.message : String(e) };
}

async function postBuild(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const engine = deps.engine;
  const params = buildParams(ctx);
  const credentials = registryConfig(ctx.req);
  const limit = await uploadLimit(engine.root);
  let input: Awaited<ReturnType<typeof contextFromStream>>;
  try {
    const { head, body } = await boundedUpload(ctx, 'build context', limit);
    if (!isTarArchive(head)) throw new BerthError('INVALID_ARGUMENT', 'the build context is not a tar archive (plain or gzip-compressed)');
    input = await contextFromStream(engine, body, params.dockerfile, { signal: ctx.signal });
  } catch (e) {
    closeAfterReply(ctx);
    throw e;
  }
  let total: number;
  try {
    total = stepCount(input.dockerfile.content, params.target);
  } catch (e) {
    await input.cleanup();
    throw e;
  }
  const stream = new JsonMessageStream(ctx);
  const output = classicBuildOutput(
    (m) => !params.quiet && stream.write(m),
    total,
    (name) => imageIdOf(engine, name)?.slice(7, 19),
    {
      noCache: params.noCache,
    },
  );
  try {
    // The client's credentials reach the cache's registries for this build only; a registry it sent none for is asked anonymously.
    const caches = params.cacheFrom.length
      ? await openBuildCaches(engine, {
          cacheFrom: params.cacheFrom.map((ref) => `type=registry,ref=${ref}`),
          cacheTo: [],
          warn: (text) => output.emit({ kind: 'warning', text }),
          credentials: (registry) => credentials.get(registry) ?? null,
        })
      : undefined;
    const result = await buildImage(
      { ...engine, puller: pullerWith(credentials) },
      {
        contextDir: input.contextDir,
        dockerfile: input.dockerfile,
        tags: params.tags,
        buildArgs: params.buildArgs,
        target: params.target,
        noCache: params.noCache,
        labels: params.labels,
        platform: params.platform,
        network: params.network,
        stepHost: params.stepHost,
        secrets: new Map(),
        pull: params.pull,
        progress: output,
        signal: ctx.signal,
        remoteCache: caches,
      },
    );
    const names = params.tags.map((t) => familiarName(withDefaultTag(parseReference(t))));
    const id = result.index?.digest ?? result.image.id; // a multi-platform build is its index
    if (params.quiet) stream.write({ stream: `${id}\n` });
    else output.finish(id, names);
    stream.end();
  } catch (e) {
    output.failed();
    const { message, code } = buildFailure(e);
    // Every failure once the build has begun goes in the stream, as the classic builder's do.
    stream.write({ errorDetail: code === undefined ? { message } : { code, message }, error: message });
    stream.end();
  } finally {
    await input.cleanup();
  }
}

export function buildRoutes(deps: ApiDeps): Route[] {
  return [route('POST', '/build', (ctx) => postBuild(deps, ctx))];
}
