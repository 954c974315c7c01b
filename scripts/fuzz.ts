/**
 * The long fuzz run: `scripts/fuzz.sh [N] [seed] [target...]` runs N cases in total (default
 * 100 000), split evenly over the targets, and prints one summary line per target and each
 * distinct finding with its (minimized) input. Exits 1 when there is a finding.
 */
import { hasCorpus } from '../test/fuzz/seeds.ts';
import { FUZZ_TARGETS, TARGETS } from '../test/fuzz/all-targets.ts';
import { fuzzTarget, minimize, type Summary } from '../test/fuzz/runner.ts';

const [nArg, seedArg, ...names] = process.argv.slice(2);
const total = Number(nArg ?? 100_000);
const seed = Number(seedArg ?? 1);
const targets = names.length ? names : Object.keys(FUZZ_TARGETS);
if (!Number.isInteger(total) || total < 1 || !Number.isInteger(seed) || targets.some((t) => !TARGETS[t])) {
  console.error(`usage: scripts/fuzz.sh [N] [seed] [${Object.keys(FUZZ_TARGETS).join('|')}...]`);
  process.exit(2);
}
if (!hasCorpus()) console.log('fuzz: ../shared/corpus is absent; seeding from the built-in inputs only');

const per = Math.ceil(total / targets.length);
const summaries: Summary[] = [];
for (const target of targets) {
  const s = await fuzzTarget({
    target,
    count: per,
    seed,
    onProgress: process.stderr.isTTY ? (done) => process.stderr.write(`\r${target}: ${done}/${per}`) : undefined,
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  for (const f of s.findings) await minimize(f);
  summaries.push(s);
  const outcomes = Object.entries(s.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `${target.padEnd(12)} ${String(s.cases).padStart(7)} cases  ${(s.elapsedMs / 1000).toFixed(1).padStart(6)} s  findings ${s.findings.length}  (${outcomes})`,
  );
  const slow = s.slowest.slice(0, 3).map((x) => `#${x.index} ${Math.round(x.ms)} ms`);
  if (slow.length) console.log(`${''.padEnd(12)} slowest: ${slow.join(', ')}`);
}

const cases = summaries.reduce((a, s) => a + s.cases, 0);
const findings = summaries.flatMap((s) => s.findings);
console.log(`total ${cases} cases, seed ${seed}, ${findings.length} distinct findings`);
for (const f of findings) {
  const input =
    typeof f.input === 'string'
      ? JSON.stringify(f.input.length > 400 ? `${f.input.slice(0, 400)}…` : f.input)
      : `tar, ${f.input.length} bytes, base64 ${f.input.toString('base64').slice(0, 200)}…`;
  console.log(
    `\n[${f.target} #${f.index}] ${f.kind}: ${f.name}: ${f.message.split('\n')[0]!.slice(0, 300)}  (×${f.count})\n  at ${f.where || '-'}\n  input ${input}`,
  );
}
process.exit(findings.length ? 1 : 0);
