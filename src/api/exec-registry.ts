/**
 * The server's exec instances. As dockerd's, they live in this process's memory only: an exec
 * is created, started once, and inspected for its exit code after its stream ends. A finished
 * instance is kept for a while (the CLI reads its exit code right after the stream ends, a
 * slower client may read it later) and then dropped, and an instance never started is dropped
 * after as long; the number alive at once is capped, so a client creating execs in a loop
 * cannot grow the server without bound.
 */
import { BerthError } from '../errors/index.ts';
import type { ExecHandle, ExecOptions } from '../services/container-io.ts';
import { randomHex } from '../sys/crypto.ts';
import { HttpError } from './status.ts';

export interface ExecConfig extends ExecOptions {
  readonly attachStdin: boolean;
  readonly attachStdout: boolean;
  readonly attachStderr: boolean;
  readonly detachKeys: string;
}

export interface ExecInstance {
  readonly id: string;
  readonly containerId: string;
  readonly config: ExecConfig;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  handle?: ExecHandle;
  /** [cols, rows] asked for between its start and its process being up: applied then. */
  pendingSize?: readonly [number, number];
  /** When it finished, or was created for one not started yet (ms since the epoch): its age for dropping. */
  since: number;
}

export interface ExecRegistryLimits {
  /** Instances alive at once, running ones included. */
  readonly max: number;
  /** How long a finished (or never started) instance is kept. */
  readonly keepMs: number;
}

export const DEFAULT_EXEC_LIMITS: ExecRegistryLimits = { max: 1024, keepMs: 5 * 60_000 };

export class ExecRegistry {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(
    private readonly limits: ExecRegistryLimits = DEFAULT_EXEC_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.execs.size;
  }

  /** A new instance, not started; refused (503) when the cap is reached even after dropping old ones. */
  create(containerId: string, config: ExecConfig): ExecInstance {
    this.prune();
    if (this.execs.size >= this.limits.max) {
      this.prune(true);
      if (this.execs.size >= this.limits.max)
        throw new HttpError(503, `too many exec instances (${this.limits.max}): wait for some to finish and be inspected`);
    }
    const inst: ExecInstance = { id: randomHex(32), containerId, config, started: false, running: false, exitCode: null, pid: 0, since: this.now() };
    this.execs.set(inst.id, inst);
    return inst;
  }

  /** The instance with the full id `id` (docker takes no prefix here); 404 otherwise. */
  require(id: string): ExecInstance {
    this.prune();
    const inst = this.execs.get(id);
    if (!inst) throw new BerthError('NOT_FOUND', `No such exec instance: ${id}`);
    return inst;
  }

  /** Marks `inst` started: a second start is a conflict, as docker's. */
  claim(inst: ExecInstance): void {
    if (inst.started) throw new BerthError('CONFLICT', `Exec ${inst.id} has already been started`);
    inst.started = true;
    inst.running = true;
  }

  /** Records the exit: from now on its inspect says so, and it ages toward being dropped. */
  finish(inst: ExecInstance, exitCode: number): void {
    inst.running = false;
    inst.exitCode = exitCode;
    inst.handle = undefined;
    inst.since = this.now();
  }

  /**
   * Drops instances not running whose time is up; with `hard`, every instance not running
   * that is finished or has waited unstarted, oldest first, until under the cap.
   */
  prune(hard = false): void {
    const now = this.now();
    for (const [id, e] of this.execs) if (!e.running && now - e.since >= this.limits.keepMs) this.execs.delete(id);
    if (!hard) return;
    // The finished go first (their exit codes have most likely been read), then the never started.
    const rank = (e: ExecInstance) => (e.started ? 0 : 1);
    const idle = [...this.execs.values()].filter((e) => !e.running).sort((a, b) => rank(a) - rank(b) || a.since - b.since);
    for (const e of idle) {
      if (this.execs.size < this.limits.max) break;
      this.execs.delete(e.id);
    }
  }
}
