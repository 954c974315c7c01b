/**
 * Paths inside an untrusted tree (a container's rootfs, an image's layer, a volume) opened
 * as file descriptors, never as joined host path strings (STYLE habit 15). A path is
 * resolved as if the tree's root were `/`: `..` stops at the root, and a symlink, absolute
 * or relative, is followed inside the tree. The result is an fd, so what was checked is what
 * is used: the tree's owner can swap a directory for a symlink at any moment, and nothing
 * done afterwards through the fd (or `fdPath(fd)`) sees the swap.
 *
 * Two implementations, one contract (both are tested by the same table):
 * - openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS through berth's addon: the
 *   kernel walks the path in one call;
 * - without the addon, or where openat2 is missing (ENOSYS), a walk component by component
 *   from the root's fd: each component opened with O_PATH|O_NOFOLLOW through
 *   `/proc/self/fd/<parent>/<name>`, a symlink read and expanded here with the same rules.
 *
 * A create never follows a final symlink (O_NOFOLLOW is added to O_CREAT), so `O_EXCL`
 * creates exactly the entry asked for, or fails.
 *
 * The fds are plain numbers: the caller closes them (`closeFd`). `fdPath(fd, name?)` is the
 * path through /proc that reaches exactly the opened file (and `name` one component below
 * it), for calls that take paths, in this process or in a tool it starts.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readlinkSync, readFileSync, type Stats } from 'node:fs';
import { BerthError, errnoCode } from '../errors/index.ts';
import { sys } from './index.ts';

export const O_PATH = 0o10000000;
export const O_NOFOLLOW = constants.O_NOFOLLOW;
export const O_DIRECTORY = constants.O_DIRECTORY;
export const O_CREAT = constants.O_CREAT;
export const O_EXCL = constants.O_EXCL;

const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;
const MAX_LINKS = 40;

export interface OpenInRootOptions {
  /** open(2) flags; O_PATH when absent. */
  readonly flags?: number;
  /** The mode of a created file. */
  readonly mode?: number;
  /** Follow a symlink in the last component (inside the root). Never done for a create. */
  readonly followFinal?: boolean;
}

/** The path through /proc that reaches the file `fd` holds open (and `name` under it), usable by child tools too. */
export function fdPath(fd: number, name?: string): string {
  if (name !== undefined && (name === '' || name === '.' || name === '..' || name.includes('/'))) {
    throw new BerthError('UNSAFE_PATH', `"${name}" is not a single path component`);
  }
  return `/proc/${process.pid}/fd/${fd}${name === undefined ? '' : `/${name}`}`;
}

export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}

/** Opens a trusted host directory (the root of a tree) as the starting point of in-root opens. */
export function openRoot(root: string): number {
  return openSync(root, O_PATH | O_DIRECTORY);
}

let openat2Missing = false;

/** Opens `rel` inside the tree whose root `rootFd` holds, as an fd that never lies outside it. */
export function openInRoot(rootFd: number, rel: string, opts: OpenInRootOptions = {}): number {
  const s = sys();
  if (s?.openat2 && !openat2Missing) {
    const flags = openFlags(opts);
    try {
      // openat2 refuses a mode without O_CREAT (open(2) ignores it).
      const mode = flags & O_CREAT ? (opts.mode ?? 0o644) : 0;
      return s.openat2(rootFd, rel.replace(/^\/+/, '') || '.', flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    } catch (e) {
      if (errnoCode(e) !== 'ENOSYS') throw e;
      openat2Missing = true; // a kernel before 5.6, or a seccomp filter that refuses it
    }
  }
  return openInRootWalk(rootFd, rel, opts);
}

function openFlags(opts: OpenInRootOptions): number {
  let flags = opts.flags ?? O_PATH;
  if (flags & O_CREAT || !opts.followFinal) flags |= O_NOFOLLOW;
  return flags;
}

/**
 * The fallback: the same resolution walked here, one component at a time. A component is
 * opened with O_PATH|O_NOFOLLOW relative to its parent's fd, so a component swapped after
 * its check is never followed on the host; a symlink's target is read through the parent's
 * fd and expanded as the kernel would (physical `..`, an absolute target restarting at the
 * root). Exported for the contract tests; callers use `openInRoot`.
 */
export function openInRootWalk(rootFd: number, rel: string, opts: OpenInRootOptions = {}): number {
  const flags = openFlags(opts);
  const creating = (flags & O_CREAT) !== 0;
  const parts = splitPath(rel);
  // A create resolves the parent and makes the last component itself, without following.
  const leaf = creating ? parts.pop() : undefined;
  if (creating && (leaf === undefined || leaf === '..')) throw errnoError('EISDIR', rel);
  const stack = [openSync(fdPath(rootFd), O_PATH | O_DIRECTORY)];
  try {
    let pending = parts;
    let hops = 0;
    while (pending.length) {
      const comp = pending.shift()!;
      if (comp === '..') {
        if (stack.length > 1) closeFd(stack.pop()!);
        continue;
      }
      const last = pending.length === 0 && !creating;
      const parent = stack[stack.length - 1]!;
      const fd = openSync(fdPath(parent, comp), O_PATH | O_NOFOLLOW);
      const st = fstatSync(fd);
      if (st.isSymbolicLink() && (!last || opts.followFinal)) {
        closeFd(fd);
        if (++hops > MAX_LINKS) throw errnoError('ELOOP', rel);
        let target: string;
        try {
          target = readlinkSync(fdPath(parent, comp));
        } catch (e) {
          if (errnoCode(e) !== 'EINVAL' && errnoCode(e) !== 'ENOENT') throw e;
          pending = [comp, ...pending]; // swapped since the open: look again
          continue;
        }
        if (target.startsWith('/')) while (stack.length > 1) closeFd(stack.pop()!);
        pending = [...splitPath(target), ...pending];
        continue;
      }
      stack.push(fd);
      if (!last && !st.isDirectory()) throw errnoError('ENOTDIR', rel);
    }
    const top = stack[stack.length - 1]!;
    if (creating) return openSync(fdPath(top, leaf!), flags, opts.mode ?? 0o644);
    // The O_PATH fd held is the answer; other flags reopen exactly that file.
    if ((flags & ~O_NOFOLLOW) === O_PATH) {
      stack.pop();
      return top;
    }
    const st = fstatSync(top);
    if (st.isSymbolicLink()) throw errnoError('ELOOP', rel);
    if (flags & O_DIRECTORY && !st.isDirectory()) throw errnoError('ENOTDIR', rel);
    return openSync(fdPath(top), flags & ~O_NOFOLLOW);
  } finally {
    for (const fd of stack) closeFd(fd);
  }
}

/** Components of a path, `.` and empty ones dropped; `..` kept (resolved during the walk). */
function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function errnoError(code: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: resolving "${path}" inside the root`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** The last component of a lexically clean path and the path of its parent (`''` for the root). */
export function splitLeaf(rel: string): { parent: string; leaf: string | undefined } {
  const parts: string[] = [];
  for (const c of rel.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  const leaf = parts.pop();
  return { parent: parts.join('/'), leaf };
}

/**
 * `mkdir -p` inside the root: every missing component is made in its parent's fd (a
 * symlink met on the way is followed inside the root). Returns an O_PATH fd of the dir.
 */
export function mkdirAllInRoot(rootFd: number, rel: string, mode = 0o755): number {
  const parts = splitLeaf(rel);
  const comps = parts.leaf === undefined ? [] : [...(parts.parent ? parts.parent.split('/') : []), parts.leaf];
  let dir = openInRoot(rootFd, '', { flags: O_PATH | O_DIRECTORY });
  try {
    for (let i = 0; i < comps.length; i++) {
      const prefix = comps.slice(0, i + 1).join('/');
      const open = () => openInRoot(rootFd, prefix, { flags: O_PATH | O_DIRECTORY, followFinal: true });
      let next: number;
      try {
        next = open();
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
        try {
          mkdirSync(fdPath(dir, comps[i]!), { mode });
        } catch (m) {
          if (errnoCode(m) !== 'EEXIST') throw m;
        }
        next = open();
      }
      closeFd(dir);
      dir = next;
    }
    return dir;
  } catch (e) {
    closeFd(dir);
    throw e;
  }
}

/** lstat of an open fd (an O_PATH fd of a symlink says it is one). */
export function fstatFd(fd: number): Stats {
  return fstatSync(fd);
}

/** The host path of what `fd` holds open, for a value that must be a path (a runc mount destination). */
export function hostPathOf(fd: number): string {
  return readlinkSync(fdPath(fd));
}

/** Reads a file inside the root (symlinks followed inside it); undefined when it is absent. */
export function readFileInRoot(root: string, rel: string): string | undefined {
  const rootFd = openRoot(root);
  try {
    const fd = openInRoot(rootFd, rel, { flags: constants.O_RDONLY, followFinal: true });
    try {
      return readFileSync(fd, 'utf8');
    } finally {
      closeFd(fd);
    }
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  } finally {
    closeFd(rootFd);
  }
}
