/**
 * Output shapes shared by every listing verb, matching docker's: tab-aligned tables
 * (3 spaces between columns), human sizes in decimal units, "N minutes ago" times, and
 * `--format` as docker has it: `json`, `table TEMPLATE`, or a Go template run by
 * src/template/ (Go's text/template semantics and docker's functions). inspect's forms
 * are in format-inspect.ts.
 */

import { humanDuration } from '../progress/units.ts';
import { asStruct, marshalsEscaped, parseTemplate, type Template, TemplateExecError, TemplateParseError, toJson } from '../template/index.ts';
import { StatusError } from './exit.ts';

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

/** How a verb words template failures and names its row type, as docker does. */
export interface RowContext {
  /** Go's type of a row in docker (`*formatter.ContainerContext`), for `can't evaluate field X in type T`. */
  readonly type?: string;
  /** Column headers for fields whose header is not the field name split and upper-cased (`ID` → `CONTAINER ID`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** ps words its errors `failed to parse template:` / `failed to execute template:`; the others `template parsing error:`. */
  readonly ps?: boolean;
}

/** Parses a template, failing with docker's words and `status` on a syntax error. */
export function compileTemplate(text: string, prefix = 'template parsing error: ', status = 1, name = ''): Template {
  try {
    return parseTemplate(text, name);
  } catch (e) {
    if (e instanceof TemplateParseError) throw new StatusError(status, `${prefix}${e.message}`);
    throw e;
  }
}

/** Runs a compiled template; an execution error fails with `prefix` and exit 1. */
export function runTemplate(tpl: Template, data: unknown, prefix = 'template parsing error: '): string {
  try {
    return tpl.execute(data);
  } catch (e) {
    if (e instanceof TemplateExecError) throw new StatusError(1, `${prefix}${e.message}`);
    throw e;
  }
}

/** How a verb that formats one value (info, version, events) words its failures, as docker does. */
export interface RenderOptions {
  /** The template's name in messages (`template: version:1: ...`); docker names version's `version`. */
  readonly name?: string;
  /** Docker's Go type of the value: it becomes a struct, whose missing fields are errors naming it. */
  readonly type?: string;
  /** The exit status of a syntax error (64 for info and version in docker 28). */
  readonly parseStatus?: number;
  readonly parsePrefix?: string;
}

/**
 * One value through a template, as `info --format` and `events --format` do: the data is a
 * Go map (a missing key prints `<no value>`) unless `opts.type` makes its top a struct.
 * A syntax error is `template parsing error: ...`; an execution error is Go's message alone.
 */
export function renderTemplate(template: string, data: unknown, opts: RenderOptions = {}): string {
  const tpl = compileTemplate(template, opts.parsePrefix, opts.parseStatus, opts.name);
  const value = opts.type && typeof data === 'object' && data !== null ? asStruct({ ...data }, opts.type) : data;
  return runTemplate(tpl, value, '');
}

/** docker's formatter: `\t` and `\n` typed in a --format mean tab and newline, and the ends are trimmed of spaces. */
function preFormat(format: string): string {
  return format
    .replace(/^ +| +$/g, '')
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n');
}

/** A row as the template sees it: a struct of docker's type, its fields in name order (as docker's JSON of a row). */
function rowValue(r: Row, type: string): Row {
  const sorted: Row = {};
  for (const k of Object.keys(r).sort()) sorted[k] = r[k];
  return marshalsEscaped(asStruct(sorted, type));
}

/** The header docker shows for a field: its name split at case changes and upper-cased, unless the verb names it. */
function headerRow(r: Row, ctx: RowContext): Row {
  const header: Row = {};
  for (const k of Object.keys(r)) {
    header[k] =
      typeof r[k] === 'function'
        ? (name: unknown) => String(name).split('.').pop()!.replace(/[-_]/g, ' ')
        : (ctx.headers?.[k] ?? k.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase());
  }
  return asStruct(header, ctx.type ?? '');
}

/** Go's tabwriter as docker sets it (min width 10, padding 3): cells end at tabs, the last cell of a line is not padded. */
export function tabwrite(text: string): string {
  const lines = text.split('\n');
  const cells = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const row of cells) {
    for (const [i, c] of row.slice(0, -1).entries()) widths[i] = Math.max(widths[i] ?? 0, c.length + 3, 10);
  }
  return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('')).join('\n');
}

/**
 * Docker's `--format` for list verbs: empty or `table` → the default table; `json` → one JSON
 * object per line (keys sorted, as docker's rows marshal); `table TEMPLATE` → the template per
 * row under a header row, aligned by tabs; otherwise the template per row. A function in a row
 * is a method (`.Label "team"`).
 */
export function formatRows(
  format: string | undefined,
  rows: readonly Row[],
  table: { headers: readonly string[]; cells: (r: Row) => string[] },
  ctx: RowContext = {},
): string {
  if (!format || format === 'table') return renderTable(table.headers, rows.map(table.cells));
  if (format === 'json') return rows.map((r) => `${toJson(rowValue(r, ''), true)}\n`).join('');
  const isTable = format.startsWith('table');
  const text = preFormat(isTable ? format.slice(5) : format);
  const tpl = compileTemplate(text, ctx.ps ? 'failed to parse template: ' : 'template parsing error: ');
  const execPrefix = ctx.ps ? 'failed to execute template: ' : 'template parsing error: ';
  const type = ctx.type ?? '';
  const lines = rows.map((r) => `${runTemplate(tpl, rowValue(r, type), execPrefix)}\n`);
  if (!isTable) return lines.join('');
  const header = rows.length ? `${runTemplate(tpl, headerRow(rows[0]!, ctx), execPrefix)}\n` : `${headerFromFields(text, table, ctx)}\n`;
  return tabwrite(header + lines.join(''));
}

/** With no rows, docker still prints the header: the fields named in the template, through the header map. */
function headerFromFields(text: string, table: { headers: readonly string[] }, ctx: RowContext): string {
  return (
    text
      .split('\t')
      .map((cell) => {
        const m = /\{\{-?\s*\.(\w+)(?:\s+"([^"]*)")?/.exec(cell);
        if (!m) return cell.replace(/\{\{[^}]*\}\}/g, '');
        if (m[2] !== undefined) return m[2].split('.').pop()!;
        return ctx.headers?.[m[1]!] ?? m[1]!.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
      })
      .join('\t') || table.headers.join('\t')
  );
}

/** The list verbs' row types and header names, as docker's formatter has them. */
export const PS_CONTEXT: RowContext = {
  type: '*formatter.ContainerContext',
  ps: true,
  headers: { ID: 'CONTAINER ID', RunningFor: 'CREATED', CreatedAt: 'CREATED AT', LocalVolumes: 'LOCAL VOLUMES' },
};
export const IMAGES_CONTEXT: RowContext = {
  type: '*formatter.imageContext',
  headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', VirtualSize: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE' },
};
export const HISTORY_CONTEXT: RowContext = {
  type: '*image.historyContext',
  headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY' },
};
export const DISK_USAGE_CONTEXT: RowContext = { type: '*formatter.diskUsageImagesContext', headers: { TotalCount: 'TOTAL' } };
export const VOLUMES_CONTEXT: RowContext = { type: '*formatter.volumeContext', headers: { Name: 'VOLUME NAME' } };
export const NETWORKS_CONTEXT: RowContext = {
  type: '*network.networkContext',
  headers: { ID: 'NETWORK ID', CreatedAt: 'CREATED AT', IPv6: 'IPV6', IPv4: 'IPV4' },
};

/** A row's `.Label "name"`, as docker's list rows have it: the label's value, or "" when it has none. */
export function labelMethod(labels: Readonly<Record<string, string>>): (name: string) => string {
  return (name) => (typeof name === 'string' && Object.hasOwn(labels, name) ? labels[name]! : '');
}

/** A row's `.Labels`: `k=v` pairs joined by commas, as docker's rows print them. */
export function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * Go's time.Time String() in UTC, as docker's rows print CreatedAt: `2026-12-07 21:52:29 +0000 UTC`;
 * `fraction` keeps the sub-second digits (a network's CreatedAt), trailing zeros dropped as Go does.
 */
export function goTime(iso: string, fraction = false): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(new Date(t).toISOString());
  if (!m) return iso;
  const frac = fraction ? (/\.(\d+)/.exec(iso)?.[1] ?? '').replace(/0+$/, '') : '';
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}
