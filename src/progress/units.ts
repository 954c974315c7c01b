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
