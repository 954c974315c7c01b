/**
 * Runs a fuzz target's cases on a worker thread under a watchdog. A case that makes no
 * progress for `timeoutMs` is a hang: the worker is terminated and a new one goes on from
 * the next case. A worker that dies (out of memory, an error nobody awaited) is a finding
 * at the case it was running. Findings are grouped by signature (kind, error, the first
 * berth frame of the stack), each kept with its smallest input, minimized when asked.
 */
import { Worker } from 'node:worker_threads';
import { caseRng } from './mutate.ts';
import { TARGETS } from './all-targets.ts';
import type { FuzzInput } from './targets.ts';

export interface WorkerJob {
  readonly target: string;
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  readonly slowMs: number;
  readonly shared: SharedArrayBuffer;
}

export type FromWorker =
  | { type: 'batch'; outcomes: Record<string, number>; slow: Array<{ index: number; ms: number }> }
  | { type: 'finding'; index: number; name: string; message: string; stack: string };

export interface Finding {
  readonly target: string;
  readonly kind: 'error' | 'violation' | 'hang' | 'worker-died';
  readonly index: number;
  readonly name: string;
  readonly message: string;
  readonly where: string;
  readonly signature: string;
  /** How many cases share the signature. */
  count: number;
  input: FuzzInput;
}

export interface Summary {
  readonly target: string;
  readonly seed: number;
  cases: number;
  readonly outcomes: Record<string, number>;
  readonly findings: Finding[];
  readonly slowest: Array<{ index: number; ms: number }>;
  elapsedMs: number;
}

export interface FuzzOptions {
  readonly target: string;
  readonly count: number;
  readonly seed: number;
  readonly start?: number;
  /** No progress for this long is a hang. */
  readonly timeoutMs?: number;
  /** Cases slower than this are listed in the summary. */
  readonly slowMs?: number;
  readonly onProgress?: (done: number) => void;
}

/** The first frame of a stack that is berth's own code: where a finding happens. */
function whereOf(stack: string): string {
  const frame = stack.split('\n').find((l) => /\/src\/.*\.ts/.test(l) && !/\/test\/fuzz\//.test(l)) ?? stack.split('\n')[1] ?? '';
  return frame
    .trim()
    .replace(/^at /, '')
    .replace(/\(?file:\/\/\/?[^)]*\/src\//, 'src/')
    .replace(/\)$/, '');
}

function size(input: FuzzInput): number {
  return input.length;
}

export function inputOf(target: string, seed: number, index: number): FuzzInput {
  return TARGETS[target]!.generate(caseRng(seed, target, index));
}

export async function fuzzTarget(opts: FuzzOptions): Promise<Summary> {
  const { target, seed } = opts;
  if (!TARGETS[target]) throw new Error(`no fuzz target "${target}"`);
  const start = opts.start ?? 0;
  const end = start + opts.count;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const summary: Summary = { target, seed, cases: 0, outcomes: {}, findings: [], slowest: [], elapsedMs: 0 };
  const bySignature = new Map<string, Finding>();
  const t0 = Date.now();

  const record = (kind: Finding['kind'], index: number, name: string, message: string, stack: string): void => {
    const where = kind === 'hang' || kind === 'worker-died' ? '' : whereOf(stack);
    // Numbers and quoted text vary between cases of one bug; the signature leaves them out.
    const shape = message
      .split('\n')[0]!
      .replace(/"[^"]*"/g, '""')
      .replace(/\d+/g, 'N')
      .slice(0, 120);
    const signature = `${kind}|${name}|${kind === 'violation' ? shape : where || shape}`;
    const input = inputOf(target, seed, index);
    const had = bySignature.get(signature);
    if (had) {
      had.count++;
      if (size(input) < size(had.input)) Object.assign(had, { index, message, input });
      return;
    }
    const f: Finding = { target, kind, index, name, message: message.slice(0, 500), where, signature, count: 1, input };
    bySignature.set(signature, f);
    summary.findings.push(f);
  };

  let next = start;
  while (next < end) {
    // [0]: the case the worker is on; [1]: 1 once it has loaded (loading is not a hang).
    const shared = new SharedArrayBuffer(8);
    const current = new Int32Array(shared);
    Atomics.store(current, 0, next);
    const job: WorkerJob = { target, seed, start: next, end, slowMs: opts.slowMs ?? 1000, shared };
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: job,
      resourceLimits: { maxOldGenerationSizeMb: 1024, stackSizeMb: 4 },
    });
    let lastIndex = next;
    let lastMove = Date.now();
    let hung = false;
    let counted = 0;
    const watchdog = setInterval(() => {
      const i = Atomics.load(current, 0);
      if (Atomics.load(current, 1) === 0) lastMove = Date.now();
      else if (i !== lastIndex) {
        lastIndex = i;
        lastMove = Date.now();
        opts.onProgress?.(i - start);
      } else if (Date.now() - lastMove > timeoutMs && !hung) {
        hung = true;
        void worker.terminate();
      }
    }, 100);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'batch') {
        for (const [k, v] of Object.entries(m.outcomes)) summary.outcomes[k] = (summary.outcomes[k] ?? 0) + v;
        const n = Object.values(m.outcomes).reduce((a, b) => a + b, 0);
        summary.cases += n;
        counted += n;
        summary.slowest.push(...m.slow);
      } else {
        record(/^Violation$/.test(m.name) ? 'violation' : 'error', m.index, m.name, m.message, m.stack);
      }
    });
    const failure = await new Promise<Error | undefined>((resolve) => {
      worker.once('error', (e) => resolve(e));
      worker.once('exit', () => resolve(undefined));
    });
    clearInterval(watchdog);
    await worker.terminate();
    const at = Atomics.load(current, 0);
    if (at >= end) break;
    // Cases the worker ran but had not reported when it ended.
    if (at - job.start > counted) {
      summary.outcomes.unreported = (summary.outcomes.unreported ?? 0) + at - job.start - counted;
      summary.cases += at - job.start - counted;
    }
    if (hung) record('hang', at, 'Hang', `no result after ${timeoutMs} ms`, '');
    else record('worker-died', at, failure?.name ?? 'Exit', failure?.message ?? 'the worker exited', failure?.stack ?? '');
    summary.cases++;
    summary.outcomes.FINDING = (summary.outcomes.FINDING ?? 0) + 1;
    next = at + 1;
  }
  summary.slowest.sort((a, b) => b.ms - a.ms).splice(10);
  summary.elapsedMs = Date.now() - t0;
  return summary;
}

/**
 * Shrinks a text finding's input: drops lines, then ever smaller chunks, while the same
 * signature still comes out. Runs in this thread, so hangs are not minimized.
 */
export async function minimize(f: Finding, budget = 3000, budgetMs = 20_000): Promise<void> {
  if (typeof f.input !== 'string' || f.kind === 'hang' || f.kind === 'worker-died') return;
  const target = TARGETS[f.target]!;
  const same = async (s: string): Promise<boolean> => {
    try {
      await target.run(s);
      return false;
    } catch (e) {
      if (target.expected(e, s) !== undefined) return false;
      const err = e as Error;
      const kind = err.name === 'Violation' ? 'violation' : 'error';
      if (kind !== f.kind || err.name !== f.name) return false;
      return kind === 'violation' || whereOf(err.stack ?? '') === f.where;
    }
  };
  let best = f.input;
  let runs = 0;
  const until = Date.now() + budgetMs;
  const more = () => runs < budget && Date.now() < until;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && more(); chunk >>= 1) {
    for (let i = 0; i < best.length && more(); ) {
      const candidate = best.slice(0, i) + best.slice(i + chunk);
      runs++;
      if (await same(candidate)) best = candidate;
      else i += chunk;
    }
  }
  f.input = best;
}
