/** Go's literals as text/template reads them: quoted strings (strconv.Unquote) and numbers. */

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\\u0007',
  b: '\\b',
  f: '\\f',
  n: '\\n',
  r: '\\r',
  t: '\\t',
  v: '\\u000b',
  "'": "'",
  '\\': '\\\\',
  '"': '\\"',
};

/** strconv.Unquote of a double-quoted or raw (backquoted) string; undefined when it is not valid Go. */
export function goUnquote(quoted: string): string | undefined {
  if (quoted.startsWith('`')) return quoted.slice(1, -1);
  try {
    return JSON.parse(
      quoted.replace(/\\([abfnrtv'\\"]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3})/g, (_m, e: string) => {
        const simple = SIMPLE_ESCAPES[e];
        if (simple) return simple;
        const cp = e[0] === 'x' || e[0] === 'u' || e[0] === 'U' ? Number.parseInt(e.slice(1), 16) : Number.parseInt(e, 8);
        return JSON.stringify(String.fromCodePoint(cp)).slice(1, -1);
      }),
    ) as string;
  } catch {
    return undefined;
  }
}

/** A Go number literal (`42`, `0x1F`, `0o17`, `017`, `0b101`, `1_000`, `1.5e3`); undefined when it is not one. */
export function goNumber(text: string): { value: number; isFloat: boolean } | undefined {
  const t = text.replace(/_/g, '');
  const isHex = /^[+-]?0[xX]/.test(t);
  let value: number;
  if (/^[+-]?0[bB]/.test(t)) value = Number.parseInt(t.replace(/0[bB]/, ''), 2);
  else if (/^[+-]?0[oO]/.test(t)) value = Number.parseInt(t.replace(/0[oO]/, ''), 8);
  else if (/^[+-]?0\d+$/.test(t)) value = Number.parseInt(t, 8);
  else if (isHex && !/[.pP]/.test(t)) value = Number.parseInt(t.replace(/0[xX]/, ''), 16);
  else value = Number(t);
  if (Number.isNaN(value) || t.endsWith('i')) return undefined;
  return { value, isFloat: !isHex && /[.eE]/.test(t) };
}
