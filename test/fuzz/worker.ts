/**
 * One fuzz worker: runs cases [start, end) of one target and reports findings as they
 * happen and outcome counts in batches. Before each case it stores the case's index in
 * the shared array, so the runner can tell a hang from slow progress, and which case hung.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { caseRng } from './mutate.ts';
import { TARGETS } from './all-targets.ts';
import type { FromWorker, WorkerJob } from './runner.ts';

const job = workerData as WorkerJob;
const target = TARGETS[job.target]!;
const current = new Int32Array(job.shared);
const post = (m: FromWorker) => parentPort!.postMessage(m);

let outcomes: Record<string, number> = {};
let slow: Array<{ index: number; ms: number }> = [];
let flushed = performance.now();
const flush = () => {
  flushed = performance.now();
  post({ type: 'batch', outcomes, slow });
  outcomes = {};
  slow = [];
};

Atomics.store(current, 1, 1);
for (let i = job.start; i < job.end; i++) {
  Atomics.store(current, 0, i);
  const input = target.generate(caseRng(job.seed, job.target, i));
  const t0 = performance.now();
  let label: string;
  try {
    label = await target.run(input);
  } catch (e) {
    const expected = target.expected(e, input);
    if (expected !== undefined) label = expected;
    else {
      label = 'FINDING';
      const err = e instanceof Error ? e : new Error(String(e));
      post({ type: 'finding', index: i, name: err.name, message: err.message, stack: err.stack ?? '' });
    }
  }
  const ms = performance.now() - t0;
  if (ms >= job.slowMs) slow.push({ index: i, ms });
  outcomes[label] = (outcomes[label] ?? 0) + 1;
  // Often enough that a hang, which ends this thread, loses few counts.
  if ((i - job.start) % 200 === 199 || performance.now() - flushed > 250) flush();
}
flush();
Atomics.store(current, 0, job.end);
