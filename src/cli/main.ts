/**
 * berth's command line. Each verb group lives in its own file and exports
 * `register(program)`; modules are imported lazily so a `berth run` does not pay for
 * the builder or the registry client at startup.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, formatError } from './exit.ts';
import { mark } from '../progress/timing.ts';
import { setWorkerEntry, WORKER_ARG, type WorkerKind } from '../layer/worker-entry.ts';
import { groupsFor, verbOf } from './groups.ts';
import { useEngineUmask } from '../sys/umask.ts';

const program = new Command('berth')
  .description("A container engine with Docker's verbs")
  .option('--root <dir>', 'state root (default /var/lib/berth as root; env BERTH_ROOT)')
  .option('--debug', 'print stack traces for errors')
  .option(
    '--cdi-spec-dir <dir>',
    'read CDI device specs from this directory instead of /etc/cdi and /var/run/cdi (repeatable; env BERTH_CDI_SPEC_DIRS)',
    (v: string, p: string[] = []) => [...p, v],
  )
  .version('0.1.0')
  .showHelpAfterError(false)
  .exitOverride()
  .enablePositionalOptions()
  .hook('preAction', async () => {
    const dirs = (program.opts() as { cdiSpecDir?: string[] }).cdiSpecDir;
    if (dirs) (await import('../cdi/dirs.ts')).useCdiSpecDirs(dirs);
  });

// A closed pipe (`berth save | head`) ends the command quietly, as it does for docker.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(141);
});

// No top-level await: the same module also runs as a CommonJS bundle (see bin/berth).
async function main(): Promise<void> {
  try {
    mark('cli loaded');
    for (const load of groupsFor(verbOf(process.argv.slice(2)))) (await load()).register(program);
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 125;
    } else {
      process.stderr.write(`berth: ${formatError(e)}\n`);
      if (program.opts().debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = exitCodeFor(e);
    }
  }
  finished = true;
  mark('command done');
}

// Node exits, with status 0, once nothing is left that could settle a pending promise. A
// command still waiting then has hit a bug, and must not look like a success.
let finished = false;
function failUnfinished(): void {
  if (finished) return;
  process.stderr.write(
    'berth: Error: internal error: the command stopped before it finished, waiting on something that can no longer happen\nhint: please report this with the command line; run with --debug for more\n',
  );
  process.exitCode = 125;
}

// A worker thread of this program extracts a big layer (layer/apply-thread.ts) or copies half
// of a big COPY's small files (builder/copy-thread.ts); the main thread runs the CLI and names
// its own entry as the workers' program. Only a process started with the workers' argument
// loads worker_threads to be sure.
function startCli(): void {
  // Before any file is made: the modes berth gives are docker's, not the shell's (sys/umask.ts).
  // Here, on the main thread: a worker may not set the process's umask.
  useEngineUmask();
  setWorkerEntry(process.argv[1]);
  process.once('beforeExit', failUnfinished);
  void main();
}
async function startWorker(): Promise<void> {
  const { isMainThread, workerData } = await import('node:worker_threads');
  const kind = isMainThread ? undefined : (workerData as { berthWorker?: WorkerKind } | null)?.berthWorker;
  if (kind === 'apply-layer')
    return (await import('../layer/apply-thread.ts')).runApplyWorker(workerData as Parameters<typeof import('../layer/apply-thread.ts').runApplyWorker>[0]);
  if (kind === 'copy-files')
    return (await import('../builder/copy-thread.ts')).runCopyWorker(workerData as Parameters<typeof import('../builder/copy-thread.ts').runCopyWorker>[0]);
  startCli();
}
if (process.argv[2] === WORKER_ARG) void startWorker();
else startCli();
