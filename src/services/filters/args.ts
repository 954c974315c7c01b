/**
 * docker's filter arguments (moby's `filters.Args`): each key with the values given for it.
 * Values of one key are alternatives, different keys must all hold, and every listing checks
 * its keys against the ones it accepts before it matches anything. The CLI builds them from
 * repeated `--filter key=value` flags, the Engine API from its `filters` JSON parameter; both
 * then use the same checks and matchers, so the two front ends agree on what a filter means.
 * Nothing here touches a store: the callers hand in the facts of what they list.
 */
import { BerthError } from '../../errors/index.ts';

/** Each filter key to its values, in the order given. */
export type FilterArgs = ReadonlyMap<string, readonly string[]>;

export const NO_FILTERS: FilterArgs = new Map();

/** The docker CLI's text for a `--filter` without `=`. */
export const BAD_FILTER_FORMAT = 'bad format of filter (expected name=value)';

/**
 * `--filter key=value` flags as the docker CLI reads them: the key lower-cased and trimmed,
 * the value trimmed, `label!=x` as the key `label!`.
 */
export function filtersFromFlags(specs: readonly string[]): FilterArgs {
  const out = new Map<string, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq < 0) throw new BerthError('INVALID_ARGUMENT', BAD_FILTER_FORMAT);
    const key = spec.slice(0, eq).trim().toLowerCase();
    out.set(key, [...(out.get(key) ?? []), spec.slice(eq + 1).trim()]);
  }
  return out;
}

/**
 * The API's `filters` JSON: `{"label":["a=b"]}`, or the older `{"label":{"a=b":true}}` that
 * some clients still send. Absent or null is no filter.
 */
export function filtersFromJson(raw: unknown): FilterArgs {
  if (raw === undefined || raw === null) return NO_FILTERS;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BerthError('INVALID_ARGUMENT', 'invalid filters: not an object of lists');
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v)) out.set(k, v.map(String));
    else if (v && typeof v === 'object')
      out.set(
        k,
        Object.entries(v as Record<string, unknown>).flatMap(([x, on]) => (on ? [x] : [])),
      );
    else throw new BerthError('INVALID_ARGUMENT', `invalid filter '${k}': its values must be a list`);
  }
  return out;
}

/** The same filters as the API's JSON (what `filters` carries on the wire). */
export function filtersToJson(args: FilterArgs): Record<string, Record<string, boolean>> {
  return Object.fromEntries([...args].map(([k, vs]) => [k, Object.fromEntries(vs.map((v) => [v, true]))]));
}

/** docker's `invalid filter 'key'` for a key the listing does not take. */
export function checkFilterKeys(args: FilterArgs, accepted: readonly string[]): void {
  for (const key of args.keys()) if (!accepted.includes(key)) throw new BerthError('INVALID_ARGUMENT', `invalid filter '${key}'`);
}

/** docker's error for a value a key does not take: `invalid filter 'key=[v1 v2]'`. */
export function invalidValue(key: string, values: readonly string[]): BerthError {
  return new BerthError('INVALID_ARGUMENT', `invalid filter '${key}=[${values.join(' ')}]'`);
}

/**
 * moby's GetBoolOrDefault: `true`/`1` or `false`/`0` (any case); undefined when the key is
 * absent. Values that disagree (`true` and `false`) keep everything, as docker's do.
 */
export function boolFilter(args: FilterArgs, key: string): boolean | undefined {
  const values = args.get(key);
  if (!values?.length) return undefined;
  const parsed = values.map((v) => {
    const l = v.toLowerCase();
    if (l === 'true' || l === '1') return true;
    if (l === 'false' || l === '0') return false;
    throw invalidValue(key, values);
  });
  return parsed.every((p) => p === parsed[0]) ? parsed[0] : undefined;
}

/** No values for `key`, or one of them passes `test`: the or within a key. */
export function anyValue(args: FilterArgs, key: string, test: (value: string) => boolean): boolean {
  const values = args.get(key);
  return !values?.length || values.some(test);
}

/** moby's ExactMatch: no values, or one equal to `source`. */
export function exactMatch(args: FilterArgs, key: string, source: string): boolean {
  return anyValue(args, key, (v) => v === source);
}

/**
 * moby's Match: no values, or one equal to `source` or a regular expression found in it.
 * A value that is no valid expression matches only itself.
 */
export function regexMatch(args: FilterArgs, key: string, source: string): boolean {
  return anyValue(args, key, (v) => v === source || patternFound(v, source));
}

/**
 * Go's regexp finds a match in linear time; JavaScript's backtracks. A pattern that repeats
 * a group holding a repeat or an alternative (`(a+)+`, `(a|aa)*`), or that has many repeats
 * (`a*a*a*a*a*b`), could then take exponential or huge polynomial time on a name of a few
 * dozen characters, and the API takes patterns from any client: such a pattern is matched as
 * plain text instead (what docker does with a value that is no expression).
 */
const MAX_PATTERN = 512;
const MAX_REPEATS = 4;

export function backtrackingRisk(pattern: string): boolean {
  if (pattern.length > MAX_PATTERN) return true;
  /** For each open group: whether it holds a repeat or an alternative. */
  const groups: boolean[] = [];
  let repeats = 0;
  let lastGroupRisky = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const closedGroupJustBefore = lastGroupRisky;
    lastGroupRisky = false;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // A class is one character: skip to its end (a `]` first in it is literal).
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
      continue;
    }
    if (c === '(') groups.push(false);
    else if (c === ')') {
      const risky = groups.pop() ?? false;
      if (risky && groups.length) groups[groups.length - 1] = true;
      lastGroupRisky = risky;
    } else if (c === '|') {
      if (groups.length) groups[groups.length - 1] = true;
    } else if (c === '*' || c === '+' || c === '{') {
      if (closedGroupJustBefore) return true;
      if (++repeats > MAX_REPEATS) return true;
      if (groups.length) groups[groups.length - 1] = true;
    }
  }
  return false;
}

function patternFound(pattern: string, source: string): boolean {
  if (backtrackingRisk(pattern)) return source === pattern;
  // Go's flag for case, `(?i)`, is JavaScript's `i`.
  const caseless = pattern.startsWith('(?i)');
  try {
    return new RegExp(caseless ? pattern.slice(4) : pattern, caseless ? 'i' : '').test(source);
  } catch {
    return false;
  }
}

/** moby's FuzzyMatch: no values, or one that is `source` or a prefix of it. */
export function prefixMatch(args: FilterArgs, key: string, source: string): boolean {
  return anyValue(args, key, (v) => source.startsWith(v));
}

/** One `label` value against labels: `k` has the key, `k=v` has that value. */
export function labelHolds(wanted: string, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  const eq = wanted.indexOf('=');
  const key = eq < 0 ? wanted : wanted.slice(0, eq);
  if (!labels || !Object.hasOwn(labels, key)) return false;
  return eq < 0 || labels[key] === wanted.slice(eq + 1);
}

/**
 * moby's MatchKVList for `label` (every value must hold, unlike other keys) and, where the
 * listing takes it, `label!` (none may hold).
 */
export function labelsMatch(args: FilterArgs, labels: Readonly<Record<string, string>> | null | undefined): boolean {
  return (args.get('label') ?? []).every((l) => labelHolds(l, labels)) && !(args.get('label!') ?? []).some((l) => labelHolds(l, labels));
}
