/**
 * Go's fmt for templates: `printf` verbs (%v %s %d %q %t %x %X %o %b %c %e %f %g %%) with
 * flags, widths and precisions, Go's complaints inline (`%!d(string=x)`, `%!s(MISSING)`,
 * `%!(EXTRA string=x)`), and `print`/`println`'s spacing rules.
 */
import { formatFloat, formatValue, GoFloat, goExponent, goTypeName, kindOf, numberValue } from './values.ts';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a ?? null);
  });
  return out;
}

/** fmt.Sprintln: always spaces, and a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map((a) => formatValue(a ?? null)).join(' ')}\n`;
}

export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct === -1) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (;;) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = !spec.minus;
      else break;
      i++;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return typeof a === 'number' ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = num();
    if (spec.width !== undefined && spec.width < 0) {
      spec.minus = true;
      spec.width = -spec.width;
    }
    if (format[i] === '.') {
      i++;
      spec.prec = num() ?? 0;
    }
    const verb = format[i];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    i++;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += pad(formatOne(verb, args[argi++], spec), spec);
  }
  if (argi < args.length)
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${goTypeName(a)}=${formatValue(a ?? null)}`)
      .join(', ')})`;
  return out;
}

function pad(s: string, spec: Spec): string {
  if (spec.width === undefined || s.length >= spec.width) return s;
  if (spec.minus) return s.padEnd(spec.width);
  if (spec.zero && /^[+-]?[\d.]/.test(s)) {
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(spec.width - sign.length, '0');
  }
  return s.padStart(spec.width);
}

function bad(verb: string, v: unknown): string {
  return `%!${verb}(${goTypeName(v)}=${formatValue(v ?? null)})`;
}

function formatOne(verb: string, v: unknown, spec: Spec): string {
  const kind = kindOf(v);
  if (verb === 'v') {
    if (spec.plus && kind === 'int') return withSign(String(v), spec);
    if (kind === 'float' && spec.prec !== undefined) return formatOne('g', v, spec);
    return kind === 'string' && spec.prec !== undefined ? (v as string).slice(0, spec.prec) : formatValue(v ?? null);
  }
  if (verb === 'T') return goTypeName(v);
  switch (kind) {
    case 'string': {
      const s = spec.prec !== undefined ? [...(v as string)].slice(0, spec.prec).join('') : (v as string);
      if (verb === 's') return s;
      if (verb === 'q') return spec.sharp && !s.includes('`') ? `\`${s}\`` : goQuoteString(s);
      if (verb === 'x' || verb === 'X') return hexOf(Buffer.from(s), verb, spec);
      return bad(verb, v);
    }
    case 'bool':
      return verb === 't' ? String(v) : bad(verb, v);
    case 'int': {
      const n = v as number;
      switch (verb) {
        case 'd':
          return withSign(String(n), spec);
        case 'x':
          return withSign((n < 0 ? '-' : '') + (spec.sharp ? '0x' : '') + Math.abs(n).toString(16), spec);
        case 'X':
          return withSign((n < 0 ? '-' : '') + (spec.sharp ? '0X' : '') + Math.abs(n).toString(16).toUpperCase(), spec);
        case 'o':
          return withSign((n < 0 ? '-' : '') + (spec.sharp ? '0' : '') + Math.abs(n).toString(8), spec);
        case 'b':
          return withSign(n.toString(2), spec);
        case 'c':
          return String.fromCodePoint(n);
        case 'q':
          return `'${String.fromCodePoint(n)}'`;
        case 'U':
          return `U+${n.toString(16).toUpperCase().padStart(4, '0')}`;
        case 'e':
        case 'f':
        case 'g':
          return bad(verb, v);
        default:
          return bad(verb, v);
      }
    }
    case 'float': {
      const x = numberValue(v);
      switch (verb) {
        case 'f':
        case 'F':
          return withSign(x.toFixed(spec.prec ?? 6), spec);
        case 'e':
          return withSign(goExponent(x.toExponential(spec.prec ?? 6)), spec);
        case 'E':
          return withSign(goExponent(x.toExponential(spec.prec ?? 6)).toUpperCase(), spec);
        case 'g':
          return withSign(spec.prec === undefined ? formatFloat(x) : goExponent(Number(x.toPrecision(spec.prec)).toString()), spec);
        default:
          return bad(verb, v instanceof GoFloat ? v : x);
      }
    }
    case 'slice':
      if (verb === 's' || verb === 'd' || verb === 'q' || verb === 'x' || verb === 't')
        return `[${(v as unknown[]).map((x) => formatOne(verb, x === undefined ? null : x, { ...spec, width: undefined })).join(' ')}]`;
      return bad(verb, v);
    case 'map':
    case 'struct':
      return verb === 's' || verb === 'd' ? formatValue(v) : bad(verb, v);
    default:
      return kind === 'nil' || kind === 'invalid' ? `%!${verb}(<nil>)` : bad(verb, v);
  }
}

function withSign(s: string, spec: Spec): string {
  if (s.startsWith('-')) return s;
  if (spec.plus) return `+${s}`;
  if (spec.space) return ` ${s}`;
  return s;
}

function hexOf(bytes: Buffer, verb: string, spec: Spec): string {
  const h = bytes.toString('hex');
  const s = spec.sharp ? `0x${h}` : h;
  return verb === 'X' ? s.toUpperCase().replace(/^0X/, '0X') : s;
}

/** strconv.Quote: Go's escapes, printable Unicode kept. */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export { numberValue };
