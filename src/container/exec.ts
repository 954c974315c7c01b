/**
 * `exec`: a new process in a running container, through `runc exec`. One path for both front
 * ends: the CLI's process gets this terminal (runc's inherited stdio, or nothing with -d), the
 * API's gets streams in this process: pipes without a tty, and with one the master of the pty
 * runc makes and sends over a console socket (sys/terminal.ts), as a detached `-t` container's
 * monitor holds its terminal.
 */
import { runtimeOf } from './runtime-adapter.ts';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { checkCommand, composeEnv, Executor, resolveUser, capabilitySet, waitForPidFile, type RuntimeOptions } from '../runtime/index.ts';
import { exitStatus, type StdioKind } from '../sys/spawn.ts';
import { needTerminalSupport, type Terminal } from '../sys/terminal.ts';
import { randomHex } from '../sys/crypto.ts';
import { attachSocketPath } from './attach.ts';
import { reconcile, type ContainerControl } from './control.ts';
import { containerPaths } from './paths.ts';

export interface ExecOptions {
  readonly command: readonly string[];
  readonly tty: boolean;
  readonly interactive: boolean;
  readonly user?: string;
  readonly env: readonly string[];
  readonly workdir?: string;
  readonly privileged?: boolean;
  /** `-d`: return once the process has started; its output goes nowhere, as docker's does. */
  readonly detach?: boolean;
  /** [height, width] (docker's order) of the terminal runc makes: set before the process runs, so its first look at the size sees it. */
  readonly consoleSize?: readonly [number, number];
}

/**
 * Where the process's stdio goes: 'inherit' is this process's own (the CLI's terminal; with -d,
 * nowhere), `streams` asks for pipes of the attached ones, or for the terminal when `tty`.
 */
export type ExecIo = 'inherit' | { readonly stdin: boolean; readonly stdout: boolean; readonly stderr: boolean };

/** A started exec. */
export interface ExecHandle {
  /** The process's pid; 0 when runc could not start it (its reason comes on stderr) or it was gone before its pid was read. */
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  /** Without a tty; with one, runc's own errors. */
  readonly stderr: Readable | null;
  /** With a tty and streams: the pty's master. */
  readonly terminal?: Terminal;
  /** Resizes the terminal (a no-op without one). */
  resize(cols: number, rows: number): void;
  /** The exit status (128+n for a signal), once it has exited. */
  readonly exited: Promise<number>;
}

/** The CLI's exec: attached to this terminal (or detached); resolves to the exit status. */
export async function execInContainer(engine: ContainerControl, idOrName: string, opts: ExecOptions): Promise<number> {
  // runc, on this terminal too, gets the terminal's signals and passes them to the process: this CLI lives on to report its exit.
  if (!opts.detach) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => undefined);
  const handle = await startExec(engine, idOrName, opts, 'inherit');
  return opts.detach ? 0 : handle.exited;
}

/** The container an exec may run in: it must exist and run. */
export async function requireRunning(engine: ContainerControl, idOrName: string): Promise<string> {
  const rec = await reconcile(engine, engine.containers.require(idOrName));
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  return rec.id;
}

/**
 * Starts `opts.command` in the container; resolves once it runs (or runc has failed to start
 * it). The command is looked up first, so a missing one is CMD_NOT_FOUND (exit 127) as run's is.
 */
export async function startExec(engine: ContainerControl, idOrName: string, opts: ExecOptions, io: ExecIo): Promise<ExecHandle> {
  const rec = await reconcile(engine, engine.containers.require(idOrName));
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `container ${rec.id} is not running`);
  if (!opts.command.length) throw new BerthError('INVALID_ARGUMENT', 'exec needs a command to run');
  const streams = io !== 'inherit';
  const consoleTty = streams && opts.tty;
  if (consoleTty) needTerminalSupport();
  const rootfs = join(engine.root, 'snapshots', 'active', rec.id, 'merged');
  const user = await resolveUser(rootfs, opts.user ?? rec.config.user);
  const env = composeEnv([...rec.config.env, ...opts.env], rec.config.hostname, opts.tty, user.home);
  const cwd = opts.workdir || rec.config.workdir || '/';
  await checkCommand(rootfs, opts.command[0]!, env, cwd);
  const caps = capabilitySet({ ...(rec.config.runtime as RuntimeOptions), ...(opts.privileged ? { privileged: true } : {}) });
  const process_ = {
    terminal: opts.tty && !(io === 'inherit' && opts.detach),
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
    args: opts.command,
    env,
    cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    noNewPrivileges: false,
    ...(opts.consoleSize?.[0] && opts.consoleSize[1] ? { consoleSize: { height: opts.consoleSize[0], width: opts.consoleSize[1] } } : {}),
  };
  const paths = containerPaths(engine, rec.id);
  const tag = randomHex(6);
  const file = join(paths.runDir, `exec-${tag}.json`);
  const pidFile = join(paths.runDir, `exec-${tag}.pid`);
  await writeFile(file, JSON.stringify(process_), { mode: 0o600 }); // its env
  const cleanup = () => Promise.all([rm(file, { force: true }), rm(pidFile, { force: true })]).then(() => undefined);
  const executor = new Executor(paths.runcRoot, runtimeOf(rec));
  try {
    if (consoleTty) {
      // A socket path must stay short: the attach dir's, as the monitor's console socket.
      const consoleSocket = join(dirname(attachSocketPath(engine, rec.id)), `${rec.id.slice(0, 12)}-${tag}.exec.sock`);
      await mkdir(dirname(consoleSocket), { recursive: true, mode: 0o700 });
      const run = await executor.execWithConsole(rec.id, file, { consoleSocket, pidFile });
      const pid = await run.pid;
      const terminal = pid ? await run.terminal.catch(() => undefined) : undefined;
      void run.exited.finally(cleanup);
      return {
        pid,
        stdin: null,
        stdout: null,
        stderr: run.stderr as Readable | null,
        terminal,
        resize: (cols, rows) => terminal?.resize(cols, rows),
        exited: run.exited,
      };
    }
    if (io === 'inherit' && opts.detach) {
      const child = executor.exec(rec.id, file, { stdio: ['ignore', 'ignore', 'ignore'], tty: false, detach: true, pidFile });
      const code = await child.exited.then(
        (e) => exitStatus(e),
        () => null,
      );
      if (code !== 0)
        throw new BerthError(
          'RUNTIME',
          `cannot start ${opts.command.join(' ')} in container ${rec.id.slice(0, 12)}: runc exec exited with ${code ?? 'an error'}`,
        );
      await cleanup();
      return { pid: 0, stdin: null, stdout: null, stderr: null, resize: () => undefined, exited: Promise.resolve(0) };
    }
    // In the foreground runc passes these fds to the process; for the CLI's -t it proxies a pty of its own on this terminal.
    const stdio: [StdioKind, StdioKind, StdioKind] =
      io === 'inherit'
        ? [opts.interactive || opts.tty ? 'inherit' : 'ignore', 'inherit', 'inherit']
        : [io.stdin ? 'pipe' : 'ignore', io.stdout ? 'pipe' : 'ignore', 'pipe'];
    const child = executor.exec(rec.id, file, { stdio, tty: io === 'inherit' && opts.tty, pidFile, longLived: io !== 'inherit' });
    // A runc that could not even be started counts as 127, as a shell has it.
    const exited = child.exited.then(exitStatus, () => 127);
    child.stdin?.on('error', () => undefined); // a process that stops reading: the input is lost, not the engine
    const gone = new AbortController();
    void exited.then(() => gone.abort());
    // Taken at once: Node drops the output of a child that exits before anyone reads it, which the pid's wait could let happen.
    const stdout = child.stdout?.pipe(new PassThrough()) ?? null;
    const stderr = child.stderr?.pipe(new PassThrough()) ?? null;
    // A process quicker than the poll is gone by now, its pid file left behind: read once more.
    const pid =
      (await Promise.race([waitForPidFile(pidFile, { signal: gone.signal }).catch(() => 0), exited.then(() => 0)])) ||
      Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) ||
      0;
    void exited.finally(cleanup);
    return { pid, stdin: child.stdin, stdout, stderr, resize: () => undefined, exited };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
