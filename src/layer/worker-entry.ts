/**
 * The program a worker thread runs: the CLI's own entry (bin/berth.cjs), named by the CLI at
 * startup. Its own module, free of imports, so that naming it costs a command nothing.
 * Unset (code that imports the layer modules directly, as tests do), work stays in line.
 */
let entry: string | undefined;

/**
 * The argument a worker is started with (Worker's `argv`): the CLI tells a worker from a command
 * by it without loading worker_threads, which most commands never need. `workerData.berthWorker` says
 * which work it does.
 */
export const WORKER_ARG = '--berth-worker';

export type WorkerKind = 'apply-layer' | 'copy-files';

export function setWorkerEntry(path: string | undefined): void {
  entry = path;
}

export function workerEntry(): string | undefined {
  return entry;
}
