/**
 * Opt-in phase timing for latency work: with BERTH_TIMING=1 each `mark` prints the time
 * since the process started (Node's own bootstrap included) to stderr. It costs one env
 * lookup when off, so marks can stay on the hot paths that bench/run-latency measures.
 */
const on = !!process.env.BERTH_TIMING;

export function mark(label: string): void {
  if (on) process.stderr.write(`berth-timing ${performance.now().toFixed(1)}ms ${label}\n`);
}
