/**
 * `build`: Dockerfile → the plan of stages the target needs (dockerfile/plan.ts: a DAG through
 * FROM <stage>, COPY --from and RUN --mount from=) → those stages, independent ones in
 * parallel → an image in the store, tagged.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mark } from '../progress/timing.ts';
import { commitImage } from '../image/commit.ts';
import { normalizeName } from '../image/names.ts';
import { ensureImage } from '../image/ensure.ts';
import { resolveImage } from '../image/resolve.ts';
import { findStage, loadDockerfile, planBuild, type PlannedStage } from '../dockerfile/index.ts';
import { isDigest } from '../oci/digest.ts';
import { DEFAULT_PATH } from '../runtime/index.ts';
import { formatPlatform, hostPlatform } from '../oci/platform.ts';
import type { History, ImageConfig, Platform } from '../oci/schema.ts';
import type { ProgressSink } from '../progress/index.ts';
import type { BuildSource, ImageRecord } from '../store/images.ts';
import { randomHex } from '../sys/crypto.ts';
import { BuildContext } from './context.ts';
import type { CopyEnv } from './copy-step.ts';
import { runInstruction, runOnBuild, type StageRun } from './stage.ts';
import { chainKey, type StageState } from './state.ts';
import { llbOf, startFromImage, startFromStage } from './llb-view.ts';
import type { BuildDevices } from './devices.ts';
import type { RemoteCache } from './remote-cache/types.ts';
import type { BuilderDeps, StepContext, StepHost } from './step-context.ts';
import { openSshAgents, type SshAgents, type SshSpec } from './ssh.ts';
import { contextKey, type NamedContext } from './named-contexts.ts';
import { commitPlatforms, newSharedWork, parsePlatformList, type PlatformIndex, stagePlatform, type SharedWork } from './multi-platform.ts';

export interface BuildOptions {
  readonly contextDir?: string;
  /** The context opened already (the CLI lints with its listing); opened here otherwise. */
  readonly context?: BuildContext;
  readonly dockerfile: { readonly path: string; readonly content: string };
  readonly tags: readonly string[];
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly target?: string;
  readonly noCache: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly platform?: string;
  readonly network: string;
  readonly secrets: ReadonlyMap<string, Buffer>;
  readonly sourceDateEpoch?: number;
  readonly pull?: boolean;
  readonly progress: ProgressSink;
  readonly signal?: AbortSignal;
  /** CDI devices: the `device` entitlement and `--device` (devices.ts). */
  readonly devices?: BuildDevices;
  /** --cache-from and --cache-to (remote-cache/). */
  readonly remoteCache?: RemoteCache & { readonly inline: boolean; readonly buildkitKeys: boolean };
  /** `--ssh`: the agents or key files `RUN --mount=type=ssh` may forward (ssh.ts). */
  readonly ssh?: readonly SshSpec[];
  /** `--add-host`, `--shm-size`, `--ulimit`: what every RUN step's container gets. */
  readonly stepHost?: StepHost;
  /** `--build-context NAME=…`: what `FROM NAME`, `COPY --from=NAME` and `--mount from=NAME` use instead (named-contexts.ts). */
  readonly namedContexts?: ReadonlyMap<string, NamedContext>;
}

export interface BuildResult {
  /** The image built; of a multi-platform build, the child the tags point at (multi-platform.ts). */
  readonly image: ImageRecord;
  readonly config: ImageConfig;
  readonly stage: StageState;
  /** A build for several platforms: the OCI index over its images, which the tags hold. */
  readonly index?: PlatformIndex;
}

/** One platform's build, before its image is committed. */
export interface PlatformBuild {
  readonly config: ImageConfig;
  readonly layers: StageState['layers'];
  readonly imageKey: string;
  readonly stage: StageState;
  /** Per history entry of `config`, the Dockerfile lines of the instruction that made it (null: a base image's). */
  readonly sourceLines: BuildSource['lines'];
}

/**
 * Builds for the platform `--platform` names, or for each of a list of them (`linux/amd64,linux/arm64`)
 * into one index: the platforms' builds share every step whose cache key is the same (a
 * `FROM --platform=$BUILDPLATFORM` stage runs once).
 */
export async function build(engine: BuilderDeps, opts: BuildOptions): Promise<BuildResult> {
  const platforms = parsePlatformList(opts.platform);
  const shared = newSharedWork(platforms.length);
  engine.lease.hold(); // what the build makes, its temp dir first, is kept from prune until it ends
  if (platforms.length <= 1) {
    const built = await buildPlatform(engine, opts, platforms[0], shared);
    const image = await commitBuilt(engine, opts, built, opts.tags.map(normalizeName));
    return { ...image, stage: built.stage };
  }
  const built = await Promise.all(platforms.map((p) => buildPlatform(engine, opts, p, shared)));
  const images = [];
  for (const b of built) {
    const image = await commitBuilt(engine, opts, b, []);
    engine.lease.add('image', [image.image.id]); // untagged until the index names it
    images.push({ ...image, stage: b.stage });
  }
  return commitPlatforms(engine, images, opts.tags.map(normalizeName));
}

/** Records a platform's image (its config, manifest and layers), tagged with `tags`. */
async function commitBuilt(
  engine: BuilderDeps,
  opts: BuildOptions,
  built: PlatformBuild,
  tags: readonly string[],
): Promise<{ image: ImageRecord; config: ImageConfig }> {
  // A fully cached build gives the same image (same config digest), as BuildKit does:
  // the config of the last build with this exact chain is reused, timestamps included.
  const previous = opts.noCache ? undefined : await previousConfig(engine, built.imageKey);
  // The image's records wait for its layers to be on disk (Snapshotter.durable), while its
  // blobs are fsynced.
  const image = await commitImage(engine, previous?.config ?? built.config, built.layers, tags, {
    configBytes: previous?.bytes,
    layersSynced: engine.snapshots.durable(),
  });
  mark('image committed');
  if (previous) engine.buildCache.recordHit(built.imageKey);
  else engine.buildCache.putConfig(built.imageKey, image.id);
  // For image explain, which names the line behind each layer without being given the Dockerfile.
  engine.images.putBuildSource(image.id, { file: basename(opts.dockerfile.path), text: opts.dockerfile.content, lines: built.sourceLines });
  return { image, config: previous?.config ?? built.config };
}

/** Runs the stages the target needs for one platform (undefined: none asked for, the host's). */
async function buildPlatform(engine: BuilderDeps, opts: BuildOptions, asked: Platform | undefined, shared: SharedWork): Promise<PlatformBuild> {
  const df = loadDockerfile(opts.dockerfile.content, opts.dockerfile.path);
  const platform = asked ?? hostPlatform();
  const planOptions = { buildArgs: opts.buildArgs, targetPlatform: platform, buildPlatform: hostPlatform() };
  const plan = planBuild(df, { ...planOptions, target: opts.target || undefined });
  const planned = new Map(plan.stages.map((s) => [s.index, s]));
  /** An exported cache also gets BuildKit's keys, which need BuildKit's view of each stage (llb-view.ts). */
  const buildkitKeys = !!opts.remoteCache?.buildkitKeys;
  /** A planned stage; one that only a `--from` naming it through a base image's ENV reaches is planned when asked for. */
  const stagePlan = (index: number): PlannedStage =>
    planned.get(index) ?? planBuild(df, { ...planOptions, target: String(index) }).stages.find((s) => s.index === index)!;

  const tmpDir = join(engine.root, 'tmp', `build-${randomHex(6)}`);
  const context =
    opts.context ??
    (opts.contextDir
      ? await BuildContext.open(opts.contextDir, opts.dockerfile.path, engine.fileHashes, { warn: (text) => opts.progress.emit({ kind: 'warning', text }) })
      : undefined);
  const views: string[] = [];
  /** What steps started and left running (see StepContext.background). */
  const started: Promise<unknown>[] = [];
  const results = new Map<number, Promise<StageState>>();
  /** The Dockerfile lines behind each history entry this build made (ONBUILD triggers' and base images' have none). */
  const linesOf = new WeakMap<History, readonly [number, number]>();
  const ssh: SshAgents | undefined = opts.ssh?.length ? await openSshAgents(opts.ssh) : undefined;
  const ctx: StepContext = {
    engine,
    sharedSteps: shared.steps,
    progress: opts.progress,
    network: opts.network,
    sourceDateEpoch: opts.sourceDateEpoch,
    signal: opts.signal,
    devices: opts.devices,
    remoteCache: opts.remoteCache,
    host: opts.stepHost,
    background: (work) => void started.push(work.catch(() => undefined)),
    mountEnv: {
      cacheDir: join(engine.root, 'build-cache-mounts'),
      leaseCacheMount: (name) => engine.lease.add('cachemount', [name]),
      secrets: opts.secrets,
      contextDir: opts.contextDir ?? tmpDir,
      rootfsOf: async (from) => (await rootfsOf(from, true)).rootfs,
      onCacheMount: opts.remoteCache && ((id, dir, sharing) => opts.remoteCache!.cacheMount(id, dir, sharing)),
      ssh,
    },
  };
  const created = opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000).toISOString() : new Date().toISOString();

  /**
   * Mounts a stage's or image's filesystem: a read-only view for COPY --from, a snapshot of
   * its own for RUN --mount=from (a `rw` bind writes into it, and the writes go with it).
   */
  const rootfsOf = async (from: string, writable = false): Promise<{ rootfs: string; key: string }> => {
    const idx = findStage(df, from);
    const named = idx === undefined ? opts.namedContexts?.get(from) : undefined;
    // A directory context is read where it is, as the build context is.
    if (named?.kind === 'dir') return { rootfs: named.path, key: await contextKey(await dirContext(named.path)) };
    let layers: string[];
    let key: string;
    if (idx !== undefined) {
      const st = await buildStage(idx);
      layers = st.layers.map((l) => l.diffId);
      key = st.cacheKey;
    } else {
      const img = named ? await ensureImage(engine, named.ref, { pull: 'missing', log: () => undefined }) : await resolveImage(engine, from);
      layers = img.config.rootfs.diff_ids;
      key = img.record.id;
    }
    const viewKey = `view-${randomHex(8)}`;
    views.push(viewKey);
    const snap = writable ? await engine.snapshots.prepare(viewKey, layers as never) : await engine.snapshots.view(viewKey, layers as never);
    return { rootfs: snap.rootfs, key };
  };
  const copyEnv: CopyEnv = { context, rootfsOf, tmpDir };
  /** Directory contexts, each opened (its listing read) once. */
  const dirContexts = new Map<string, Promise<BuildContext>>();
  const dirContext = (dir: string): Promise<BuildContext> => {
    let c = dirContexts.get(dir);
    if (!c) dirContexts.set(dir, (c = BuildContext.open(dir, join(dir, 'Dockerfile'), engine.fileHashes)));
    return c;
  };

  const baseState = async (s: PlannedStage): Promise<StageState> => {
    if (s.base.kind === 'stage') {
      const st = await buildStage(s.base.index);
      const state = { ...st, args: new Map(), cmdSet: false, cacheKey: chainKey(st.cacheKey, 'from-stage') };
      startFromStage(state, st);
      return state;
    }
    // `FROM --platform=…` gives the stage's platform; else it is the one asked for.
    const own = stagePlatform(s.platform, asked);
    if (s.base.kind === 'scratch') {
      const p = own ?? platform;
      return {
        layers: [],
        config: {
          architecture: p.architecture,
          os: p.os,
          ...(p.variant ? { variant: p.variant } : {}),
          config: { Env: [`PATH=${DEFAULT_PATH}`] },
          rootfs: { type: 'layers', diff_ids: [] },
          history: [],
        },
        args: new Map(),
        cacheKey: chainKey('scratch', p),
        escape: df.parsed.escape,
        cmdSet: false,
      };
    }
    const named = opts.namedContexts?.get(s.base.ref);
    if (named?.kind === 'dir') return await dirBase(s, named.path);
    const ref = named?.ref ?? s.base.ref;
    const wanted = own ? formatPlatform(own) : undefined;
    const img = await shared.base(`${ref}\0${wanted ?? ''}`, () =>
      ensureImage(engine, ref, {
        pull: opts.pull ? 'always' : 'missing',
        platform: wanted,
        log: (text) => opts.progress.emit({ kind: 'message', text: text.trimEnd() }),
      }),
    );
    const layers = img.config.rootfs.diff_ids.map((d) => ({ diffId: d, size: engine.images.layerSize(d) ?? 0 }));
    const { created: _c, ...config } = img.config;
    // As BuildKit: a base image without PATH gets the default one.
    const env = config.config?.Env ?? [];
    const withPath = env.some((e) => e.startsWith('PATH=')) ? env : [`PATH=${DEFAULT_PATH}`, ...env];
    const state: StageState = {
      layers,
      config: { ...config, config: { ...(config.config ?? {}), Env: withPath }, history: [...(img.config.history ?? [])] },
      args: new Map(),
      cacheKey: chainKey('image', img.record.id),
      escape: df.parsed.escape,
      cmdSet: false,
    };
    if (buildkitKeys) startFromImage(state, img.config.rootfs.diff_ids, config.config);
    return state;
  };

  /** `FROM NAME` of a directory context: its files in one layer on scratch, as `COPY . /` puts them. */
  const dirBase = async (s: PlannedStage, dir: string): Promise<StageState> => {
    const scratch = await baseState({ ...s, base: { kind: 'scratch' } });
    const copy = loadDockerfile('FROM scratch\nCOPY . /\n', 'build-context').stages[0]!.instructions[0]!;
    const run = stageRun(`context ${s.from.image}`, { ...copyEnv, context: await dirContext(dir) });
    return await runInstruction(run, scratch, copy, 1, 1);
  };

  const stageRun = (stageLabel: string, env: CopyEnv): StageRun => ({
    ctx,
    copyEnv: env,
    noCache: opts.noCache,
    created,
    buildArgs: opts.buildArgs,
    argDefaults: plan.globalArgs,
    stageLabel: `${shared.label(asked)}${stageLabel}`,
    nextStep: shared.nextStep,
    ...(buildkitKeys
      ? {
          llb: {
            network: opts.network,
            context: env.context,
            extraHosts: !!opts.stepHost?.extraHosts?.length,
            buildArgs: opts.buildArgs,
            argDefaults: plan.globalArgs,
          },
        }
      : {}),
  });

  const buildStage = (i: number): Promise<StageState> => {
    let p = results.get(i);
    if (p) return p;
    p = (async () => {
      const s = stagePlan(i);
      await Promise.all(s.dependsOn.map((d) => buildStage(d)));
      const run = stageRun(s.name ?? `stage-${i}`, copyEnv);
      const step = run.nextStep();
      opts.progress.emit({ kind: 'step-start', step, name: `[${run.stageLabel}] FROM ${s.from.image}` });
      let state = await baseState(s);
      opts.progress.emit({ kind: 'step-done', step, seconds: 0 });
      state = await runOnBuild(run, state);
      const instructions = df.stages[i]!.instructions;
      for (const [n, inst] of instructions.entries()) {
        const before = state.config.history?.length ?? 0;
        state = await runInstruction(run, state, inst, n + 1, instructions.length);
        const history = state.config.history ?? [];
        for (let h = before; h < history.length; h++) linesOf.set(history[h]!, [inst.node.startLine, inst.node.endLine]);
      }
      return state;
    })();
    results.set(i, p);
    return p;
  };

  try {
    mkdirSync(tmpDir, { recursive: true }); // in line, as its removal: usually empty, one call each
    const final = await buildStage(plan.target);
    const labels = Object.fromEntries(Object.entries({ ...(final.config.config?.Labels ?? {}), ...opts.labels }).sort(([a], [b]) => (a < b ? -1 : 1)));
    const built: ImageConfig = {
      ...final.config,
      created,
      config: { ...(final.config.config ?? {}), ...(Object.keys(labels).length ? { Labels: labels } : {}) },
      rootfs: { type: 'layers', diff_ids: final.layers.map((l) => l.diffId) },
    };
    const config = opts.remoteCache ? opts.remoteCache.finishConfig(built, final.layers, llbOf(final)?.node) : built;
    // What the commits left goes (Snapshotter.cleanup) while the image is committed.
    ctx.background(engine.snapshots.cleanup());
    const imageKey = chainKey(final.cacheKey, 'image', labels, platform, ...(opts.remoteCache?.inline ? ['inline-cache'] : []));
    const sourceLines = (config.history ?? []).map((h) => linesOf.get(h) ?? null);
    return { config, layers: final.layers, imageKey, stage: final, sourceLines };
  } finally {
    while (started.length) await Promise.all(started.splice(0));
    await ssh?.close();
    for (const v of views) await engine.snapshots.remove(v).catch(() => undefined);
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function previousConfig(engine: BuilderDeps, key: string): Promise<{ config: ImageConfig; bytes: Buffer } | undefined> {
  const id = engine.buildCache.configOf(key);
  if (!id || !isDigest(id) || !(await engine.content.has(id))) return undefined;
  const bytes = await engine.content.readBytes(id);
  // A config this store wrote, addressed by its digest: read back without the schema
  // library, whose schemas would otherwise be built by every build.
  return { config: JSON.parse(bytes.toString()) as ImageConfig, bytes };
}
