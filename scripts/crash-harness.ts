/**
 * The crash harness at full length (test/helpers/crash.ts): `scripts/crash-harness.sh [runs] [seed]`.
 * Kinds are picked at random; prints one line per run and a summary, and stops at the first
 * failure with the seed that replays it.
 */
import { tempRoot } from '../test/helpers/berth.ts';
import { CRASH_KINDS, CrashHarness, seeded } from '../test/helpers/crash.ts';
import { startRegistry } from '../test/helpers/registry.ts';

const runs = Number(process.argv[2] ?? 100);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const t = tempRoot('berth-crash-');
const reg = await startRegistry();
let code = 0;
try {
  const harness = new CrashHarness(t, reg);
  harness.prepare();
  const random = seeded(seed);
  const counts: Record<string, { runs: number; killed: number; leftovers: number }> = {};
  const started = Date.now();
  for (let i = 0; i < runs; i++) {
    const kind = CRASH_KINDS[Math.floor(random() * CRASH_KINDS.length)]!;
    const r = await harness.once(kind, i, random);
    const c = (counts[kind] ??= { runs: 0, killed: 0, leftovers: 0 });
    c.runs++;
    if (r.killed) c.killed++;
    c.leftovers += r.leftovers.length;
    console.log(
      `${i + 1}/${runs} ${kind}: ${r.killed ? (r.midDownload ? 'killed mid-download' : `killed after ${r.delayMs} ms`) : 'ended before the kill'}, ${r.leftovers.length} leftover(s)${r.leftovers.length ? `: ${r.leftovers.map((l) => l.replace(/^leftover: /, '').split(':')[0]).join('; ')}` : ''}`,
    );
  }
  console.log(`all ${runs} runs passed in ${Math.round((Date.now() - started) / 1000)} s (seed ${seed})`);
  for (const [k, c] of Object.entries(counts)) console.log(`  ${k}: ${c.runs} runs, ${c.killed} killed, ${c.leftovers} leftovers reclaimed`);
} catch (e) {
  console.error(`FAILED (replay with seed ${seed}): ${(e as Error).message}`);
  code = 1;
} finally {
  for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
  reg.stop();
  t.cleanup();
}
process.exit(code);
