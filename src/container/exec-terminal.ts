/**
 * The CLI's `exec -it` on a terminal, with docker's detach keys. runc handed the terminal
 * directly reads no detach keys, so berth holds the pty's master itself (the console socket,
 * as the API's exec does) and relays: this terminal in raw mode to the master, watched for the
 * keys; the master's output to this terminal; size changes to the master. On the keys, as
 * docker's client: "read escape sequence", status 1, and the process runs on. Someone must
 * then keep the master open, or the process would lose its terminal (a hangup): a small
 * process of its own holds it and reads it until the process is gone, as dockerd's shim
 * holds an exec's terminal for it.
 */
import { spawn } from 'node:child_process';
import type { ContainerControl } from './control.ts';
import { startExec, type ExecOptions } from './exec.ts';

/** Reads the master (fd 3) until the last process on the terminal is gone; its output goes nowhere, as a detached exec's does. */
const HOLDER = `const s = new (require('node:tty').ReadStream)(3); s.on('data', () => {}); s.on('error', () => process.exit(0)); s.on('end', () => process.exit(0));`;

/** What came of an exec on this terminal: its exit status, or a detach (the process runs on). */
export type TerminalExecEnd = { readonly code: number; readonly detached: false } | { readonly code: 1; readonly detached: true };

/** Runs `opts.command` on this process's terminal (stdin must be a TTY), detaching on `detachKeys` (none when empty). */
export async function execOnThisTerminal(engine: ContainerControl, idOrName: string, opts: ExecOptions, detachKeys: Buffer): Promise<TerminalExecEnd> {
  const stdin = process.stdin as NodeJS.ReadStream;
  const stdout = process.stdout as NodeJS.WriteStream;
  const size = (): [number, number] => [stdout.rows || 24, stdout.columns || 80];
  const handle = await startExec(engine, idOrName, { ...opts, consoleSize: size() }, { stdin: true, stdout: true, stderr: true });
  handle.stderr?.pipe(process.stderr, { end: false }); // runc's own complaints
  const terminal = handle.terminal;
  if (!terminal) return { code: await handle.exited, detached: false };
  const outputEnded = new Promise<void>((r) => terminal.output.once('end', r).once('close', r));
  terminal.output.on('data', (d: Buffer) => stdout.write(d));
  const onResize = () => {
    const [rows, cols] = size();
    terminal.resize(cols, rows);
  };
  process.on('SIGWINCH', onResize);
  stdin.setRawMode(true);
  let detach!: () => void;
  const detached = new Promise<void>((r) => (detach = r));
  // Bytes that begin the key sequence are held back until it is complete (a detach) or broken (input after all).
  let held = 0;
  const onInput = (chunk: Buffer) => {
    const out: number[] = [];
    for (const b of chunk) {
      if (detachKeys.length && b === detachKeys[held]) {
        if (++held === detachKeys.length) {
          if (out.length) terminal.write(Buffer.from(out));
          return detach();
        }
        continue;
      }
      for (let i = 0; i < held; i++) out.push(detachKeys[i]!);
      held = detachKeys.length && b === detachKeys[0] ? 1 : 0;
      if (!held) out.push(b);
    }
    if (out.length) terminal.write(Buffer.from(out));
  };
  stdin.on('data', onInput);
  stdin.resume();
  const restore = () => {
    stdin.off('data', onInput);
    stdin.setRawMode(false);
    stdin.pause();
    process.off('SIGWINCH', onResize);
  };
  const end = await Promise.race([handle.exited.then((code) => ({ code, detached: false as const })), detached.then(() => undefined)]);
  restore();
  if (end) {
    // The last output can come after the exit: wait for the master's end, briefly.
    await Promise.race([outputEnded, new Promise((r) => setTimeout(r, 2000).unref())]);
    terminal.close();
    return end;
  }
  const holder = spawn(process.execPath, ['-e', HOLDER], { stdio: ['ignore', 'ignore', 'ignore', terminal.fd], detached: true });
  holder.unref();
  await new Promise<void>((r) => holder.once('spawn', () => r()).once('error', () => r()));
  terminal.close();
  return { code: 1, detached: true };
}
