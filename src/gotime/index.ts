/**
 * Go's duration text, as docker's flags and filters take it (`--health-interval 30s`,
 * `logs --since 10m`, `--filter until=1h30m`): one parser for all of them, exact in
 * nanoseconds, with Go's rules for what is not a duration.
 */

const NS_PER: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n,
  '\u03bcs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = 2n ** 63n - 1n;

/**
 * Go's time.ParseDuration: `1h30m`, `1.5s`, `.5s`, `300ms`, `-2s`, `0`, in nanoseconds; undefined
 * when the text is not a duration (a bare number other than 0, a unit alone) or overflows an
 * int64 of nanoseconds, as Go refuses it. Fractions are cut, not rounded, as Go cuts them.
 */
export function parseGoDuration(text: string): bigint | undefined {
  let rest = text;
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest) {
    const m = /^(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const unit = NS_PER[m[3]!]!;
    let part = BigInt(m[1] || '0') * unit;
    if (m[2]) part += (BigInt(m[2]) * unit) / 10n ** BigInt(m[2].length);
    total += part;
    if (total > MAX_INT64) return undefined;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}
