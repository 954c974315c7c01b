/**
 * Extended attributes, which Node cannot read or write: the l*xattr(2) calls through berth's
 * addon, else the `attr` package's tools, batched so that a layer costs a handful of
 * processes rather than one per file (`setfattr --restore`, `getfattr -R`). Symlinks are
 * never followed.
 */
import { BerthError, isBerthError } from '../errors/index.ts';
import { sys } from './index.ts';
import { runTool } from './run-tool.ts';

export interface XattrAssignment {
  readonly path: string;
  readonly name: string;
  readonly value: Buffer;
}

/**
 * Sets xattrs on paths (never following a final symlink). A failure on one file does not
 * stop the others; the failures are returned as text.
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

/** The xattrs of one entry of a tree, by its path relative to the root and its absolute path. */
export type XattrLookup = (rel: string, abs: string) => Map<string, Buffer> | undefined;

/**
 * A reader of the xattrs named by `wanted` of the entries under `root` (undefined for an
 * entry that has none). Through the addon each entry's are read when it is looked up; the
 * fallback reads the whole tree first, with one `getfattr -R`. With `optional`, a tree whose
 * xattrs cannot be read (no getfattr, a file system without xattrs) reads as having none.
 */
export async function treeXattrs(root: string, wanted: RegExp, opts: { optional: boolean; signal?: AbortSignal }): Promise<XattrLookup> {
  const native = sys();
  if (native) {
    return (_rel, abs) => {
      let list: Array<[string, Buffer]>;
      try {
        list = native.lxattrs(abs);
      } catch (e) {
        if (opts.optional) return undefined;
        throw e;
      }
      const attrs = list.filter(([name]) => wanted.test(name));
      return attrs.length ? new Map(attrs) : undefined;
    };
  }
  const all = await readTreeXattrs(root, wanted.source, { signal: opts.signal }).catch((e: unknown) => {
    if (opts.optional && isBerthError(e, 'UNAVAILABLE')) return new Map<string, Map<string, Buffer>>();
    throw e;
  });
  return (rel) => all.get(rel);
}

/**
 * The xattrs matching `pattern` (a getfattr regex) of every file under `dir`, keyed by path
 * relative to `dir` ('' for `dir` itself), read with one `getfattr -R` process.
 */
async function readTreeXattrs(dir: string, pattern: string, opts: { signal?: AbortSignal }): Promise<Map<string, Map<string, Buffer>>> {
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

/** Escapes a path as getfattr prints it (and setfattr --restore reads it): `\ooo` octal. */
function escapePath(p: string): string {
  let out = '';
  for (const b of Buffer.from(p)) {
    out +=
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2f || b === 0x2e || b === 0x5f || b === 0x2d
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
