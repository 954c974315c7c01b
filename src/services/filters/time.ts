/**
 * The times filters and `events` take, as docker reads them (its `timetypes.GetTimestamp`):
 * Unix seconds with a fraction, RFC 3339 with or without a zone, a bare date, or a Go
 * duration counted back from now.
 */
import { BerthError } from '../../errors/index.ts';
import { parseGoDuration } from '../../gotime/index.ts';

export { parseGoDuration };
import type { FilterArgs } from './args.ts';

const NS_PER_S = 1_000_000_000n;

/** Now in nanoseconds since the epoch. */
export function nowNanoseconds(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * A `since`, `until` or filter time in nanoseconds since the epoch: Unix seconds with an
 * optional fraction (`1700000000.5`, what the docker CLI sends), RFC 3339
 * (`2026-12-07T18:00:00Z`, or without a zone as UTC, or a bare date), or a Go duration
 * counted back from `now` (`10m`; a negative one counts forward). Anything else is a 400.
 */
export function parseTimestamp(text: string, now: bigint = nowNanoseconds()): bigint {
  const value = text.trim();
  const unix = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(value);
  // Docker reads "0" as the epoch, not as a zero duration.
  if (unix) return BigInt(unix[1]!) * NS_PER_S + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const d = parseGoDuration(value);
  if (d !== undefined) return now - d;
  const rfc = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?)(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (rfc) {
    const ms = Date.parse(`${rfc[1]}T${rfc[2] ?? '00:00:00'}${rfc[4] ?? 'Z'}`);
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + BigInt((rfc[3] ?? '.').slice(1).padEnd(9, '0') || '0');
  }
  throw new BerthError('INVALID_ARGUMENT', `failed to parse value as time or duration: "${text}"`);
}

/**
 * A prune's `until`: what was created before this time (milliseconds) goes; undefined when
 * there is no `until`. Docker takes one value only.
 */
export function untilCutoff(args: FilterArgs, now: bigint = nowNanoseconds()): number | undefined {
  const values = args.get('until');
  if (!values?.length) return undefined;
  if (values.length > 1) throw new BerthError('INVALID_ARGUMENT', 'more than one until filter specified');
  return Number(parseTimestamp(values[0]!, now) / 1_000_000n);
}
