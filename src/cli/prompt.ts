/**
 * `login`'s questions on the terminal: the username with echo, the password without. Only a
 * terminal is asked: from a pipe or a file, docker refuses an interactive login, and so does berth.
 */
import { BerthError } from '../errors/index.ts';

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
