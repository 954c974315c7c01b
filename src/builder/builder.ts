/**
 * `build`: Dockerfile → the plan of stages the target needs (dockerfile/plan.ts: a DAG through
 * FROM <stage>, COPY --from and RUN --mount from=) → those stages, independent ones in
 * parallel → an image in the store, tagged.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mark } from '../progress/timing.ts';
import { commitImage } from '../image/commit.ts';
import { normalizeName } from '../image/names.ts';
import { ensureImage } from '../image/ensure.ts';
import { resolveImage } from '../image/resolve.ts';
import { findStage, loadDockerfile, planBuild, type PlannedStage } from '../dockerfile/index.ts';
import { isDigest } from '../oci/digest.ts';
import { DEFAULT_PATH } from '../runtime/index.ts';
import { hostPlatform, parsePlatform } from '../oci/platform.ts';
import type { ImageConfig } from '../oci/schema.ts';
import type { ProgressSink } from '../progress/index.ts';
import type { ImageRecord } from '../store/images.ts';
import { randomHex } from '../sys/crypto.ts';
import { BuildContext } from './context.ts';
import type { CopyEnv } from './copy-step.ts';
import { runInstruction, runOnBuild, type StageRun } from './stage.ts';
import { chainKey, type StageState } from './state.ts';
import type { BuildDevices } from './devices.ts';
import type { BuilderDeps, StepContext } from './step-context.ts';

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
}

export interface BuildResult {
  readonly image: ImageRecord;
  readonly config: ImageConfig;
  readonly stage: StageState;
}

export async function build(engine: BuilderDeps, opts: BuildOptions): Promise<BuildResult> {
  const df = loadDockerfile(opts.dockerfile.content, opts.dockerfile.path);
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const planOptions = { buildArgs: opts.buildArgs, targetPlatform: platform, buildPlatform: hostPlatform() };
  const plan = planBuild(df, { ...planOptions, target: opts.target || undefined });
  const planned = new Map(plan.stages.map((s) => [s.index, s]));
  /** A planned stage; one that only a `--from` naming it through a base image's ENV reaches is planned when asked for. */
  const stagePlan = (index: number): PlannedStage =>
    planned.get(index) ?? planBuild(df, { ...planOptions, target: String(index) }).stages.find((s) => s.index === index)!;

  engine.lease.hold(); // what the build makes, its temp dir first, is kept from prune until it ends
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
  let steps = 0;
  const ctx: StepContext = {
    engine,
    progress: opts.progress,
    network: opts.network,
    sourceDateEpoch: opts.sourceDateEpoch,
    signal: opts.signal,
    devices: opts.devices,
    background: (work) => void started.push(work.catch(() => undefined)),
    mountEnv: {
      cacheDir: join(engine.root, 'build-cache-mounts'),
      leaseCacheMount: (name) => engine.lease.add('cachemount', [name]),
      secrets: opts.secrets,
      contextDir: opts.contextDir ?? tmpDir,
      rootfsOf: async (from) => (await rootfsOf(from, true)).rootfs,
    },
  };
  const created = opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000).toISOString() : new Date().toISOString();

  /**
   * Mounts a stage's or image's filesystem: a read-only view for COPY --from, a snapshot of
   * its own for RUN --mount=from (a `rw` bind writes into it, and the writes go with it).
   */
  const rootfsOf = async (from: string, writable = false): Promise<{ rootfs: string; key: string }> => {
    const idx = findStage(df, from);
    let layers: string[];
    let key: string;
    if (idx !== undefined) {
      const st = await buildStage(idx);
      layers = st.layers.map((l) => l.diffId);
      key = st.cacheKey;
    } else {
      const img = await resolveImage(engine, from);
      layers = img.config.rootfs.diff_ids;
      key = img.record.id;
    }
    const viewKey = `view-${randomHex(8)}`;
    views.push(viewKey);
    const snap = writable ? await engine.snapshots.prepare(viewKey, layers as never) : await engine.snapshots.view(viewKey, layers as never);
    return { rootfs: snap.rootfs, key };
  };
  const copyEnv: CopyEnv = { context, rootfsOf, tmpDir };

  const baseState = async (s: PlannedStage): Promise<StageState> => {
    if (s.base.kind === 'stage') {
      const st = await buildStage(s.base.index);
      return { ...st, args: new Map(), cmdSet: false, cacheKey: chainKey(st.cacheKey, 'from-stage') };
    }
    if (s.base.kind === 'scratch') {
      return {
        layers: [],
        config: {
          architecture: platform.architecture,
          os: platform.os,
          ...(platform.variant ? { variant: platform.variant } : {}),
          config: { Env: [`PATH=${DEFAULT_PATH}`] },
          rootfs: { type: 'layers', diff_ids: [] },
          history: [],
        },
        args: new Map(),
        cacheKey: chainKey('scratch', platform),
        escape: df.parsed.escape,
        cmdSet: false,
      };
    }
    const img = await ensureImage(engine, s.base.ref, {
      pull: opts.pull ? 'always' : 'missing',
      platform: opts.platform,
      log: (text) => opts.progress.emit({ kind: 'message', text: text.trimEnd() }),
    });
    const layers = img.config.rootfs.diff_ids.map((d) => ({ diffId: d, size: engine.images.layerSize(d) ?? 0 }));
    const { created: _c, ...config } = img.config;
    // As BuildKit: a base image without PATH gets the default one.
    const env = config.config?.Env ?? [];
    const withPath = env.some((e) => e.startsWith('PATH=')) ? env : [`PATH=${DEFAULT_PATH}`, ...env];
    return {
      layers,
      config: { ...config, config: { ...(config.config ?? {}), Env: withPath }, history: [...(img.config.history ?? [])] },
      args: new Map(),
      cacheKey: chainKey('image', img.record.id),
      escape: df.parsed.escape,
      cmdSet: false,
    };
  };

  const buildStage = (i: number): Promise<StageState> => {
    let p = results.get(i);
    if (p) return p;
    p = (async () => {
      const s = stagePlan(i);
      await Promise.all(s.dependsOn.map((d) => buildStage(d)));
      const run: StageRun = {
        ctx,
        copyEnv,
        noCache: opts.noCache,
        created,
        buildArgs: opts.buildArgs,
        argDefaults: plan.globalArgs,
        stageLabel: s.name ?? `stage-${i}`,
        nextStep: () => ++steps,
      };
      const step = run.nextStep();
      opts.progress.emit({ kind: 'step-start', step, name: `[${run.stageLabel}] FROM ${s.from.image}` });
      let state = await baseState(s);
      opts.progress.emit({ kind: 'step-done', step, seconds: 0 });
      state = await runOnBuild(run, state);
      const instructions = df.stages[i]!.instructions;
      for (const [n, inst] of instructions.entries()) state = await runInstruction(run, state, inst, n + 1, instructions.length);
      return state;
    })();
    results.set(i, p);
    return p;
  };

  try {
    mkdirSync(tmpDir, { recursive: true }); // in line, as its removal: usually empty, one call each
    const final = await buildStage(plan.target);
    const labels = Object.fromEntries(Object.entries({ ...(final.config.config?.Labels ?? {}), ...opts.labels }).sort(([a], [b]) => (a < b ? -1 : 1)));
    const config: ImageConfig = {
      ...final.config,
      created,
      config: { ...(final.config.config ?? {}), ...(Object.keys(labels).length ? { Labels: labels } : {}) },
      rootfs: { type: 'layers', diff_ids: final.layers.map((l) => l.diffId) },
    };
    // A fully cached build gives the same image (same config digest), as BuildKit does:
    // the config of the last build with this exact chain is reused, timestamps included.
    const imageKey = chainKey(final.cacheKey, 'image', labels, platform);
    const previous = opts.noCache ? undefined : await previousConfig(engine, imageKey);
    // The image's records wait for its layers to be on disk (Snapshotter.durable), while its
    // blobs are fsynced; meanwhile what the commits left goes (Snapshotter.cleanup).
    const committing = commitImage(engine, previous?.config ?? config, final.layers, opts.tags.map(normalizeName), {
      configBytes: previous?.bytes,
      layersSynced: engine.snapshots.durable(),
    });
    ctx.background(engine.snapshots.cleanup());
    const image = await committing;
    mark('image committed');
    if (!previous) {
      engine.buildCache.putConfig(imageKey, image.id);
    }
    return { image, config: previous?.config ?? config, stage: final };
  } finally {
    while (started.length) await Promise.all(started.splice(0));
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
