/**
 * One stage, instruction by instruction: each step's cache key chains its parent's, a hit
 * reuses the committed layer, a miss runs the step (RUN, COPY/ADD, WORKDIR) and records
 * it. Metadata instructions only change the config and add an `empty_layer` history entry.
 */
import { BerthError } from '../errors/index.ts';
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { loadDockerfile, PROXY_ARGS, type Instruction } from '../dockerfile/index.ts';
import type { History } from '../oci/schema.ts';
import { randomHex } from '../sys/crypto.ts';
import { cacheLookup, cachePut, type CachedLayer } from './cache.ts';
import { applyCopy, planCopy, type CopyEnv } from './copy-step.ts';
import { mkdirInRoot } from './copy-files.ts';
import { closeFd } from '../sys/in-root.ts';
import { applyMetadata, envPairs, historyText } from './metadata.ts';
import { runArgv, runEnv, runStep } from './run-step.ts';
import { chainKey, configChange, envMap, expandWord, giveTo, ownedBy, type StageState } from './state.ts';
import { resolveUser } from '../runtime/index.ts';
import type { StepContext } from './step-context.ts';
import type { LayerStep } from './remote-cache/types.ts';
import { advance, type LlbBuild } from './llb-view.ts';

export interface StageRun {
  readonly ctx: StepContext;
  readonly copyEnv: CopyEnv;
  readonly noCache: boolean;
  readonly created: string;
  readonly buildArgs: ReadonlyMap<string, string>;
  /** Global ARG defaults and predefined ARGs, for `ARG NAME` without a value. */
  readonly argDefaults: ReadonlyMap<string, string>;
  readonly stageLabel: string;
  readonly nextStep: () => number;
  /** Set while an inline cache is exported: BuildKit's keys are followed beside berth's (llb-view.ts). */
  readonly llb?: LlbBuild;
}

function history(run: StageRun, createdBy: string, emptyLayer: boolean): History {
  return { created: run.created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(emptyLayer ? { empty_layer: true } : {}) };
}

function addLayer(state: StageState, layer: CachedLayer, key: string, h: History): StageState {
  return {
    ...state,
    layers: [...state.layers, { diffId: layer.diffId, size: layer.size }],
    cacheKey: key,
    config: { ...state.config, history: [...(state.config.history ?? []), h] },
  };
}

/** Looks for `path` in the layer dirs, top down: present, deleted (whiteout) or absent. */
async function existsInLayers(run: StageRun, state: StageState, path: string): Promise<boolean> {
  for (const l of [...state.layers].reverse()) {
    const st = await run.ctx.engine.snapshots.readLayer(l.diffId, (dir) => lstat(join(dir, path))).catch(() => undefined);
    if (st) return !(st.isCharacterDevice() && st.rdev === 0);
  }
  return false;
}

/** A layer step as an imported or exported cache sees it (remote-cache/types.ts). */
function layerStep(state: StageState, key: string, kind: LayerStep['kind'], h: History): LayerStep {
  return { key, kind, parents: state.layers, history: [...(state.config.history ?? []), h] };
}

/** A step's layer: from the cache, from the same step of another platform of this build, or run now. */
function cachedOrRun(run: StageRun, step: number, key: string, exec: () => Promise<CachedLayer>, remote?: LayerStep): Promise<CachedLayer> {
  const shared = run.ctx.sharedSteps;
  const running = shared?.get(key);
  if (running) {
    return running.then((layer) => {
      run.ctx.progress.emit({ kind: 'step-cached', step });
      return layer;
    });
  }
  const result = lookupOrRun(run, step, key, exec, remote);
  shared?.set(key, result);
  return result;
}

async function lookupOrRun(run: StageRun, step: number, key: string, exec: () => Promise<CachedLayer>, remote?: LayerStep): Promise<CachedLayer> {
  const remoteCache = remote && run.ctx.remoteCache;
  const local = run.noCache ? undefined : await cacheLookup(run.ctx.engine, key);
  const hit = local ?? (remoteCache && !run.noCache ? await remoteCache.lookup(remote!) : undefined);
  if (hit) {
    if (!local) cachePut(run.ctx.engine, key, hit, run.ctx.sourceDateEpoch);
    remoteCache?.record(remote!, hit);
    run.ctx.progress.emit({ kind: 'step-cached', step });
    return hit;
  }
  const t0 = Date.now();
  const layer = await exec();
  remoteCache?.record(remote!, layer);
  // The cache entry names the layer: written once the layer is on disk.
  run.ctx.background(run.ctx.engine.snapshots.durable().then(() => cachePut(run.ctx.engine, key, layer, run.ctx.sourceDateEpoch)));
  run.ctx.progress.emit({ kind: 'step-done', step, seconds: (Date.now() - t0) / 1000 });
  return layer;
}

export async function runInstruction(run: StageRun, state: StageState, inst: Instruction, index: number, total: number): Promise<StageState> {
  // Ctrl-C stops the build between steps (a RUN's container is killed at once: run-step.ts).
  if (run.ctx.signal?.aborted) throw new BerthError('CANCELLED', 'the build was cancelled');
  const step = run.nextStep();
  const text = historyText(inst);
  run.ctx.progress.emit({ kind: 'step-start', step, name: `[${run.stageLabel} ${index}/${total}] ${text}` });
  try {
    const next = await dispatchInstruction(run, state, inst, step, text);
    if (run.llb) await advance(run.llb, inst, state, next);
    return next;
  } catch (e) {
    // The failing step, with the Dockerfile lines it came from, for the progress view's ERROR.
    if (!(e instanceof BerthError && e.code === 'CANCELLED')) {
      const message = e instanceof Error ? e.message : String(e);
      run.ctx.progress.emit({ kind: 'step-error', step, message, lines: { start: inst.node.startLine, end: inst.node.endLine } });
    }
    throw e;
  }
}

async function dispatchInstruction(run: StageRun, state: StageState, inst: Instruction, step: number, text: string): Promise<StageState> {
  switch (inst.kind) {
    case 'arg': {
      const args = new Map(state.args);
      for (const a of inst.args) {
        const value = run.buildArgs.get(a.name) ?? (a.value !== undefined ? expandWord(state, a.value) : run.argDefaults.get(a.name));
        if (value !== undefined) args.set(a.name, value);
      }
      const next = {
        ...state,
        args,
        cacheKey: chainKey(
          state.cacheKey,
          'arg',
          [...args].filter(([k]) => !PROXY_ARGS.includes(k)),
        ),
      };
      run.ctx.progress.emit({ kind: 'step-done', step, seconds: 0 });
      return next;
    }
    case 'run': {
      const key = chainKey(
        state.cacheKey,
        'run',
        runArgv(inst, state),
        runEnv(state),
        state.config.config?.User ?? '',
        state.config.config?.WorkingDir ?? '',
        inst.flags,
        // `build --device` changes what every RUN sees, as its own --device flags do.
        ...(run.ctx.devices?.all.length ? [['device', ...run.ctx.devices.all]] : []),
      );
      // As BuildKit: proxy build args no ARG declares reach the step's env, but not its cache key.
      const proxies = [...run.buildArgs].filter(([k]) => PROXY_ARGS.includes(k) && !envMap(state).has(k)).map(([k, v]) => `${k}=${v}`);
      const h = history(run, `RUN ${runArgv(inst, state).join(' ')} # buildkit`, false);
      const layer = await cachedOrRun(run, step, key, () => runStep(run.ctx, state, inst, step, proxies), layerStep(state, key, 'run', h));
      return addLayer(state, layer, key, h);
    }
    case 'copy':
    case 'add': {
      const plan = await planCopy(inst, state, run.copyEnv);
      try {
        const key = chainKey(state.cacheKey, inst.kind, plan.digest, plan.dest, plan.destIsDir, inst.flags);
        const h = history(run, `${text} # buildkit`, false);
        const layer = await cachedOrRun(run, step, key, () => applyCopy(run.ctx, state, inst, plan), layerStep(state, key, inst.kind, h));
        return addLayer(state, layer, key, h);
      } finally {
        run.ctx.background(plan.cleanup());
      }
    }
    case 'workdir': {
      const value = expandWord(state, inst.value);
      const dir = posix.resolve(state.config.config?.WorkingDir || '/', value);
      const withDir = { ...state, config: { ...state.config, config: { ...(state.config.config ?? {}), WorkingDir: dir } } };
      if (await existsInLayers(run, state, dir)) {
        run.ctx.progress.emit({ kind: 'step-done', step, seconds: 0 });
        return {
          ...withDir,
          cacheKey: chainKey(state.cacheKey, 'workdir', dir),
          config: { ...withDir.config, history: [...(state.config.history ?? []), history(run, `WORKDIR ${dir}`, true)] },
        };
      }
      // As BuildKit: the dirs WORKDIR makes belong to the stage's USER.
      const user = state.config.config?.User ?? '';
      const key = chainKey(state.cacheKey, 'workdir', dir, ...(user ? [user] : []));
      const h = history(run, `WORKDIR ${dir}`, false);
      const layer = await cachedOrRun(
        run,
        step,
        key,
        async () => {
          const snapKey = `build-${randomHex(8)}`;
          const snap = await run.ctx.engine.snapshots.prepare(
            snapKey,
            state.layers.map((l) => l.diffId),
            { volatile: true },
          );
          try {
            closeFd(mkdirInRoot(snap.rootfs, dir, user ? await resolveUser(snap.rootfs, user) : undefined));
            return await run.ctx.engine.snapshots.commit(snapKey, { sourceDateEpoch: run.ctx.sourceDateEpoch });
          } catch (e) {
            await run.ctx.engine.snapshots.remove(snapKey).catch(() => undefined);
            throw e;
          }
        },
        layerStep(state, key, 'workdir', h),
      );
      return addLayer(withDir, layer, key, h);
    }
    case 'from':
      return state;
    default: {
      // The key first: with its arrays extended in place, `state` no longer shows the config before.
      const env = state.config.config?.Env;
      const envInPlace = ownedBy(env, state);
      const change = inst.kind === 'env' ? { Env: envPairs(inst, state) } : undefined;
      const next = applyMetadata(inst, state, { envInPlace });
      const key = chainKey(state.cacheKey, inst.kind, change ?? configChange(state.config.config, next.config.config), next.config.author ?? '');
      const entries = ownedBy(state.config.history, state) ? state.config.history! : [...(state.config.history ?? [])];
      entries.push(history(run, text, true));
      run.ctx.progress.emit({ kind: 'step-done', step, seconds: 0 });
      const out = { ...next, cacheKey: key, config: { ...next.config, history: entries } };
      giveTo(entries, out);
      const nextEnv = next.config.config?.Env;
      if (nextEnv !== env || envInPlace) giveTo(nextEnv, out); // made by this step, or extended in place
      return out;
    }
  }
}

/** Runs the base image's ONBUILD triggers, then clears them, as docker does for a child build. */
export async function runOnBuild(run: StageRun, state: StageState): Promise<StageState> {
  const triggers = state.config.config?.OnBuild ?? [];
  if (!triggers.length) return state;
  let s: StageState = { ...state, config: { ...state.config, config: { ...(state.config.config ?? {}), OnBuild: null } } };
  const parsed = loadDockerfile(`FROM scratch\n${triggers.join('\n')}\n`, 'ONBUILD');
  const insts = parsed.stages[0]!.instructions;
  for (const [i, inst] of insts.entries()) s = await runInstruction(run, s, inst, i + 1, insts.length);
  return s;
}
