/**
 * The small files of a big COPY, copied on two threads. Creating a small file is kernel work
 * that one thread does faster in line than through the thread pool (copy-files.ts), so the
 * other core can only help as a second thread that also copies in line: the worker takes the
 * second half of the list (whole dirs, as the list is in walk order) while this thread copies
 * the first. Below the threshold the worker's start would cost more than it saves.
 *
 * The worker is this same program, started with WORKER_ARG (as for layer/apply-thread.ts).
 * Without an entry (code that imports the module directly, as unit tests do) every file is
 * copied here.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { closeSync, constants as fsc, fchmodSync, fchownSync, futimesSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { BerthError, errorFromPosted, postedError, type PostedError } from '../errors/index.ts';
import { WORKER_ARG, workerEntry, type WorkerKind } from '../layer/worker-entry.ts';
import { mark } from '../progress/timing.ts';
import { settings } from '../config/index.ts';

/** One small file to copy, as plain data a worker can be sent. */
export interface SmallCopy {
  readonly src: string;
  readonly dest: string;
  readonly mode: number;
  /** Set when the owner must be changed (a non-root owner, or a setgid parent dir). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  readonly atimeMs: number;
  readonly mtimeMs: number;
}

/** From this many small files up, half go to a worker thread (BERTH_COPY_THREAD_THRESHOLD). */
const THREAD_THRESHOLD = settings().copyThreadThreshold;

/** A small file copied without leaving the call: read whole, written whole, its metadata set on the open fd. */
export function copySmallSync(job: SmallCopy): void {
  createFileSync(job, readFileSync(job.src));
}

/** Creates `job.dest` holding `data`, with the job's owner, mode and times. */
export function createFileSync(job: SmallCopy, data: Buffer): void {
  const fd = openSync(job.dest, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o600);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    if (job.owner) fchownSync(fd, job.owner.uid, job.owner.gid);
    fchmodSync(fd, job.mode); // after chown, which clears setuid bits
    futimesSync(fd, Math.trunc(job.atimeMs) / 1000, Math.trunc(job.mtimeMs) / 1000); // ms, as a Date would carry
  } finally {
    closeSync(fd);
  }
}

type FromWorker = { done: true } | { failure: PostedError };

/**
 * Copies the files, on two threads when there are enough of them and `otherCoreFree` (the
 * caller's judgement: see copy-files.ts); returns when every copy has ended. Alone, two
 * threads win; beside a big copy, which has the other core, only if the other work the copy
 * then overlaps is waiting (docs/benchmarks.md).
 */
export async function copySmallFiles(jobs: readonly SmallCopy[], opts: { otherCoreFree: boolean }): Promise<void> {
  const entry = workerEntry();
  if (!entry || !opts.otherCoreFree || jobs.length < THREAD_THRESHOLD) {
    for (const job of jobs) copySmallSync(job);
    return;
  }
  const split = Math.ceil(jobs.length / 2);
  const worker = new Worker(realpathSync(entry), {
    argv: [WORKER_ARG],
    workerData: { berthWorker: 'copy-files' satisfies WorkerKind, jobs: jobs.slice(split) },
    stdout: false,
    stderr: false,
  });
  const theirs = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => ('done' in m ? resolve() : reject(errorFromPosted(m.failure))));
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new BerthError('INTERNAL', `the copy thread exited (${code}) before it finished`)));
  });
  theirs.catch(() => undefined); // awaited below, after this thread's half
  try {
    for (let i = 0; i < split; i++) copySmallSync(jobs[i]!);
    await theirs;
    mark('small files copied on two threads');
  } finally {
    // No copy of the worker may outlive the call: the caller cleans up after a failure.
    await worker.terminate();
  }
}

/** The worker thread's side: copy its half, report. */
export async function runCopyWorker(data: { jobs: readonly SmallCopy[] }): Promise<void> {
  try {
    for (const job of data.jobs) copySmallSync(job);
    parentPort!.postMessage({ done: true } satisfies FromWorker);
  } catch (e) {
    parentPort!.postMessage({ failure: postedError(e) } satisfies FromWorker);
  }
  parentPort!.close();
}
