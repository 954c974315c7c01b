/**
 * The CLI's questions. docker's confirmation prompt (`PromptForConfirmation`): the question and
 * ` [y/N] ` on stdout, then one line from stdin; only `y` or `Y`, spaces around it allowed, is a
 * yes; anything else, an empty line or the end of input is a no (prune verbs ask it unless
 * `--force`). And `login`'s questions on the terminal: the username with echo, the password
 * without; only a terminal is asked: from a pipe or a file, docker refuses an interactive login.
 */
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../errors/index.ts';

/** More than any answer needs: the rest of a longer line is not read (it is a no anyway). */
const MAX_ANSWER = 4096;

export interface PromptIo {
  readonly input: Readable;
  readonly output: Writable;
}

export async function confirm(message: string, io: PromptIo = { input: process.stdin, output: process.stdout }): Promise<boolean> {
  io.output.write(`${message} [y/N] `);
  const answer = await readLine(io.input);
  return answer.trim().toLowerCase() === 'y';
}

/** The first line of `input` (without its newline), or what came before its end. */
function readLine(input: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const finish = () => {
      input.off('data', onData).off('end', finish).off('error', finish).off('close', finish);
      // Leave stdin to nobody: a paused stream keeps no handle open, so the command can end.
      input.pause();
      if ('unref' in input && typeof input.unref === 'function') input.unref();
      const nl = text.indexOf('\n');
      resolve(nl < 0 ? text : text.slice(0, nl));
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      if (text.includes('\n') || text.length > MAX_ANSWER) finish();
    };
    input.on('data', onData).once('end', finish).once('error', finish).once('close', finish);
    input.resume();
  });
}

function requireTerminal(): void {
  if (!process.stdin.isTTY) throw new BerthError('INVALID_ARGUMENT', 'Cannot perform an interactive login from a non TTY device');
}

/** One line typed on the terminal, shown as it is typed. */
export async function askLine(question: string): Promise<string> {
  requireTerminal();
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/**
 * One line typed on the terminal with echo off (raw mode: this reads the keys itself, so
 * backspace edits, Enter ends, Ctrl-C and Ctrl-D give up).
 */
export async function askSecret(question: string): Promise<string> {
  requireTerminal();
  const stdin = process.stdin;
  // Echo goes off before the question shows: an answer typed at once is never echoed.
  stdin.setRawMode(true);
  stdin.resume();
  process.stdout.write(question);
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            return resolve(typed);
          }
          if (ch === '\u0003' || ch === '\u0004') {
            stdin.off('data', onData);
            return reject(new BerthError('CANCELLED', 'login cancelled'));
          }
          if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
          else if (ch >= ' ') typed += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stdout.write('\n');
  }
}
