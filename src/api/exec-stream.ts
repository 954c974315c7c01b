/**
 * An exec's process joined to its client's raw stream: the client's stdin goes to the
 * process (its half-close is the process's stdin EOF, never the end of the output), the
 * process's output to the client (framed when there is no tty), and the stream closes once
 * the process has exited and its output has all been passed on. The exit code is recorded
 * before the stream closes: the docker CLI asks for it as soon as the stream ends. With a tty
 * the client may detach (its detach keys): the stream ends and the process runs on.
 */
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { ExecHandle } from '../services/container-io.ts';
import { DEFAULT_DETACH_KEYS, DetachWatcher, parseDetachKeys } from './detach-keys.ts';
import type { ExecInstance, ExecRegistry } from './exec-registry.ts';
import { relay, StreamType, type RawStream } from './streams.ts';

/** The exit code docker gives an exec that could not start: 127 for a command not found, 126 otherwise. */
export function startFailureCode(e: unknown): number {
  return e instanceof BerthError && e.code === 'CMD_NOT_FOUND' ? 127 : 126;
}

/** Resolves when `s` has ended or closed (at once when it already has). */
function drained(s: NodeJS.ReadableStream | null): Promise<void> {
  const r = s as Readable | null;
  if (!r || r.readableEnded || r.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    r.once('end', () => resolve());
    r.once('close', () => resolve());
  });
}

/**
 * How long a terminal's output is still read after its process exited: a child it left in the
 * background may hold the pty open, and docker ends the stream at the exit, not at the last holder.
 */
const TERMINAL_GRACE_MS = 500;

/**
 * Passes the client's input to the process: to its stdin pipe, or its terminal, where the
 * detach keys are watched for. Resolves when the client detaches (it never does otherwise).
 */
function wireInput(stream: RawStream, handle: ExecHandle, inst: ExecInstance): Promise<void> {
  const input = stream.input;
  const never = new Promise<void>(() => undefined);
  if (!inst.config.attachStdin || (!handle.stdin && !handle.terminal)) {
    // Read and dropped, so that the client's half-close and close are seen.
    input?.on('data', () => undefined);
    input?.on('error', () => undefined);
    input?.resume();
    return never;
  }
  if (!input) {
    handle.stdin?.end();
    return never;
  }
  let detach!: () => void;
  const detached = new Promise<void>((r) => (detach = r));
  const watcher = new DetachWatcher(parseDetachKeys(inst.config.detachKeys) ?? DEFAULT_DETACH_KEYS);
  input.on('data', (d: Buffer) => {
    if (!handle.terminal) {
      handle.stdin?.write(d);
      return;
    }
    const pass = watcher.feed(d);
    if (pass.length) handle.terminal.write(pass);
    if (watcher.detached) detach();
  });
  input.on('error', () => undefined);
  // A pipe's EOF is the process's stdin EOF; a terminal has no EOF of its own, so it stays open.
  const endStdin = () => {
    if (handle.stdin && !handle.stdin.writableEnded) handle.stdin.end();
  };
  input.once('end', endStdin);
  void stream.closed.then(endStdin);
  // The server paused the socket after reading the request's body off it: what came since waits.
  input.resume();
  return detached;
}

/** Passes the process's output to the client; resolves once it has all been passed on. */
function wireOutput(stream: RawStream, handle: ExecHandle, inst: ExecInstance): Promise<void> {
  const { attachStdout, attachStderr } = inst.config;
  if (inst.config.tty && !handle.terminal) {
    // runc failed to start the process: its reason, on its stderr, is the client's error.
    let runcErrors = '';
    handle.stderr?.on('data', (d: Buffer) => (runcErrors += d.toString()));
    return drained(handle.stderr).then(() => {
      if (runcErrors.trim()) stream.write(StreamType.Stdout, Buffer.from(`${runcErrors.trim()}\r\n`));
    });
  }
  if (handle.terminal) {
    const output = handle.terminal.output;
    // Read whether attached or not: a full pty would stop the process.
    relay(output, stream, StreamType.Stdout, attachStdout);
    const closed = drained(output);
    handle.stderr?.resume();
    return handle.exited.then(async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, TERMINAL_GRACE_MS)))]);
      clearTimeout(timer);
      handle.terminal!.close();
    });
  }
  if (handle.stdout) relay(handle.stdout, stream, StreamType.Stdout, attachStdout);
  if (handle.stderr) relay(handle.stderr, stream, StreamType.Stderr, attachStderr);
  return Promise.all([drained(handle.stdout), drained(handle.stderr)]).then(() => undefined);
}

/**
 * Runs a started exec against its client's stream to the end: output passed on, exit code
 * recorded in the registry, then the stream closed. A client that goes away meanwhile changes
 * nothing but where the output goes (nowhere): the process runs on, as docker's does.
 */
export async function pumpExec(stream: RawStream, handle: ExecHandle, inst: ExecInstance, registry: ExecRegistry): Promise<void> {
  const detached = wireInput(stream, handle, inst);
  const output = wireOutput(stream, handle, inst);
  const finished = handle.exited.then(async (code) => {
    await output;
    registry.finish(inst, code);
  });
  // A detach ends only the stream: the process runs on, and its exit is recorded all the same.
  await Promise.race([finished, detached]);
  await stream.end();
}

/** Runs a detached exec's process to its end, recording its exit code; its output goes nowhere. */
export function trackDetached(handle: ExecHandle, inst: ExecInstance, registry: ExecRegistry): void {
  handle.stdout?.resume();
  handle.stderr?.resume();
  handle.terminal?.output.resume();
  void handle.exited.then((code) => {
    handle.terminal?.close();
    registry.finish(inst, code);
  });
}
