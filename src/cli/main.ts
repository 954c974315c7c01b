/**
 * berth's command line. Each verb group lives in its own file and exports
 * `register(program)`; modules are imported lazily so a `berth run` does not pay for
 * the builder or the registry client at startup.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, formatError } from './exit.ts';
import { mark } from '../progress/timing.ts';
import { setWorkerEntry, WORKER_ARG, type WorkerKind } from '../layer/worker-entry.ts';
import { canonicalArgs, groupsFor, verbOf } from './groups.ts';
import { useEngineUmask } from '../sys/umask.ts';
import { BERTH_VERSION } from './version-info.ts';

const program = new Command('berth')
  .description("A container engine with Docker's verbs")
  .usage('[OPTIONS] COMMAND')
  .option('--root <dir>', 'state root (default /var/lib/berth as root; env BERTH_ROOT)')
  .option('-D, --debug', 'print stack traces for errors')
  .option(
    '--cdi-spec-dir <dir>',
    'read CDI device specs from this directory instead of /etc/cdi and /var/run/cdi (repeatable; env BERTH_CDI_SPEC_DIRS)',
    (v: string, p: string[] = []) => [...p, v],
  )
  .version(`berth version ${BERTH_VERSION}`, '-v, --version', 'print version information and quit')
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

/** The arguments after the program's name, management forms made top-level verbs (groups.ts). */
let args: string[] = [];

// No top-level await: the same module also runs as a CommonJS bundle (see bin/berth).
async function main(): Promise<void> {
  try {
    mark('cli loaded');
    args = canonicalArgs(process.argv.slice(2));
    for (const load of groupsFor(verbOf(args))) (await load()).register(program);
    const { useDockerUsage } = await import('./usage.ts');
    useDockerUsage(program);
    (await import('./help.ts')).dockerHelp(program);
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    const usage = await import('./usage.ts');
    if (e instanceof CommanderError && (e.exitCode === 0 || e.code === 'commander.help' || e.code === 'commander.helpDisplayed')) {
      process.exitCode = e.exitCode;
    } else if (e instanceof CommanderError || usage.isUsageError(e)) {
      const u = usage.usageError(e as CommanderError);
      process.stderr.write(`${u.text}\n`);
      process.exitCode = u.exitCode;
    } else {
      process.stderr.write(`berth: ${formatError(e)}\n`);
      if (program.opts().debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = exitCodeFor(e, verbOf(args));
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
  // An ordinary user's verbs run in the user's namespaces: this process only relays (rootless-entry.ts).
  if (process.getuid?.() !== 0) {
    const argv = process.argv.slice(2);
    void import('./rootless-entry.ts').then((m) => (m.mustEnter(argv) ? m.runInUserNamespace(argv, verbOf(canonicalArgs(argv))) : startCliHere()));
    return;
  }
  startCliHere();
}
function startCliHere(): void {
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
