/**
 * Instructions that only change the image config (ENV, LABEL, EXPOSE, VOLUME, USER, CMD,
 * ENTRYPOINT, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER, ARG): they produce an
 * `empty_layer` history entry, never a layer.
 */
import { BerthError } from '../errors/index.ts';
import type { Instruction } from '../dockerfile/index.ts';
import { expandWord, expandWords, setEnv, shellOf, withConfig, type StageState } from './state.ts';

const NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function duration(flag: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  let total = 0;
  let rest = v;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/.exec(rest);
    if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid duration "${v}" for --${flag}`);
    total += Number(m[1]) * NS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/** Go's encoding/json writes map keys sorted; so must we, for the same config bytes. */
function sorted<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** How the instruction is shown in history: `ENV A=1`, as BuildKit records it. */
export function historyText(inst: Instruction): string {
  const words = inst.node.original.trim().replace(/^\S+\s*/, '');
  return `${inst.node.value.toUpperCase()} ${words}`.trim();
}

/** An ENV line's pairs, expanded against the env before the line (`ENV A=2 B=$A` sees the old A). */
export function envPairs(inst: { readonly pairs: ReadonlyArray<readonly [string, string]> }, state: StageState): Array<[string, string]> {
  return inst.pairs.map(([k, v]) => [expandWord(state, k), expandWord(state, v)]);
}

/**
 * The state after a metadata instruction. `envInPlace`: the state's Env array may be
 * extended where it is (stage.ts decides when no other state can see it).
 */
export function applyMetadata(inst: Instruction, state: StageState, opts: { envInPlace?: boolean } = {}): StageState {
  switch (inst.kind) {
    case 'env': {
      const pairs = envPairs(inst, state);
      return withConfig(state, (c) => {
        let env = c.Env ?? [];
        for (const [k, v] of pairs) env = setEnv(env, k, v, opts.envInPlace && c.Env ? c.Env : undefined);
        return { ...c, Env: env };
      });
    }
    case 'label':
      return withConfig(state, (c) => ({
        ...c,
        Labels: sorted({ ...(c.Labels ?? {}), ...Object.fromEntries(inst.pairs.map(([k, v]) => [expandWord(state, k), expandWord(state, v)])) }),
      }));
    case 'expose':
      return withConfig(state, (c) => {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const w of inst.values.flatMap((v) => expandWords(state, v))) ports[w.includes('/') ? w.toLowerCase() : `${w}/tcp`] = {};
        return { ...c, ExposedPorts: sorted(ports) };
      });
    case 'volume':
      return withConfig(state, (c) => {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of inst.values) {
          const p = expandWord(state, v);
          if (!p) throw new BerthError('INVALID_ARGUMENT', 'VOLUME specified can not be an empty string');
          vols[p] = {};
        }
        return { ...c, Volumes: sorted(vols) };
      });
    case 'user':
      return withConfig(state, (c) => ({ ...c, User: expandWord(state, inst.value) }));
    case 'stopsignal':
      return withConfig(state, (c) => ({ ...c, StopSignal: expandWord(state, inst.value) }));
    case 'maintainer':
      return { ...state, config: { ...state.config, author: inst.value } };
    case 'cmd':
      return { ...withConfig(state, (c) => ({ ...c, Cmd: inst.json ? inst.args : [...shellOf(state), inst.args.join(' ')] })), cmdSet: true };
    case 'entrypoint':
      return withConfig(state, (c) => {
        const ep = inst.json ? inst.args : [...shellOf(state), inst.args.join(' ')];
        // Docker: setting ENTRYPOINT drops a CMD inherited from the base image.
        const next = { ...c, Entrypoint: ep.length ? ep : null };
        if (!state.cmdSet) next.Cmd = null;
        return next;
      });
    case 'shell':
      return withConfig(state, (c) => ({ ...c, Shell: inst.args }));
    case 'healthcheck':
      return withConfig(state, (c) => {
        if (inst.type === 'NONE') return { ...c, Healthcheck: { Test: ['NONE'] } };
        const f = inst.flags;
        const retries = f.retries?.[0] === undefined ? 0 : Number(f.retries[0]);
        const test = inst.type === 'CMD-SHELL' ? ['CMD-SHELL', inst.args.join(' ')] : ['CMD', ...inst.args];
        return {
          ...c,
          Healthcheck: {
            Test: test,
            ...(f.interval ? { Interval: duration('interval', f.interval[0], 0) } : {}),
            ...(f.timeout ? { Timeout: duration('timeout', f.timeout[0], 0) } : {}),
            ...(f['start-period'] ? { StartPeriod: duration('start-period', f['start-period'][0], 0) } : {}),
            ...(f['start-interval'] ? { StartInterval: duration('start-interval', f['start-interval'][0], 0) } : {}),
            ...(retries ? { Retries: retries } : {}),
          },
        };
      });
    case 'onbuild':
      return withConfig(state, (c) => ({ ...c, OnBuild: [...(c.OnBuild ?? []), inst.expression] }));
    default:
      return state;
  }
}
