/**
 * Device nodes, fifos and overlayfs whiteouts, which Node cannot make: mknod(2) through
 * berth's addon, else the `mknod` tool (coreutils), a few hundred nodes per process.
 */
import { chmodSync, constants } from 'node:fs';
import { BerthError } from '../errors/index.ts';
import { sys } from './index.ts';
import { runTool } from './run-tool.ts';

/** Creates overlayfs whiteouts (0/0 character devices). */
export async function makeWhiteouts(paths: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<void> {
  const native = sys();
  if (native) {
    for (const p of paths) {
      try {
        native.mknod(p, constants.S_IFCHR, 0, 0);
      } catch (e) {
        throw new BerthError('RUNTIME', `cannot create overlay whiteouts: ${(e as Error).message}`, { cause: e });
      }
    }
    return;
  }
  for (let i = 0; i < paths.length; i += 500) {
    const r = await runTool('sh', ['-c', 'for p; do mknod -m 000 "$p" c 0 0 || exit 1; done', 'sh', ...paths.slice(i, i + 500)], { signal: opts.signal });
    if (r.code !== 0) throw new BerthError('RUNTIME', `cannot create overlay whiteouts: ${r.stderr.trim()}`);
  }
}

/** Creates one device node or fifo with exactly `mode` (the umask does not apply). */
export async function makeNode(path: string, kind: 'c' | 'b' | 'p', mode: number, major = 0, minor = 0, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const native = sys();
  if (native) {
    try {
      native.mknod(path, kind === 'p' ? constants.S_IFIFO : kind === 'b' ? constants.S_IFBLK : constants.S_IFCHR, major, minor);
      chmodSync(path, mode & 0o7777); // exactly, as `mknod -m` does: mknod(2) applies the umask
      return;
    } catch (e) {
      throw new BerthError('RUNTIME', `cannot create ${kind === 'p' ? 'fifo' : 'device node'} ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  const args = ['-m', (mode & 0o7777).toString(8), '--', path, kind, ...(kind === 'p' ? [] : [String(major), String(minor)])];
  const r = await runTool('mknod', args, { signal: opts.signal });
  if (r.code !== 0) throw new BerthError('RUNTIME', `cannot create ${kind === 'p' ? 'fifo' : 'device node'} ${path}: ${r.stderr.trim()}`);
}
