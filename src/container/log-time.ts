/**
 * The times `logs --since/--until` take, read as the docker CLI reads them (its
 * GetTimestamp): a Go duration back from now (`10m`, `1h30m`), a unix time with an optional
 * fraction, or an RFC 3339 date or time, whose zone is the local one when it names none.
 * Pure: `now` is given.
 */
import { BerthError } from '../errors/index.ts';
import { parseGoDuration as parseGoDurationNs } from '../gotime/index.ts';

/** Go's time.ParseDuration, in milliseconds; undefined when the text is not one (gotime/). */
export function parseGoDuration(text: string): number | undefined {
  const ns = parseGoDurationNs(text);
  return ns === undefined ? undefined : Number(ns) / 1e6;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

/**
 * A `--since`/`--until` value as milliseconds since the epoch. Anything else is docker's
 * error: `invalid value for "since": failed to parse value as time or duration: "x"`.
 */
export function parseLogTimestamp(value: string, flag: 'since' | 'until', now: number): number {
  const d = parseGoDuration(value);
  if (d !== undefined && value !== '0') return now - d;
  const date = DATE_RE.exec(value);
  if (date) {
    const [, y, mo, da, h = '00', mi = '00', s = '00', frac = '', zone] = date;
    const iso = `${y}-${mo}-${da}T${h}:${mi}:${s}${frac.slice(0, 4)}`;
    const ms = zone ? Date.parse(`${iso}${zone.toUpperCase()}`) : new Date(iso).getTime();
    if (!Number.isNaN(ms)) return ms;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const reason = value.includes('-')
    ? `parsing time ${JSON.stringify(value)}: cannot parse it as RFC 3339`
    : `failed to parse value as time or duration: ${JSON.stringify(value)}`;
  throw new BerthError('INVALID_ARGUMENT', `invalid value for "${flag}": ${reason}`);
}

/** `--details`' prefix of a line: its attributes as `k=v,k2=v2` (query-escaped, sorted by key) and a space. */
export function detailsPrefix(attrs: Readonly<Record<string, string>> | undefined): string {
  // Go's url.QueryEscape: what encodeURIComponent leaves, less !'()*, and a space as +.
  const queryEscape = (s: string) =>
    encodeURIComponent(s)
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%20/g, '+');
  return `${Object.keys(attrs ?? {})
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(attrs![k]!)}`)
    .join(',')} `;
}
