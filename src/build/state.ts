/** The state a stage carries from one instruction to the next. Values, never mutated. */
import type { LocalLayer } from '../image/commit.ts';
import type { ImageConfig } from '../oci/schema.ts';
import { processWord, processWords } from '../dockerfile/index.ts';
import { createSha256 } from '../sys/crypto.ts';

export interface StageState {
  readonly layers: readonly LocalLayer[];
  readonly config: ImageConfig;
  /** ARGs declared in this stage (or global ARGs redeclared), with their values. */
  readonly args: ReadonlyMap<string, string>;
  /** The chained cache key after the last instruction. */
  readonly cacheKey: string;
  readonly escape: string;
  /** CMD was set in this stage: a later ENTRYPOINT keeps it (else it drops the base's CMD). */
  readonly cmdSet: boolean;
}

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export function chainKey(parent: string, ...parts: readonly unknown[]): string {
  const h = createSha256().update(parent);
  for (const p of parts) h.update('\0').update(typeof p === 'string' ? p : JSON.stringify(p));
  return `sha256:${h.digest('hex')}`;
}

export function envMap(state: StageState): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of state.args) m.set(k, v);
  // ENV always wins over an ARG of the same name.
  for (const e of state.config.config?.Env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

export function expandWord(state: StageState, word: string): string {
  return processWord(word, envMap(state), state.escape);
}

export function expandWords(state: StageState, word: string): string[] {
  return processWords(word, envMap(state), state.escape);
}

export function shellOf(state: StageState): string[] {
  return state.config.config?.Shell ?? DEFAULT_SHELL;
}

export function withConfig(state: StageState, change: (c: NonNullable<ImageConfig['config']>) => NonNullable<ImageConfig['config']>): StageState {
  return { ...state, config: { ...state.config, config: change({ ...(state.config.config ?? {}) }) } };
}

export function setEnv(env: readonly string[] | null | undefined, key: string, value: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((e) => e.split('=')[0] === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}
