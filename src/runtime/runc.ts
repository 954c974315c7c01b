/**
 * runc, driven as a child process. Every call passes `--root` so berth's containers live
 * in their own runc state dir. `run` is foreground (`runc run`): runc passes its stdio to
 * the container (or proxies a pty when the spec asks for a terminal), forwards the signals
 * it receives, and exits with the container's status (128+n for a signal).
 * `runWithConsole` is the detached form for a container whose terminal berth holds.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BerthError, errnoCode } from '../errors/index.ts';
import { runChild, spawnChild, type SpawnedChild, type StdioKind } from '../sys/spawn.ts';
import { settings } from '../config/index.ts';

/**
 * Tells runc's own failure to start a container (its `level=error msg="runc run failed: ..."`
 * line on stderr) from the container's output. Docker reports that failure as an engine error
 * (exit 125), not as output. Only output before the container has started can be it: after
 * that every byte is the container's, and is not even looked at.
 */
export class RuncStartWatch {
  /** runc's reason, once it has said it could not start the container. */
  error?: string;
  private started = false;

  /** True when `chunk` is runc's failure, which then belongs in `error`, not in the log. */
  claims(chunk: Buffer): boolean {
    if (this.started) return false;
    const m = /level=error msg="runc run failed: ((?:[^"\\]|\\.)*)"/.exec(chunk.toString());
    if (m) this.error ??= `OCI runtime create failed: ${m[1]!.replace(/\\"/g, '"')}`;
    return this.error !== undefined;
  }

  /** The container's process exists (runc wrote its pid): no later output is runc's failure. */
  containerStarted(): void {
    this.started = true;
  }
}

/** An absolute path: a PATH search per call costs a dozen failed execs on a long PATH. */
export const RUNC = settings().runc ?? ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p)) ?? 'runc';

/** runc's own commands, all started through sys/spawn.ts; executor.ts is the one user of `run` and `exec`. */
export class Runc {
  /** `binary`: runc, or another OCI runtime with its command line (`--runtime`). */
  constructor(
    private readonly stateRoot: string,
    private readonly binary: string = RUNC,
  ) {}

  private base(): string[] {
    return ['--root', this.stateRoot];
  }

  /** Runs a runc command to its end; rejects with its stderr when it fails. */
  private async command(args: readonly string[]): Promise<string> {
    const r = await runChild(this.binary, [...this.base(), ...args]);
    if (r.status !== 0) throw Object.assign(new Error(r.stderr.trim() || `runc ${args[0]} exited with ${r.status}`), { stderr: r.stderr });
    return r.stdout;
  }

  /**
   * `runc run` in the foreground: runc passes its stdio to the container (or proxies a pty on
   * its own terminal when the spec asks for one) and exits with the container's status.
   */
  run(id: string, bundle: string, opts: { stdio: readonly [StdioKind, StdioKind, StdioKind]; pidFile?: string }): SpawnedChild {
    return spawnChild(this.binary, [...this.base(), 'run', '--bundle', bundle, ...(opts.pidFile ? ['--pid-file', opts.pidFile] : []), id], {
      stdio: opts.stdio,
    });
  }

  /**
   * `runc run --detach` with a console socket: runc sends the pty's master to `consoleSocket`
   * and exits once the container runs, leaving it to this process (its child subreaper) and
   * its state to `delete`. Its stderr carries its reason when it cannot start the container.
   */
  runWithConsole(id: string, bundle: string, opts: { consoleSocket: string; pidFile: string }): SpawnedChild {
    const args = [...this.base(), 'run', '--detach', '--console-socket', opts.consoleSocket, '--pid-file', opts.pidFile, '--bundle', bundle, id];
    return spawnChild(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /**
   * `runc exec` with a process.json: in the foreground, it exits with the process; with
   * `detach`, as soon as the process has started. A console socket (detached, tty) is where
   * runc sends the master of the pty it makes; a pid file is where it writes the process's pid.
   */
  exec(
    id: string,
    processJson: string,
    opts: {
      stdio: readonly [StdioKind, StdioKind, StdioKind];
      tty: boolean;
      detach?: boolean;
      pidFile?: string;
      consoleSocket?: string;
      /** Reaped by Node on SIGCHLD rather than by a thread (sys/spawn.ts): for a process a client may keep running. */
      longLived?: boolean;
    },
  ): SpawnedChild {
    const args = [
      ...this.base(),
      'exec',
      '--process',
      processJson,
      ...(opts.tty ? ['--tty'] : []),
      ...(opts.detach ? ['--detach'] : []),
      ...(opts.consoleSocket ? ['--console-socket', opts.consoleSocket] : []),
      ...(opts.pidFile ? ['--pid-file', opts.pidFile] : []),
      id,
    ];
    return spawnChild(this.binary, args, { stdio: opts.stdio, longLived: opts.longLived });
  }

  async kill(id: string, signal: string): Promise<void> {
    try {
      await this.command(['kill', id, signal.replace(/^SIG/, '')]);
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? e);
      if (/not exist|container not running|process already finished/.test(msg)) {
        throw new BerthError('CONFLICT', `container ${id.slice(0, 12)} is not running`);
      }
      throw new BerthError('RUNTIME', `runc kill failed: ${msg.trim()}`);
    }
  }

  /**
   * Freezes every process of the container (the cgroup freezer). false when runc says it is
   * not running (it has exited: nothing left to freeze); any other failure is an error.
   * A container that forks without pause can outrun the v1 freezer ("unable to freeze":
   * runc thaws it again), so that is tried a few times.
   */
  async pause(id: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.command(['pause', id]);
        return true;
      } catch (e) {
        const msg = String((e as { stderr?: string }).stderr ?? e);
        if (/not exist|not running|is paused|stopped/.test(msg) && (await this.status(id)) !== 'running') return false;
        if (/unable to freeze/.test(msg) && attempt < 5) {
          await new Promise((r) => setTimeout(r, 20 * attempt));
          continue;
        }
        throw new BerthError('RUNTIME', `runc pause failed: ${msg.trim()}`, {
          hint: 'the container could not be frozen for the copy, and nothing was copied; try again',
        });
      }
    }
  }

  /** `runc update`: new cgroup limits for a running container (flag names as runc's). */
  async update(id: string, limits: Readonly<Record<string, string>>): Promise<void> {
    try {
      await this.command(['update', ...Object.entries(limits).flatMap(([k, v]) => [`--${k}`, v]), id]);
    } catch (e) {
      throw new BerthError('RUNTIME', `runc update failed: ${String((e as { stderr?: string }).stderr ?? e).trim()}`);
    }
  }

  async resume(id: string): Promise<void> {
    await this.command(['resume', id]);
  }

  /** The argv of `runc resume`, for a caller that must run it in line (on a signal). */
  resumeArgs(id: string): string[] {
    return [...this.base(), 'resume', id];
  }

  async delete(id: string): Promise<void> {
    await this.command(['delete', '--force', id]).catch(() => undefined);
  }

  /** 'running' | 'created' | 'stopped' | 'paused', or undefined when runc knows no such container. */
  async status(id: string): Promise<string | undefined> {
    try {
      return (JSON.parse(await this.command(['state', id])) as { status: string }).status;
    } catch {
      return undefined;
    }
  }
}

/** Waits for runc's pid file; resolves to the container's pid. */
export async function waitForPidFile(path: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (let delay = 1; Date.now() < deadline; delay = Math.min(delay * 2, 20)) {
    // A container that exits at once may never leave a pid file to see: the caller says so.
    if (opts.signal?.aborted) return 0;
    try {
      const pid = Number((await readFile(path, 'utf8')).trim());
      if (pid > 0) return pid;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new BerthError('RUNTIME', 'the container did not start in time');
}
