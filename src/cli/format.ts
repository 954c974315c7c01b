/**
 * Output shapes shared by every listing verb, matching docker's: tab-aligned tables
 * (3 spaces between columns), human sizes in decimal units, "N minutes ago" times, and the
 * `--format` Go-template subset people use in scripts (`{{.Field}}`, `{{json .}}`, `table`).
 */

import { BerthError } from '../errors/index.ts';
import { humanDuration } from '../progress/units.ts';

export { humanDuration, humanSize } from '../progress/units.ts';

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join('')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

type Row = Record<string, unknown>;

function lookup(row: Row, path: string): unknown {
  if (path === '.' || path === '') return row;
  let v: unknown = row;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Row)[part];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'object')
    return Array.isArray(v)
      ? `[${v.map(show).join(' ')}]`
      : `map[${Object.entries(v)
          .map(([k, x]) => `${k}:${show(x)}`)
          .join(' ')}]`;
  return String(v);
}

/** Functions a docker template may call: Go's builtins and docker's own (json, join, upper...). */
const TEMPLATE_FUNCS = new Set([
  'and',
  'call',
  'html',
  'index',
  'slice',
  'js',
  'len',
  'not',
  'or',
  'print',
  'printf',
  'println',
  'urlquery',
  'eq',
  'ge',
  'gt',
  'le',
  'lt',
  'ne',
  'json',
  'split',
  'join',
  'title',
  'lower',
  'upper',
  'pad',
  'truncate',
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
  'nil',
  'true',
  'false',
]);

/**
 * Refuses a template Go's text/template would not parse, with its words: an unclosed
 * action, a character no action may hold, an empty action, an unknown function. Checked
 * before any output, so a typo is an error (exit 1), not a line of literal text.
 */
export function checkTemplate(template: string): void {
  const fail = (at: number, what: string) => {
    const line = 1 + (template.slice(0, at).match(/\n/g)?.length ?? 0);
    throw new BerthError('SYNTAX', `template parsing error: template: :${line}: ${what}`, { hint: 'see https://docs.docker.com/go/formatting/' });
  };
  for (let open = template.indexOf('{{'); open !== -1; open = template.indexOf('{{', open)) {
    let i = open + 2;
    if (template.startsWith('/*', i) || template.startsWith('- /*', i)) {
      const end = template.indexOf('*/', i);
      if (end === -1) fail(open, 'unclosed comment');
      open = end;
      continue;
    }
    let words = 0;
    for (;;) {
      const ch = template[i];
      if (ch === undefined) fail(open, 'unclosed action');
      if (ch === '}' && template[i + 1] === '}') break;
      if (ch === '"' || ch === '`' || ch === "'") {
        const end = ch === '`' ? template.indexOf('`', i + 1) : template.slice(i + 1).search(ch === '"' ? /(?<!\\)"/ : /(?<!\\)'/) + i + 1;
        if (end <= i) fail(open, ch === '`' ? 'unterminated raw quoted string' : 'unterminated quoted string');
        i = end + 1;
        words++;
        continue;
      }
      if (/[A-Za-z_]/.test(ch) && !/[.$\w]/.test(template[i - 1] ?? '')) {
        const name = /^[A-Za-z_]\w*/.exec(template.slice(i))![0];
        if (!TEMPLATE_FUNCS.has(name)) fail(open, `function "${name}" not defined`);
        i += name.length;
        words++;
        continue;
      }
      if (!/[\s\w.$()|,=:+-]/.test(ch)) fail(open, `bad character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${ch}'`);
      if (!/\s|-/.test(ch)) words++;
      i++;
    }
    if (words === 0) fail(open, 'missing value for command');
    open = i + 2;
  }
}

/** Renders one row through a Go-template subset: `{{.A.B}}`, `{{json .X}}`, `{{upper .X}}`, `{{lower .X}}`. */
export function renderTemplate(template: string, row: Row): string {
  checkTemplate(template);
  const body = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return body.replace(/\{\{\s*(json|upper|lower|println)?\s*([.\w]*)\s*\}\}/g, (_m, fn: string | undefined, path: string) => {
    const v = lookup(row, path);
    switch (fn) {
      case 'json':
        return JSON.stringify(v ?? null);
      case 'upper':
        return show(v).toUpperCase();
      case 'lower':
        return show(v).toLowerCase();
      default:
        return show(v);
    }
  });
}

/**
 * Docker's `--format` for list verbs: empty → the default table; `json` → one JSON object per
 * line; `table TEMPLATE` → a table whose headers are the field names; otherwise the template per row.
 */
export function formatRows(format: string | undefined, rows: readonly Row[], table: { headers: readonly string[]; cells: (r: Row) => string[] }): string {
  if (!format || format === 'table') return renderTable(table.headers, rows.map(table.cells));
  if (format !== 'json') checkTemplate(format.replace(/^table /, ''));
  if (format === 'json') return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  if (format.startsWith('table ')) {
    const tpl = format.slice(6);
    const cols = tpl.split(/\\t|\t/);
    const headers = cols.map((c) => (/\{\{\s*\.?(\w+)/.exec(c)?.[1] ?? c).replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase());
    return renderTable(
      headers,
      rows.map((r) => cols.map((c) => renderTemplate(c, r))),
    );
  }
  return rows.map((r) => `${renderTemplate(format, r)}\n`).join('');
}
