/**
 * Runs a standard tool with bytes on its stdin and collects what it prints, for the
 * fallbacks of xattr.ts and device-nodes.ts. A non-zero exit is a result, not an error:
 * the tools report one file's failure and go on with the others.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../errors/index.ts';

export interface ToolResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function runTool(cmd: string, args: readonly string[], opts: { input?: Buffer; signal?: AbortSignal } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(
          new BerthError('UNAVAILABLE', `cannot run ${cmd}: it is not installed`, {
            hint: cmd.endsWith('fattr') ? 'install the "attr" package (apt-get install attr)' : undefined,
            cause: e,
          }),
        );
      } else reject(e);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined); // the tool may exit before reading everything
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}
