/**
 * The functions a template may call: Go's builtins (text/template/funcs.go) and docker's own
 * (docker/cli templates/templates.go: json, split, join, title, lower, upper, pad, truncate).
 * Each declares its parameters as Go does, so the executor gives Go's messages for a wrong count
 * or type; an error thrown here becomes `error calling NAME: ...`. `and` and `or` are not here:
 * they evaluate their arguments lazily, so the executor runs them itself.
 */
import { sprint, sprintf, sprintln } from './fmt.ts';
import { formatValue, goTypeName, isTrue, kindOf, numberValue, toJson } from './values.ts';

/** A Go parameter type: what the executor checks an argument against. */
export type ParamType = 'any' | 'string' | 'int' | 'strings';

/** How Go names a parameter type in its messages. */
export function goParam(type: ParamType): string {
  return type === 'any' ? 'interface {}' : type === 'strings' ? '[]string' : type;
}

/**
 * Go's validateType for an argument `v` of a parameter of `type`: the value to pass (a missing
 * value is nil where nil fits), or Go's message; `typeName` names v's type in it.
 */
export function checkParam(type: ParamType, v: unknown, typeName: (v: unknown) => string): { value: unknown } | { error: string } {
  if (v === undefined) return type === 'any' || type === 'strings' ? { value: null } : { error: `invalid value; expected ${goParam(type)}` };
  const ok =
    type === 'any' ||
    (type === 'string' && typeof v === 'string') ||
    (type === 'int' && kindOf(v) === 'int') ||
    (type === 'strings' && (v === null || (Array.isArray(v) && v.every((x) => typeof x === 'string'))));
  if (!ok) return { error: `wrong type for value; expected ${goParam(type)}; got ${typeName(v)}` };
  return { value: type === 'strings' && v === null ? [] : v };
}

export interface TemplateFunction {
  readonly params: readonly ParamType[];
  /** The last parameter repeats (Go's `...T`). */
  readonly variadic?: boolean;
  readonly call: (args: unknown[]) => unknown;
}

export class CallError extends Error {}

const fn = (params: ParamType[], call: (args: unknown[]) => unknown, variadic = false): TemplateFunction => ({ params, call, variadic });

export const BUILTINS: Readonly<Record<string, TemplateFunction>> = {
  not: fn(['any'], ([a]) => !isTrue(a)),
  len: fn(['any'], ([a]) => length(a)),
  index: fn(['any', 'any'], ([item, ...keys]) => keys.reduce(indexOne, item), true),
  slice: fn(['any', 'any'], ([item, ...idx]) => sliceOf(item, idx as unknown[]), true),
  print: fn(['any'], (args) => sprint(args), true),
  println: fn(['any'], (args) => sprintln(args), true),
  printf: fn(['string', 'any'], ([f, ...args]) => sprintf(f as string, args), true),
  html: fn(['any'], (args) => htmlEscape(evalArgs(args)), true),
  js: fn(['any'], (args) => jsEscape(evalArgs(args)), true),
  urlquery: fn(
    ['any'],
    (args) =>
      encodeURIComponent(evalArgs(args))
        .replace(/%20/g, '+')
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    true,
  ),
  eq: fn(
    ['any', 'any'],
    ([a, ...rest]) => {
      if (rest.length === 0) throw new CallError('missing argument for comparison');
      return rest.some((b) => equal(a, b));
    },
    true,
  ),
  ne: fn(['any', 'any'], ([a, b]) => !equal(a, b)),
  lt: fn(['any', 'any'], ([a, b]) => less(a, b)),
  le: fn(['any', 'any'], ([a, b]) => less(a, b) || equal(a, b)),
  gt: fn(['any', 'any'], ([a, b]) => !less(a, b) && !equal(a, b)),
  ge: fn(['any', 'any'], ([a, b]) => !less(a, b)),
};

export const DOCKER_FUNCS: Readonly<Record<string, TemplateFunction>> = {
  json: fn(['any'], ([v]) => toJson(v)),
  split: fn(['string', 'string'], ([s, sep]) => goSplit(s as string, sep as string)),
  join: fn(['strings', 'string'], ([a, sep]) => (a as string[]).join(sep as string)),
  title: fn(['string'], ([s]) =>
    (s as string).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => {
      const upper = c.toUpperCase();
      return pre + (upper.length === c.length ? upper : c);
    }),
  ),
  lower: fn(['string'], ([s]) => (s as string).toLowerCase()),
  upper: fn(['string'], ([s]) => (s as string).toUpperCase()),
  pad: fn(['string', 'int', 'int'], ([s, pre, post]) => (s === '' ? '' : ' '.repeat(pre as number) + s + ' '.repeat(post as number))),
  truncate: fn(['string', 'int'], ([s, n]) => {
    const b = Buffer.from(s as string);
    if (b.length < (n as number)) return s;
    if ((n as number) < 0) throw new CallError(`runtime error: slice bounds out of range [:${n as number}]`);
    return b.subarray(0, n as number).toString();
  }),
};

/** Every name a template may call, including the two the executor runs itself. */
export function isFunction(name: string): boolean {
  return name === 'and' || name === 'or' || name in BUILTINS || name in DOCKER_FUNCS;
}

export function lookupFunction(name: string): TemplateFunction | undefined {
  return BUILTINS[name] ?? DOCKER_FUNCS[name];
}

function length(a: unknown): number {
  switch (kindOf(a)) {
    case 'string':
      return Buffer.byteLength(a as string);
    case 'slice':
      return (a as unknown[]).length;
    case 'map':
      return Object.keys(a as object).length;
    case 'nil':
    case 'invalid':
      throw new CallError('reflect: call of reflect.Value.Type on zero Value');
    default:
      throw new CallError(`len of type ${goTypeName(a)}`);
  }
}

function toIndex(i: unknown, len: number, cap = len): number {
  if (kindOf(i) !== 'int') throw new CallError(`cannot index slice/array with type ${goTypeName(i)}`);
  const n = i as number;
  if (n < 0 || n > cap) throw new CallError(`index out of range: ${n}`);
  return n;
}

function indexOne(item: unknown, key: unknown): unknown {
  switch (kindOf(item)) {
    case 'slice': {
      const arr = item as unknown[];
      const i = toIndex(key, arr.length);
      if (i >= arr.length) throw new CallError('reflect: slice index out of range');
      return arr[i];
    }
    case 'string': {
      const b = Buffer.from(item as string);
      const i = toIndex(key, b.length);
      if (i >= b.length) throw new CallError('reflect: string index out of range');
      return b[i];
    }
    case 'map': {
      if (kindOf(key) !== 'string') throw new CallError(`value has type ${goTypeName(key)}; should be string`);
      const map = item as Record<string, unknown>;
      if (Object.hasOwn(map, key as string)) return map[key as string];
      // A missing key gives the map's zero value: "" for docker's string maps (labels, options).
      return Object.values(map).every((v) => typeof v === 'string') ? '' : null;
    }
    case 'nil':
    case 'invalid':
      throw new CallError('index of untyped nil');
    default:
      throw new CallError(`can't index item of type ${goTypeName(item)}`);
  }
}

function sliceOf(item: unknown, idx: unknown[]): unknown {
  const kind = kindOf(item);
  if (kind !== 'slice' && kind !== 'string') {
    if (kind === 'nil' || kind === 'invalid') throw new CallError('slice of untyped nil');
    throw new CallError(`can't slice item of type ${goTypeName(item)}`);
  }
  if (idx.length > 3) throw new CallError(`too many slice indexes: ${idx.length}`);
  if (kind === 'string' && idx.length === 3) throw new CallError('cannot 3-index slice a string');
  const len = kind === 'string' ? Buffer.byteLength(item as string) : (item as unknown[]).length;
  const at = idx.map((i) => toIndex(i, len));
  const from = at[0] ?? 0;
  const to = at[1] ?? len;
  if (from > to) throw new CallError(`invalid slice index: ${from} > ${to}`);
  return kind === 'string'
    ? Buffer.from(item as string)
        .subarray(from, to)
        .toString()
    : (item as unknown[]).slice(from, to);
}

/** Go's evalArgs for html/js/urlquery: one string as is, anything else through fmt.Sprint. */
function evalArgs(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function jsEscape(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go's JSEscape escapes control characters.
  return s.replace(/[\\'"<>&=\0-\x1f]/g, (c) => {
    const simple: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"' };
    return simple[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

function goSplit(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

type Basic = 'bool' | 'int' | 'float' | 'string' | 'nil';

function basicKind(v: unknown): Basic | undefined {
  const k = kindOf(v);
  if (k === 'invalid' || k === 'nil') return 'nil';
  return k === 'bool' || k === 'int' || k === 'float' || k === 'string' ? k : undefined;
}

function equal(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka === undefined || kb === undefined) {
    if (kindOf(a) !== kindOf(b)) throw new CallError('incompatible types for comparison');
    throw new CallError(`non-comparable types ${formatValue(a)}: ${goTypeName(a)}, ${goTypeName(b)}: ${formatValue(b)}`);
  }
  if (ka !== kb) throw new CallError('incompatible types for comparison');
  return ka === 'int' || ka === 'float' ? numberValue(a) === numberValue(b) : a === b;
}

function less(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === undefined || ka === 'bool' || ka === 'nil' || kb === undefined || kb === 'bool' || kb === 'nil')
    throw new CallError('invalid type for comparison');
  if (ka !== kb) throw new CallError('incompatible types for comparison');
  return ka === 'string' ? (a as string) < (b as string) : numberValue(a) < numberValue(b);
}
