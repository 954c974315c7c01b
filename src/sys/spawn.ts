/**
 * The one way berth starts a helper process such as runc: `spawnChild`, with each of stdin,
 * stdout and stderr a pipe, /dev/null or this process's own. With berth's addon it is
 * posix_spawn(3): Node's spawn forks, and the fork copies the page tables of the whole
 * process, which cost grows with the heap a build holds; posix_spawn costs the same at any
 * size. Without the addon, Node's spawn does it. Callers never see which one ran.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { Readable, Writable } from 'node:stream';
import { sys } from './index.ts';

export type StdioKind = 'pipe' | 'ignore' | 'inherit';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnedChild {
  readonly pid: number;
  /** The write end of stdin's pipe, when stdin is 'pipe'. */
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** The exit: a code, or the signal that ended it; rejects when the file could not be started. Output may still be arriving. */
  readonly exited: Promise<ChildExit>;
}

export interface SpawnOptions {
  /** fds 0, 1, 2; the default is stdin from /dev/null and stdout, stderr on pipes. */
  readonly stdio?: readonly [StdioKind, StdioKind, StdioKind];
  readonly env?: NodeJS.ProcessEnv;
  /**
   * A child that may run for as long as a client likes (an exec in `berth serve`): started by
   * Node's spawn, whose exit Node reaps on SIGCHLD, because the addon's waitpid holds a
   * thread-pool thread for the child's whole life, and a server has only a few of them.
   */
  readonly longLived?: boolean;
}

/**
 * Set by a process that serves many requests (`berth serve`): every child is then waited for as
 * a long-lived one, since any build step or runc it starts may run for as long as it likes.
 */
let serving = false;
export function spawnAsServer(): void {
  serving = true;
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));
const KIND_CODE: Record<StdioKind, number> = { pipe: 0, ignore: 1, inherit: 2 };

/** An exit as a shell reports it: the code, or 128+n for signal n. */
export function exitStatus(e: ChildExit): number {
  return e.code ?? 128 + (e.signal ? (constants.signals[e.signal] ?? 0) : 0);
}

/** The exit of a child that this process reaps itself: one `spawnChild` started, or an orphan it adopted as subreaper. */
export function waitChild(pid: number): Promise<ChildExit> {
  const native = sys();
  if (!native) throw new Error("waitChild needs berth's addon");
  return native.waitpid(pid).then((r) => ({ code: r.code, signal: r.signal === null ? null : (signalNames.get(r.signal) ?? null) }));
}

/** The state letter of /proc/PID/stat (after the command name, which may hold spaces and parens), or undefined when there is no such process. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** How often adopted children are looked at besides on SIGCHLD, should a signal be missed. */
const ADOPTED_POLL_MS = 1000;

/** The adopted children being waited for, each with its check; one SIGCHLD listener and one timer serve them all. */
const adopted = new Map<number, () => void>();
let adoptedTimer: NodeJS.Timeout | undefined;

function checkAdopted(): void {
  for (const check of [...adopted.values()]) check();
}

/**
 * The exit of an orphan this process adopted as subreaper, waited for without holding a
 * thread: its state is read on each SIGCHLD (and now and then besides), and only once it is a
 * zombie is it reaped, where waitChild returns at once. A waitChild held for a long-lived
 * process would keep a thread-pool thread the whole time.
 */
export function waitAdoptedChild(pid: number): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = procState(pid);
      if (state !== undefined && state !== 'Z') return;
      adopted.delete(pid);
      if (!adopted.size) {
        process.off('SIGCHLD', checkAdopted);
        clearInterval(adoptedTimer);
        adoptedTimer = undefined;
      }
      // Gone without a zombie: someone else reaped it, and its status went with them.
      if (state === undefined) resolve({ code: null, signal: 'SIGKILL' });
      else waitChild(pid).then(resolve, reject);
    };
    if (!adopted.size) {
      process.on('SIGCHLD', checkAdopted);
      adoptedTimer = setInterval(checkAdopted, ADOPTED_POLL_MS);
      adoptedTimer.unref();
    }
    adopted.set(pid, check);
    check();
  });
}

/** Starts `file` (an absolute path: there is no PATH search) with `args`. */
export function spawnChild(file: string, args: readonly string[], opts: SpawnOptions = {}): SpawnedChild {
  const stdio = opts.stdio ?? ['ignore', 'pipe', 'pipe'];
  const env = opts.env ?? process.env;
  const native = sys();
  if (!native?.spawn || opts.longLived || serving) {
    const child = spawn(file, args, { stdio: [...stdio], env });
    const exited = new Promise<ChildExit>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    child.stdin?.on('error', () => undefined); // a container that stops reading: the input is lost, not the engine
    return { pid: child.pid ?? 0, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exited };
  }
  const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  let c: { pid: number; fds: [number, number, number] };
  try {
    c = native.spawn(file, [file, ...args], envList, [KIND_CODE[stdio[0]], KIND_CODE[stdio[1]], KIND_CODE[stdio[2]]]);
  } catch (e) {
    // As Node's spawn has it: the failure comes through `exited`, and the pipes are empty.
    const exited = Promise.reject(e as Error);
    exited.catch(() => undefined);
    const empty = () => Readable.from([]);
    return {
      pid: 0,
      stdin: stdio[0] === 'pipe' ? new Writable({ write: (_c, _e, cb) => cb() }) : null,
      stdout: stdio[1] === 'pipe' ? empty() : null,
      stderr: stdio[2] === 'pipe' ? empty() : null,
      exited,
    };
  }
  const stream = (fd: number, writable: boolean) => {
    if (fd < 0) return null;
    const s = new Socket({ fd, readable: !writable, writable });
    s.on('error', () => undefined); // a read error only ends the output early; a write error loses input nobody reads
    return s;
  };
  return { pid: c.pid, stdin: stream(c.fds[0], true), stdout: stream(c.fds[1], false), stderr: stream(c.fds[2], false), exited: waitChild(c.pid) };
}

/** Runs `file` to its end with stdin from /dev/null, and collects its output. */
export async function runChild(file: string, args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const child = spawnChild(file, args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = (s: Readable) => new Promise<void>((r) => (s.readableEnded || s.destroyed ? r() : s.once('close', () => r())));
  const exit = await child.exited;
  await Promise.all([ended(child.stdout!), ended(child.stderr!)]);
  return { status: exitStatus(exit), stdout, stderr };
}
