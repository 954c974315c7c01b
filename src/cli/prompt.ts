/**
 * docker's confirmation prompt (`PromptForConfirmation`): the question and ` [y/N] ` on
 * stdout, then one line from stdin. Only `y` or `Y`, spaces around it allowed, is a yes;
 * anything else, an empty line or the end of input is a no. Prune verbs ask it unless
 * `--force`; `builder prune` and any other verb that asks first should use it too.
 */
import type { Readable, Writable } from 'node:stream';

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
