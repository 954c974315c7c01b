/**
 * A child with its stdout and stderr on pipes, started by posix_spawn through berth's addon
 * when it is built: Node's spawn forks, and the fork copies the page tables of the whole
 * process, longer the more memory a build holds; posix_spawn costs the same at any
 * size. Without the addon, Node's spawn does it.
 */
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { sys } from './index.ts';

export interface PipedChild {
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The exit: a code, or the signal that ended it. Output may still be arriving. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** Starts `file` (an absolute path: there is no PATH search) with `args`, stdin from /dev/null. */
export function spawnPiped(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): PipedChild {
  const native = sys();
  if (!native) {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    return { pid: child.pid ?? 0, stdout: child.stdout, stderr: child.stderr, exited };
  }
  const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const c = native.spawnPiped(file, [file, ...args], envList);
  const stream = (fd: number) => {
    const s = new Socket({ fd, readable: true, writable: false });
    s.on('error', () => undefined); // a read error only ends the output early
    return s;
  };
  const exited = native.waitpid(c.pid).then((r) => ({ code: r.code, signal: r.signal === null ? null : signalNames.get(r.signal) ?? null }));
  return { pid: c.pid, stdout: stream(c.stdout), stderr: stream(c.stderr), exited };
}
