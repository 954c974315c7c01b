/**
 * A process on the slave side of a new pseudo-terminal, through node-pty: a native module
 * that may be missing where it could not be built (no compiler, another Node ABI) and that
 * only a detached `run -t` needs. So it is loaded here, at that call, and its absence fails
 * that one command with a hint instead of every command.
 */
import type { IPty, IPtyForkOptions } from 'node-pty';
import { BerthError } from '../errors/index.ts';

export type { IPty };

export async function spawnInPty(file: string, args: readonly string[], opts: IPtyForkOptions): Promise<IPty> {
  let pty: typeof import('node-pty');
  try {
    pty = await import('node-pty');
  } catch (e) {
    throw new BerthError('UNAVAILABLE', `cannot open a terminal for the container: node-pty does not load (${(e as Error).message.split('\n')[0]})`, {
      hint: 'reinstall berth\'s dependencies with a C++ compiler present (npm ci), or run without -t',
      cause: e,
    });
  }
  return pty.spawn(file, [...args], opts);
}
