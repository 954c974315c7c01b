/**
 * What Node cannot do on its own — xattrs and device nodes. Through berth's addon (src/sys)
 * these are system calls; without it, the standard tools are spawned, batched so a layer
 * costs a handful of processes rather than one per file: `setfattr --restore` and
 * `getfattr -R` (Debian package `attr`) and `mknod` (coreutils).
 */
import { spawn } from 'node:child_process';
import { chmodSync, constants } from 'node:fs';
import { BerthError } from '../errors/index.ts';
import { sys } from '../sys/index.ts';

interface RunResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function runTool(cmd: string, args: readonly string[], opts: { input?: Buffer; signal?: AbortSignal } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new BerthError('UNAVAILABLE', `cannot run ${cmd}: it is not installed`, { hint: cmd.endsWith('fattr') ? 'install the "attr" package (apt-get install attr)' : undefined, cause: e }));
      } else reject(e);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined); // the tool may exit before reading everything
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

/** Escapes a path as getfattr prints it (and setfattr --restore reads it): `\ooo` octal. */
function escapePath(p: string): string {
  let out = '';
  for (const b of Buffer.from(p)) {
    out += (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2f || b === 0x2e || b === 0x5f || b === 0x2d
      ? String.fromCharCode(b)
      : `\\${b.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function unescapePath(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (s[i] === '\\' && s[i + 1] === '\\') {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(...Buffer.from(s[i]!));
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface XattrAssignment {
  readonly path: string;
  readonly name: string;
  readonly value: Buffer;
}

/**
 * Sets xattrs on paths (never following a final symlink) with one setfattr process. A
 * failure on one file does not stop the others; the failures are returned as text.
 */
export async function setXattrs(list: readonly XattrAssignment[], opts: { signal?: AbortSignal } = {}): Promise<string | undefined> {
  if (!list.length) return undefined;
  const native = sys();
  if (native) {
    const failed: string[] = [];
    for (const x of list) {
      try {
        native.lsetxattr(x.path, x.name, x.value);
      } catch (e) {
        failed.push((e as Error).message);
      }
    }
    return failed.length ? failed.join('\n') : undefined;
  }
  const dump = list.map((x) => `# file: ${escapePath(x.path)}\n${x.name}=0x${x.value.toString('hex')}\n\n`).join('');
  const r = await runTool('setfattr', ['-h', '--restore=-'], { input: Buffer.from(dump), signal: opts.signal });
  return r.code === 0 ? undefined : r.stderr.trim() || `setfattr exited with ${r.code}`;
}

/**
 * The xattrs matching `pattern` (a getfattr regex) of every file under `dir`, keyed by path
 * relative to `dir` ('' for `dir` itself), read with one `getfattr -R` process. Symlinks
 * are not followed.
 */
export async function readXattrs(dir: string, pattern: string, opts: { signal?: AbortSignal } = {}): Promise<Map<string, Map<string, Buffer>>> {
  const r = await runTool('getfattr', ['-R', '-P', '-h', '--absolute-names', '-e', 'hex', '-d', '-m', pattern, '--', dir], { signal: opts.signal });
  // getfattr exits non-zero when one file cannot be read but still reports the others.
  if (r.code !== 0 && r.stdout.length === 0 && r.stderr.trim()) {
    throw new BerthError('RUNTIME', `cannot read xattrs under ${dir}: ${r.stderr.trim()}`);
  }
  const out = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of r.stdout.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = unescapePath(Buffer.from(line.slice(8), 'latin1').toString('utf8'));
      const rel = abs === dir ? '' : abs.startsWith(`${dir}/`) ? abs.slice(dir.length + 1) : undefined;
      current = rel === undefined ? undefined : new Map();
      if (current && rel !== undefined) out.set(rel, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq === -1) continue;
    const value = line.slice(eq + 1);
    current.set(line.slice(0, eq), value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, ''), 'latin1'));
  }
  return out;
}

/** Creates overlayfs whiteouts (0/0 character devices), a few hundred per process. */
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

/** Creates one device node or fifo (Node has no mknod). */
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
