/**
 * `build`: Dockerfile → stages (a DAG through FROM <stage>, COPY --from and RUN
 * --mount=from) → only the stages the target needs, independent ones in parallel → an
 * image in the store, tagged.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mark } from '../progress/timing.ts';
import { BerthError } from '../errors/index.ts';
import type { Engine } from '../engine.ts';
import { commitImage } from '../image/commit.ts';
import { normalizeName } from '../image/names.ts';
import { ensureImage } from '../image/ensure.ts';
import { resolveImage } from '../image/resolve.ts';
import { loadDockerfile, predefinedArgs, processWord, type Dockerfile, type Stage } from '../dockerfile/index.ts';
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
import type { StepContext } from './step-context.ts';

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
}

export interface BuildResult {
  readonly image: ImageRecord;
  readonly config: ImageConfig;
  readonly stage: StageState;
}

function stageIndex(df: Dockerfile, ref: string): number | undefined {
  const byName = df.stages.findIndex((s) => s.name === ref.toLowerCase());
  if (byName >= 0) return byName;
  return /^\d+$/.test(ref) && Number(ref) < df.stages.length ? Number(ref) : undefined;
}

/** Stages a stage reads from: its FROM base and every COPY --from / RUN --mount from=. */
function dependencies(df: Dockerfile, s: Stage, globals: ReadonlyMap<string, string>): number[] {
  const refs = [processWord(s.from.image, globals)];
  for (const inst of s.instructions) {
    if ((inst.kind === 'copy' || inst.kind === 'add') && inst.flags.from?.[0]) refs.push(inst.flags.from[0]);
    if (inst.kind === 'run') for (const m of inst.flags.mount ?? []) refs.push(/(?:^|,)from=([^,]+)/.exec(m)?.[1] ?? '');
  }
  return refs.map((r) => stageIndex(df, r)).filter((i): i is number => i !== undefined && i < s.index);
}

export async function build(engine: Engine, opts: BuildOptions): Promise<BuildResult> {
  const df = loadDockerfile(opts.dockerfile.content, opts.dockerfile.path);
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const globals = new Map(predefinedArgs(platform, hostPlatform()));
  for (const a of df.globalArgs) {
    for (const x of a.args) {
      const v = opts.buildArgs.get(x.name) ?? (x.value !== undefined ? processWord(x.value, globals) : undefined);
      if (v !== undefined) globals.set(x.name, v);
    }
  }
  const targetIndex = opts.target ? stageIndex(df, opts.target) : df.stages.length - 1;
  if (targetIndex === undefined) throw new BerthError('NOT_FOUND', `target stage "${opts.target}" could not be found`, { hint: `stages: ${df.stages.map((s, i) => s.name ?? String(i)).join(', ')}` });

  engine.lease.hold(); // what the build makes, its temp dir first, is kept from prune until it ends
  const tmpDir = join(engine.root, 'tmp', `build-${randomHex(6)}`);
  const context = opts.context ?? (opts.contextDir ? await BuildContext.open(opts.contextDir, opts.dockerfile.path, engine.db, { warn: (text) => opts.progress.emit({ kind: 'warning', text }) }) : undefined);
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
    background: (work) => void started.push(work.catch(() => undefined)),
    mountEnv: { cacheDir: join(engine.root, 'build-cache-mounts'), secrets: opts.secrets, contextDir: opts.contextDir ?? tmpDir, rootfsOf: async (from) => (await rootfsOf(from, true)).rootfs },
  };
  const created = opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000).toISOString() : new Date().toISOString();

  /**
   * Mounts a stage's or image's filesystem: a read-only view for COPY --from, a snapshot of
   * its own for RUN --mount=from (a `rw` bind writes into it, and the writes go with it).
   */
  const rootfsOf = async (from: string, writable = false): Promise<{ rootfs: string; key: string }> => {
    const idx = stageIndex(df, from);
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

  const baseState = async (s: Stage): Promise<StageState> => {
    const ref = processWord(s.from.image, globals);
    const dep = stageIndex(df, ref);
    if (dep !== undefined && dep < s.index) {
      const st = await buildStage(dep);
      return { ...st, args: new Map(), cmdSet: false, cacheKey: chainKey(st.cacheKey, 'from-stage') };
    }
    if (ref === 'scratch') {
      return { layers: [], config: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}), config: { Env: [`PATH=${DEFAULT_PATH}`] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, args: new Map(), cacheKey: chainKey('scratch', platform), escape: df.parsed.escape, cmdSet: false };
    }
    const img = await ensureImage(engine, ref, { pull: opts.pull ? 'always' : 'missing', platform: opts.platform, log: (text) => opts.progress.emit({ kind: 'message', text: text.trimEnd() }) });
    const layers = img.config.rootfs.diff_ids.map((d) => ({ diffId: d, size: engine.images.layerSize(d) ?? 0 }));
    const { created: _c, ...config } = img.config;
    // As BuildKit: a base image without PATH gets the default one.
    const env = config.config?.Env ?? [];
    const withPath = env.some((e) => e.startsWith('PATH=')) ? env : [`PATH=${DEFAULT_PATH}`, ...env];
    return { layers, config: { ...config, config: { ...(config.config ?? {}), Env: withPath }, history: [...(img.config.history ?? [])] }, args: new Map(), cacheKey: chainKey('image', img.record.id), escape: df.parsed.escape, cmdSet: false };
  };

  const buildStage = (i: number): Promise<StageState> => {
    let p = results.get(i);
    if (p) return p;
    p = (async () => {
      const s = df.stages[i]!;
      await Promise.all(dependencies(df, s, globals).map((d) => buildStage(d)));
      const run: StageRun = {
        ctx,
        copyEnv,
        noCache: opts.noCache,
        created,
        buildArgs: opts.buildArgs,
        argDefaults: globals,
        stageLabel: s.name ?? `stage-${i}`,
        nextStep: () => ++steps,
      };
      const step = run.nextStep();
      opts.progress.emit({ kind: 'step-start', step, name: `[${run.stageLabel}] FROM ${processWord(s.from.image, globals)}` });
      let state = await baseState(s);
      opts.progress.emit({ kind: 'step-done', step, seconds: 0 });
      state = await runOnBuild(run, state);
      for (const [n, inst] of s.instructions.entries()) state = await runInstruction(run, state, inst, n + 1, s.instructions.length);
      return state;
    })();
    results.set(i, p);
    return p;
  };

  try {
    mkdirSync(tmpDir, { recursive: true }); // in line, as its removal: usually empty, one call each
    const final = await buildStage(targetIndex);
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
    mark('stages built');
    // The image's records wait for its layers to be on disk (Snapshotter.durable), while its
    // blobs are fsynced; meanwhile what the commits left goes (Snapshotter.cleanup).
    const committing = commitImage(engine, previous?.config ?? config, final.layers, opts.tags.map(normalizeName), { configBytes: previous?.bytes, layersSynced: engine.snapshots.durable() });
    ctx.background(engine.snapshots.cleanup());
    const image = await committing;
    mark('image committed');
    if (!previous) {
      engine.db
        .prepare('INSERT OR REPLACE INTO build_cache (cache_key, result, created, last_used) VALUES (?, ?, ?, ?)')
        .run(imageKey, JSON.stringify({ layers: [], config: image.id }), Date.now(), Date.now());
    }
    return { image, config: previous?.config ?? config, stage: final };
  } finally {
    while (started.length) await Promise.all(started.splice(0));
    for (const v of views) await engine.snapshots.remove(v).catch(() => undefined);
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function previousConfig(engine: Engine, key: string): Promise<{ config: ImageConfig; bytes: Buffer } | undefined> {
  const row = engine.db.prepare('SELECT result FROM build_cache WHERE cache_key = ?').get(key) as { result: string } | undefined;
  const id = row ? (JSON.parse(row.result) as { config?: string }).config : undefined;
  if (!id || !isDigest(id) || !(await engine.content.has(id))) return undefined;
  const bytes = await engine.content.readBytes(id);
  // A config this store wrote, addressed by its digest: read back without the schema
  // library, whose schemas would otherwise be built by every build.
  return { config: JSON.parse(bytes.toString()) as ImageConfig, bytes };
}
