/**
 * Times parsing, typing and resolving the whole ML Dockerfile corpus (target: < 50 ms per
 * pass). Run: node --import tsx bench/parse.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dump, loadDockerfile, parseDockerfile, resolveBuild } from '../src/dockerfile/index.ts';

const dir = new URL('../../shared/corpus/ml-dockerfiles/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('Dockerfile'));
const sources = files.map((f) => ({ name: f, text: readFileSync(new URL(f, dir), 'utf8') }));
const bytes = sources.reduce((n, s) => n + Buffer.byteLength(s.text), 0);

function timeIt(label: string, fn: () => void, rounds = 30): number {
  for (let i = 0; i < 5; i++) fn(); // warm up the JIT
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${label.padEnd(34)} median ${median.toFixed(2)} ms  (min ${times[0]!.toFixed(2)}, max ${times.at(-1)!.toFixed(2)})`);
  return median;
}

console.log(`ML corpus: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB`);
const t0 = performance.now();
for (const s of sources) parseDockerfile(s.text, s.name);
console.log(`${'parse, first (cold) pass'.padEnd(34)} ${(performance.now() - t0).toFixed(2)} ms`);
const parse = timeIt('parse', () => {
  for (const s of sources) parseDockerfile(s.text, s.name);
});
timeIt('parse + dump', () => {
  for (const s of sources) dump(parseDockerfile(s.text, s.name));
});
timeIt('parse + type + resolve all stages', () => {
  for (const s of sources) {
    const df = loadDockerfile(s.text, s.name);
    resolveBuild(df, { buildPlatform: { os: 'linux', architecture: 'amd64' } });
  }
});
console.log(parse < 50 ? `OK: parsing the corpus takes ${parse.toFixed(2)} ms (< 50 ms)` : `SLOW: ${parse.toFixed(2)} ms (target < 50 ms)`);
