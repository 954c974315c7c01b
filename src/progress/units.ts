/**
 * Sizes as docker prints them (go-units): decimal units, `significant` digits, trailing zeros
 * dropped. Listings use 3 (`513MB`); pull and push progress uses 4 (`12.35MB/48.1MB`).
 */
export function humanSize(bytes: number, significant = 3): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(significant))}${units[i]}`;
}

/** Durations as docker prints them (go-units HumanDuration): `5 seconds`, `About an hour`, `3 weeks`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return 'Less than a second';
  const s = Math.round(ms / 1000);
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}
