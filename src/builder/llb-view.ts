/**
 * BuildKit's view of a stage, carried beside berth's own while an inline cache is exported:
 * the cache record (remote-cache/buildkit-keys.ts) that stands for the stage's filesystem so
 * far, and what dockerfile2llb keeps of the state for the next exec op (its env list, whose
 * order differs from the image's, its working dir and user). An instruction berth does not
 * map (COPY --from, RUN --mount, FROM scratch ...) ends the view: the steps before it keep
 * their records, the steps from it on get none, and BuildKit runs them.
 */
import { posix } from 'node:path';
import { type Instruction, runFlags } from '../dockerfile/index.ts';
import type { Digest } from '../oci/digest.ts';
import type { ImageConfig } from '../oci/schema.ts';
import type { BuildContext } from './context.ts';
import { envPairs } from './metadata.ts';
import {
  copyDigest,
  copySourceNode,
  type ExecMeta,
  execDigest,
  imageSourceNode,
  type LlbNode,
  mkdirDigest,
  octalMode,
  rootKey,
} from './remote-cache/buildkit-keys.ts';
import { runArgv } from './run-step.ts';
import { expandWord, type StageState } from './state.ts';

export interface LlbView {
  /** The record of the last step mapped: with `lost`, of a step before the stage's last. */
  readonly node: LlbNode;
  /** A step since `node` has no key here: later steps get none, and BuildKit runs them. */
  readonly lost?: boolean;
  /** The exec env, as llb's EnvList: a key set again moves to the end. */
  readonly env: readonly string[];
  /** The image config's Env as dockerfile2llb keeps it (a key set again stays in place). */
  readonly imageEnv: readonly string[];
  readonly cwd: string;
  readonly user: string;
}

/** What the view needs of the build beyond the states. */
export interface LlbBuild {
  readonly network: string;
  readonly context?: BuildContext;
  readonly extraHosts: boolean;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly argDefaults: ReadonlyMap<string, string>;
}

const views = new WeakMap<StageState, LlbView>();

export const llbOf = (state: StageState): LlbView | undefined => views.get(state);

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const keyOf = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);

function addOrReplace(env: readonly string[], key: string, value: string): string[] {
  return [...env.filter((e) => keyOf(e) !== key), `${key}=${value}`];
}

function setInPlace(env: readonly string[], key: string, value: string): string[] {
  const i = env.findIndex((e) => keyOf(e) === key);
  return i < 0 ? [...env, `${key}=${value}`] : env.map((e, j) => (j === i ? `${key}=${value}` : e));
}

/** The view of `FROM image` (state: berth's base state; diffIds and config: the image's own). */
export function startFromImage(state: StageState, diffIds: readonly Digest[], config: ImageConfig['config']): void {
  if (!diffIds.length) return; // BuildKit keys a layerless image by its config's bytes
  const own = config?.Env ?? [];
  // dockerfile2llb appends the default PATH where berth puts it first: BuildKit's order is kept here.
  const imageEnv = own.some((e) => keyOf(e) === 'PATH') ? [...own] : [...own, DEFAULT_PATH];
  let env: string[] = [];
  for (const e of imageEnv) env = addOrReplace(env, keyOf(e), e.slice(keyOf(e).length + 1));
  const wd = config?.WorkingDir ?? '';
  views.set(state, { node: imageSourceNode(diffIds), env, imageEnv, cwd: wd || '/', user: config?.User ?? '' });
}

/** `FROM stage`: the stage's view, its image env set again (dockerfile2llb's base metadata). */
export function startFromStage(state: StageState, base: StageState): void {
  const v = views.get(base);
  if (!v) return;
  let env = [...v.env];
  for (const e of v.imageEnv) env = addOrReplace(env, keyOf(e), e.slice(keyOf(e).length + 1));
  views.set(state, { ...v, env });
}

/**
 * RUN's mounts when all are plain cache mounts (no from, source, uid, gid, mode or ro):
 * each cache's ID is "/" and its id (else its target as written, cleaned), as dockerfile2llb
 * names it with an empty namespace. Other mounts (and a `$` BuildKit v0.8 would not expand) are not mapped.
 */
function runCacheMounts(specs: readonly string[], cwd: string): ExecMeta['cacheMounts'] | undefined {
  if (specs.some((m) => m.includes('$'))) return undefined;
  const mounts = runFlags({ mount: [...specs] }).mounts;
  if (
    mounts.some(
      (m) => m.type !== 'cache' || !m.target || m.from || m.source || m.uid !== undefined || m.gid !== undefined || m.mode !== undefined || m.readonly,
    )
  )
    return undefined;
  return mounts.map((m) => ({
    dest: m.target.startsWith('/') ? m.target : posix.join('/', cwd, m.target),
    id: `/${m.id ?? posix.normalize(m.target).replace(/(.)\/$/, '$1')}`,
    sharing: m.sharing ?? 'shared',
  }));
}

const NET_MODES: Record<string, number> = { default: 0, '': 0, host: 1, none: 2 };

/** The result of a step whose state is `after`: its layers, when it made one. */
function resultOf(before: StageState, after: StageState): LlbNode['result'] {
  return after.layers.length > before.layers.length ? after.layers.map((l) => l.diffId) : undefined;
}

/** Sets the view after `inst` (which took `before` to `after`); none when the instruction has no BuildKit key here. */
export async function advance(build: LlbBuild, inst: Instruction, before: StageState, after: StageState): Promise<void> {
  const v = views.get(before);
  if (!v || after === before) return;
  if (v.lost) return void views.set(after, v);
  try {
    const next = await step(build, v, inst, before, after);
    views.set(after, next ?? { ...v, lost: true });
  } catch {
    // Keys berth cannot make (UnsupportedForKeys) or a source that changed under the build:
    // BuildKit's keys stop here; the build itself, done already, stands.
    views.set(after, { ...v, lost: true });
  }
}

async function step(build: LlbBuild, v: LlbView, inst: Instruction, before: StageState, after: StageState): Promise<LlbView | undefined> {
  switch (inst.kind) {
    case 'env': {
      let { env, imageEnv } = v;
      for (const [k, val] of envPairs(inst, before)) {
        env = addOrReplace(env, k, val);
        imageEnv = setInPlace(imageEnv, k, val);
      }
      return { ...v, env, imageEnv };
    }
    case 'arg': {
      let env = v.env;
      for (const a of inst.args) {
        const value = build.buildArgs.get(a.name) ?? (a.value !== undefined ? expandWord(before, a.value) : build.argDefaults.get(a.name));
        if (value !== undefined) env = addOrReplace(env, a.name, value);
      }
      return { ...v, env };
    }
    case 'user':
      return { ...v, user: after.config.config?.User ?? '' };
    case 'workdir': {
      const value = expandWord(before, inst.value);
      const cwd = value.startsWith('/') ? value : posix.join(v.cwd, value);
      const wd = value.startsWith('/') ? value : posix.join('/', before.config.config?.WorkingDir ?? '', value);
      if (wd === '/') return { ...v, cwd };
      const node = { digest: rootKey(mkdirDigest(posix.normalize(wd), v.user), 0), inputs: [[v.node]], result: resultOf(before, after) };
      return { ...v, cwd, node };
    }
    case 'run': {
      if (Object.keys(inst.flags).some((f) => f !== 'mount') || inst.heredocs.length || build.extraHosts) return undefined;
      const cacheMounts = runCacheMounts(inst.flags.mount ?? [], v.cwd);
      if (!cacheMounts) return undefined;
      const network = NET_MODES[build.network];
      if (network === undefined) return undefined;
      const c = after.config;
      const digest = execDigest({
        args: runArgv(inst, before),
        env: v.env,
        cwd: v.cwd,
        user: v.user,
        network,
        platform: { os: c.os, architecture: c.architecture, variant: c.variant },
        cacheMounts,
      });
      return { ...v, node: { digest: rootKey(digest, 0), inputs: [[v.node]], result: resultOf(before, after) } };
    }
    case 'copy':
    case 'add': {
      const flags = Object.keys(inst.flags);
      if (flags.some((f) => f !== 'chown' && f !== 'chmod') || inst.heredocs.length || !build.context) return undefined;
      const sources = inst.sources.map((s) => expandWord(before, s));
      if (sources.some((s) => /^https?:\/\//.test(s))) return undefined; // ADD of a URL: an http source op, not mapped
      const paths = sources.map((s) => posix.normalize(`/${s}`).replace(/(.)\/$/, '$1'));
      if (paths.some((s) => /[*?[\\]/.test(s))) return undefined; // wildcards: ChecksumWildcard, not mapped
      const raw = expandWord(before, inst.dest);
      // Go's path.Join cleans (no trailing slash); then the slash the Dockerfile wrote is put back.
      let dest = posix.join('/', raw.startsWith('/') ? raw : posix.join(v.cwd, raw)).replace(/(.)\/$/, '$1');
      if (raw === '.' || raw === '' || raw.endsWith('/')) dest = dest === '/' ? '/' : `${dest}/`;
      const chown = inst.flags.chown?.[0] !== undefined ? expandWord(before, inst.flags.chown[0]) : undefined;
      const chmod = inst.flags.chmod?.[0] !== undefined ? expandWord(before, inst.flags.chmod[0]) : undefined;
      const opts = { unpack: inst.kind === 'add', chown, mode: chmod ? (octalMode(chmod) ?? -1) : -1 };
      const ctx = build.context;
      const source = await copySourceNode(ctx.dir, paths, (rel) => ctx.matcher.matches(rel));
      const node = { digest: rootKey(copyDigest(paths, dest, opts), 0), inputs: [[v.node], [source]], result: resultOf(before, after) };
      return { ...v, node };
    }
    case 'from':
    case 'label':
    case 'expose':
    case 'cmd':
    case 'entrypoint':
    case 'volume':
    case 'stopsignal':
    case 'shell':
    case 'healthcheck':
    case 'maintainer':
    case 'onbuild':
      return v; // config only: no operation
    default:
      return undefined;
  }
}
