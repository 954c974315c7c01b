/**
 * JSON-like data seen as Go values. A template runs over plain objects, arrays and scalars;
 * Go's behaviour depends on types JSON does not carry, so a caller marks what matters:
 * - an object is a Go map (missing key: `<no value>`, printed `map[k:v]`, keys sorted) unless
 *   `asStruct` marks it as a struct (missing field: an error, printed `{v1 v2}` in key order);
 * - `typedNil('slice' | 'map')` is Go's nil slice or map (prints `[]` / `map[]`, JSON `null`),
 *   where a bare `null` is a nil pointer or interface (prints `<nil>`);
 * - `undefined` is Go's invalid value (a missing map key): `<no value>`;
 * - a function is a method: `.Label "x"` calls it with the arguments;
 * - integral numbers are ints, others float64; `GoFloat` keeps a float literal such as `1.0`.
 */

const STRUCT = Symbol('go struct');
const NIL = Symbol('go nil');
const MARSHALS_ESCAPED = Symbol('go json.Marshal');

export class GoFloat {
  constructor(readonly value: number) {}
}

/** Marks `obj` as a Go struct named `typeName`; an empty name gives docker inspect's wording for a missing field. */
export function asStruct<T extends object>(obj: T, typeName = ''): T {
  Object.defineProperty(obj, STRUCT, { value: typeName, enumerable: false });
  return obj;
}

/**
 * Marks a value whose Go type marshals itself with json.Marshal, which escapes `<>&` (docker's
 * list rows): `{{json .}}` on it escapes them too, where the `json` function otherwise does not.
 */
export function marshalsEscaped<T extends object>(obj: T): T {
  Object.defineProperty(obj, MARSHALS_ESCAPED, { value: true, enumerable: false });
  return obj;
}

export function structType(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null ? (v as { [STRUCT]?: string })[STRUCT] : undefined;
}

export function typedNil(kind: 'slice' | 'map'): unknown[] | Record<string, never> {
  const v = kind === 'slice' ? [] : {};
  Object.defineProperty(v, NIL, { value: true, enumerable: false });
  return v;
}

export function isTypedNil(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { [NIL]?: boolean })[NIL] === true;
}

export type GoKind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func';

export function kindOf(v: unknown): GoKind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (v instanceof GoFloat) return 'float';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'function') return 'func';
  if (Array.isArray(v)) return 'slice';
  return structType(v) !== undefined ? 'struct' : 'map';
}

/** The Go type name used in messages such as `can't evaluate field X in type T`. */
export function goTypeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return 'interface {}';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'func':
      return 'func';
    case 'slice':
      return (v as unknown[]).every((x) => typeof x === 'string') ? '[]string' : '[]interface {}';
    case 'map':
      return Object.values(v as object).every((x) => typeof x === 'string') ? 'map[string]string' : 'map[string]interface {}';
    case 'struct':
      return structType(v) || 'map[string]interface {}';
  }
}

export function numberValue(v: unknown): number {
  return v instanceof GoFloat ? v.value : Number(v);
}

/** Go's truth (text/template isTrue): empty and zero values are false, structs always true. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return numberValue(v) !== 0;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return Object.keys(v as object).length > 0;
    case 'struct':
    case 'func':
      return true;
  }
}

/** Go's `%v` of a float64: shortest digits, exponent form outside [1e-4, 1e6) (`1e+06`). */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 6) return goExponent(x.toExponential());
  return String(x);
}

/** JS `1.5e+7` → Go `1.5e+07`. */
export function goExponent(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** Go's fmt `%v` (what an action prints): maps sorted by key, slices in brackets. */
export function formatValue(v: unknown, top = true): string {
  switch (kindOf(v)) {
    case 'invalid':
      return '<no value>';
    case 'nil':
      return '<nil>';
    case 'bool':
      return String(v);
    case 'int':
      return String(v);
    case 'float':
      return formatFloat(numberValue(v));
    case 'string':
      return v as string;
    case 'func':
      return top ? '<func>' : '0x0';
    case 'slice':
      return `[${(v as unknown[]).map((x) => formatValue(x === undefined ? null : x, false)).join(' ')}]`;
    case 'map':
      return `map[${Object.keys(v as object)
        .sort()
        .map((k) => `${k}:${formatValue((v as Record<string, unknown>)[k] ?? null, false)}`)
        .join(' ')}]`;
    case 'struct':
      return `{${Object.getOwnPropertyNames(v)
        .map((k) => (v as Record<string, unknown>)[k])
        .filter((x) => typeof x !== 'function')
        .map((x) => formatValue(x ?? null, false))
        .join(' ')}}`;
  }
}

/**
 * Go's json.Marshal: typed nils are `null`, methods are left out. `escapeHTML` as Go's
 * encoder (docker's rows escape `<>&`; docker's `json` template function does not).
 */
export function toJson(v: unknown, escapeHTML = false): string {
  const s =
    JSON.stringify(v === undefined ? null : v, (_k, x: unknown) => {
      if (isTypedNil(x)) return null;
      if (x instanceof GoFloat) return x.value;
      if (typeof x === 'bigint') return Number(x);
      return x;
    }) ?? 'null';
  const out = s.replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
  const escapeMarkup = escapeHTML || (typeof v === 'object' && v !== null && (v as { [MARSHALS_ESCAPED]?: boolean })[MARSHALS_ESCAPED] === true);
  return escapeMarkup ? out.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : out;
}
