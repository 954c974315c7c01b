/**
 * runc, driven as a child process. Every call passes `--root` so berth's containers live
 * in their own runc state dir. `run` is foreground (`runc run`): runc passes its stdio to
 * the container (or proxies a pty when the spec asks for a terminal), forwards the signals
 * it receives, and exits with the container's status (128+n for a signal).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BerthError, errnoCode } from '../errors/index.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import { spawnPiped, type PipedChild } from '../sys/spawn.ts';
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

export class Runc {
  constructor(private readonly stateRoot: string) {}

  private base(): string[] {
    return ['--root', this.stateRoot];
  }

  /** The argv of a foreground `runc run`, for callers that spawn it themselves (in a pty). */
  runArgs(id: string, bundle: string, opts: { pidFile?: string } = {}): string[] {
    return [...this.base(), 'run', '--bundle', bundle, ...(opts.pidFile ? ['--pid-file', opts.pidFile] : []), id];
  }

  run(id: string, bundle: string, opts: { stdio: StdioOptions; pidFile?: string }): ChildProcess {
    const child = spawn(RUNC, this.runArgs(id, bundle, opts), { stdio: opts.stdio });
    child.on('error', () => undefined);
    return child;
  }

  /** A foreground `runc run` with stdin from /dev/null and its output on pipes (build steps). */
  runPiped(id: string, bundle: string): PipedChild {
    return spawnPiped(RUNC, this.runArgs(id, bundle));
  }

  /**
   * `runc exec` with a process.json: in the foreground, it exits with the process; with
   * `detach`, as soon as the process has started.
   */
  exec(id: string, processJson: string, opts: { stdio: StdioOptions; tty: boolean; detach?: boolean }): ChildProcess {
    const args = [...this.base(), 'exec', '--process', processJson, ...(opts.tty ? ['--tty'] : []), ...(opts.detach ? ['--detach'] : []), id];
    const child = spawn(RUNC, args, { stdio: opts.stdio });
    child.on('error', () => undefined);
    return child;
  }

  async kill(id: string, signal: string): Promise<void> {
    try {
      await execFileAsync(RUNC, [...this.base(), 'kill', id, signal.replace(/^SIG/, '')]);
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
        await execFileAsync(RUNC, [...this.base(), 'pause', id]);
        return true;
      } catch (e) {
        const msg = String((e as { stderr?: string }).stderr ?? e);
        if (/not exist|not running|is paused|stopped/.test(msg) && (await this.status(id)) !== 'running') return false;
        if (/unable to freeze/.test(msg) && attempt < 5) {
          await new Promise((r) => setTimeout(r, 20 * attempt));
          continue;
        }
        throw new BerthError('RUNTIME', `runc pause failed: ${msg.trim()}`, { hint: 'the container could not be frozen for the copy, and nothing was copied; try again' });
      }
    }
  }

  async resume(id: string): Promise<void> {
    await execFileAsync(RUNC, [...this.base(), 'resume', id]);
  }

  /** The argv of `runc resume`, for a caller that must run it in line (on a signal). */
  resumeArgs(id: string): string[] {
    return [...this.base(), 'resume', id];
  }

  async delete(id: string): Promise<void> {
    await execFileAsync(RUNC, [...this.base(), 'delete', '--force', id]).catch(() => undefined);
  }

  /** 'running' | 'created' | 'stopped' | 'paused', or undefined when runc knows no such container. */
  async status(id: string): Promise<string | undefined> {
    try {
      const { stdout } = await execFileAsync(RUNC, [...this.base(), 'state', id]);
      return (JSON.parse(stdout) as { status: string }).status;
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
