/**
 * One stage, instruction by instruction: each step's cache key chains its parent's, a hit
 * reuses the committed layer, a miss runs the step (RUN, COPY/ADD, WORKDIR) and records
 * it. Metadata instructions only change the config and add an `empty_layer` history entry.
 */
import { BerthError } from '../errors/index.ts';
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { loadDockerfile, type Instruction } from '../dockerfile/index.ts';
import type { History } from '../oci/schema.ts';
import { randomHex } from '../sys/crypto.ts';
import { cacheLookup, cachePut, type CachedLayer } from './cache.ts';
import { applyCopy, planCopy, type CopyEnv } from './copy-step.ts';
import { mkdirInRoot } from './copy-files.ts';
import { closeFd } from '../sys/in-root.ts';
import { applyMetadata, envPairs, historyText } from './metadata.ts';
import { runArgv, runEnv, runStep } from './run-step.ts';
import { chainKey, configChange, expandWord, giveTo, ownedBy, type StageState } from './state.ts';
import type { StepContext } from './step-context.ts';

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

/** A step's layer: from the cache, from the same step of another platform of this build, or run now. */
function cachedOrRun(run: StageRun, step: number, key: string, exec: () => Promise<CachedLayer>): Promise<CachedLayer> {
  const shared = run.ctx.sharedSteps;
  const running = shared?.get(key);
  if (running) {
    return running.then((layer) => {
      run.ctx.progress.emit({ kind: 'step-cached', step });
      return layer;
    });
  }
  const result = lookupOrRun(run, step, key, exec);
  shared?.set(key, result);
  return result;
}

async function lookupOrRun(run: StageRun, step: number, key: string, exec: () => Promise<CachedLayer>): Promise<CachedLayer> {
  const hit = run.noCache ? undefined : await cacheLookup(run.ctx.engine, key);
  if (hit) {
    run.ctx.progress.emit({ kind: 'step-cached', step });
    return hit;
  }
  const t0 = Date.now();
  const layer = await exec();
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
  switch (inst.kind) {
    case 'arg': {
      const args = new Map(state.args);
      for (const a of inst.args) {
        const value = run.buildArgs.get(a.name) ?? (a.value !== undefined ? expandWord(state, a.value) : run.argDefaults.get(a.name));
        if (value !== undefined) args.set(a.name, value);
      }
      const next = { ...state, args, cacheKey: chainKey(state.cacheKey, 'arg', [...args]) };
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
      const layer = await cachedOrRun(run, step, key, () => runStep(run.ctx, state, inst, step));
      return addLayer(state, layer, key, history(run, `RUN ${runArgv(inst, state).join(' ')} # buildkit`, false));
    }
    case 'copy':
    case 'add': {
      const plan = await planCopy(inst, state, run.copyEnv);
      try {
        const key = chainKey(state.cacheKey, inst.kind, plan.digest, plan.dest, plan.destIsDir, inst.flags);
        const layer = await cachedOrRun(run, step, key, () => applyCopy(run.ctx, state, inst, plan));
        return addLayer(state, layer, key, history(run, `${text} # buildkit`, false));
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
      const key = chainKey(state.cacheKey, 'workdir', dir);
      const layer = await cachedOrRun(run, step, key, async () => {
        const snapKey = `build-${randomHex(8)}`;
        const snap = await run.ctx.engine.snapshots.prepare(
          snapKey,
          state.layers.map((l) => l.diffId),
          { volatile: true },
        );
        try {
          closeFd(mkdirInRoot(snap.rootfs, dir));
          return await run.ctx.engine.snapshots.commit(snapKey, { sourceDateEpoch: run.ctx.sourceDateEpoch });
        } catch (e) {
          await run.ctx.engine.snapshots.remove(snapKey).catch(() => undefined);
          throw e;
        }
      });
      return addLayer(withDir, layer, key, history(run, `WORKDIR ${dir}`, false));
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
