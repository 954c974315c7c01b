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

/** Each state's env as a map, made once: a step expands several words against one state. */
const envMaps = new WeakMap<StageState, ReadonlyMap<string, string>>();
const NO_ENV: ReadonlyMap<string, string> = new Map();

export function envMap(state: StageState): ReadonlyMap<string, string> {
  const known = envMaps.get(state);
  if (known) return known;
  const m = new Map<string, string>();
  for (const [k, v] of state.args) m.set(k, v);
  // ENV always wins over an ARG of the same name.
  for (const e of state.config.config?.Env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  envMaps.set(state, m);
  return m;
}

/**
 * The env a word is expanded against: none for a word without `$`, which looks nothing up.
 * Making the map costs the whole env, and every ENV line has two words: a run of 10k ENV
 * lines was quadratic in it.
 */
function envFor(state: StageState, word: string): ReadonlyMap<string, string> {
  return word.includes('$') ? envMap(state) : NO_ENV;
}

export function expandWord(state: StageState, word: string): string {
  return processWord(word, envFor(state, word), state.escape);
}

export function expandWords(state: StageState, word: string): string[] {
  return processWords(word, envFor(state, word), state.escape);
}

export function shellOf(state: StageState): string[] {
  return state.config.config?.Shell ?? DEFAULT_SHELL;
}

/**
 * The arrays of a state's config (Env, history) that a metadata step made, by the one state
 * object that holds them. The next step, given that very object (a stage's instructions run
 * as a chain, each handing its state to the next and dropping it), may extend them in place;
 * any other state holding them (a stage started FROM this one, a RUN's result) is another
 * object, so it copies. Copying a 10k-entry Env and history at every ENV line made a long
 * run of them quadratic in time and garbage.
 */
const arrayOwners = new WeakMap<object, StageState>();

export function ownedBy(array: object | null | undefined, state: StageState): boolean {
  return array != null && arrayOwners.get(array) === state;
}

export function giveTo(array: object | null | undefined, state: StageState): void {
  if (array != null) arrayOwners.set(array, state);
}

/**
 * What a metadata step changed in the config, for its cache key: the fields it replaced, and
 * of Env only the length and the entries that differ. The parent key stands for the config
 * before, so this is enough; hashing the whole config at every step made a long run of ENV
 * lines quadratic.
 */
export function configChange(before: ImageConfig['config'], after: ImageConfig['config']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[k] === b[k]) continue;
    const was = a[k];
    const now = b[k];
    if (k !== 'Env' || !Array.isArray(was) || !Array.isArray(now)) {
      out[k] = now ?? null;
      continue;
    }
    const changed: Array<[number, unknown]> = [];
    for (let i = 0; i < now.length; i++) if (now[i] !== was[i]) changed.push([i, now[i]]);
    out[k] = { length: now.length, changed };
  }
  return out;
}

export function withConfig(state: StageState, change: (c: NonNullable<ImageConfig['config']>) => NonNullable<ImageConfig['config']>): StageState {
  return { ...state, config: { ...state.config, config: change({ ...(state.config.config ?? {}) }) } };
}

/**
 * Where each key sits in an Env array, one map shared by the arrays setEnv derives from one
 * another (a key keeps its place in every later array). A place is checked against the
 * array it is used for; a stale one (two stages grown from one base) falls back to a scan.
 * A scan per ENV line made a run of 10k lines quadratic.
 */
const envPlaces = new WeakMap<readonly string[], Map<string, number>>();

function envKey(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

function placesOf(env: readonly string[]): Map<string, number> {
  let places = envPlaces.get(env);
  if (!places) {
    places = new Map();
    for (let i = 0; i < env.length; i++) if (!places.has(envKey(env[i]!))) places.set(envKey(env[i]!), i);
    envPlaces.set(env, places);
  }
  return places;
}

/** Sets `key` in a copy of `env`, or in `inPlace` (the same array, writable) when given. */
export function setEnv(env: readonly string[] | null | undefined, key: string, value: string, inPlace?: string[]): string[] {
  const before = env ?? [];
  const places = placesOf(before);
  let i = places.get(key) ?? -1; // every key of the arrays sharing the map is in it
  if (i >= 0 && !(i < before.length && envKey(before[i]!) === key)) i = before.findIndex((e) => envKey(e) === key);
  const out = inPlace ?? [...before];
  if (i >= 0) out[i] = `${key}=${value}`;
  else {
    out.push(`${key}=${value}`);
    places.set(key, out.length - 1);
  }
  envPlaces.set(out, places);
  return out;
}
