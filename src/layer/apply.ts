/**
 * Applying a layer tar to a directory, safely, in one pass that also computes the diffID
 * (sha256 of the uncompressed tar) and its size.
 *
 * Safety — no entry writes outside the target:
 * - a leading `/` is dropped (the entry lands inside the root, as Docker does); a name whose
 *   `..` climbs above the root is refused with UNSAFE_PATH;
 * - every parent is resolved inside the root with chroot semantics (resolveInRootSync), so
 *   a symlink — absolute, relative, or planted by this same layer — is followed as if the
 *   root were `/`: writes through it are contained, never refused;
 * - the final component is never followed: files are created with O_EXCL, and anything in
 *   the way is removed first (a dir over a dir merges, anything else replaces);
 * - hardlink targets resolve the same way (`/etc/passwd` means `<root>/etc/passwd`);
 * - a whiteout naming `.`, `..` or nothing is refused with UNSAFE_PATH; its parent resolves
 *   inside the root like any other.
 * Device nodes are created (as root, like Docker), but only at a contained path.
 *
 * Whiteouts: `apply` deletes the named path (`.wh..wh..opq` empties the dir of everything
 * this layer did not bring); `overlay` writes overlayfs's own form for a layer extracted
 * into its own empty dir — a 0/0 char device per deletion, trusted.overlay.opaque=y per
 * opaque dir — created at the end in a few batched processes.
 *
 * File system calls are synchronous on purpose: they are short, and a 20k-file layer
 * would otherwise pay a thread-pool round trip per call (docs/benchmarks.md). Body bytes still
 * stream; only a big file's writes go to the thread pool.
 */
import {
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  write,
  writeSync,
  chmodSync,
  utimesSync,
  constants as fsc,
} from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { promisify } from 'node:util';
import { pipeline, type Readable } from 'node:stream';
import { BerthError, errnoCode, isBerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { ApplyTree } from './apply-tree.ts';
import { decompressAuto, hashingStream } from './compress.ts';
import { DirectWriter, writeDirect } from './direct-write.ts';
import { makeNode, makeWhiteouts } from '../sys/device-nodes.ts';
import { setXattrs } from '../sys/xattr.ts';
import { isRootless, overlayXattr } from '../sys/rootless.ts';
import { archiveEntryPath, resolveInRootSync } from './safe-path.ts';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, type TarHeader } from './tar-format.ts';
import { readTar, type TarEntry } from './tar-reader.ts';

/** overlayfs metadata a layer must not forge (redirects, metacopy, opaque; user.* in a user namespace) — berth sets it. */
const FORBIDDEN_XATTR = /^(trusted|user)\.overlay\./;

const LAYER_ERRNOS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP', 'EINVAL', 'ENOTEMPTY', 'EMLINK', 'ENOENT', 'EXDEV']);

export interface ApplyOptions {
  /** `plain`: no entry is a whiteout (an archive copied in, where `.wh.x` is just a name). */
  readonly whiteouts: 'overlay' | 'apply' | 'plain';
  /** Refuse a dir over a non-dir and the other way round, instead of replacing (docker cp's noOverwriteDirNonDir). */
  readonly noReplaceDirNonDir?: boolean;
  /** An archive a client sent (a build context, docker cp's): it may end in its last entry's padding (tar-reader.ts). */
  readonly fromClient?: boolean;
  readonly signal?: AbortSignal;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream. */
  readonly diffId: Digest;
  /** Size in bytes of the uncompressed tar stream. */
  readonly size: number;
}

export async function applyLayer(input: Readable, target: string, opts: ApplyOptions): Promise<ApplyResult> {
  const root = resolvePath(target);
  mkdirSync(root, { recursive: true });
  const hasher = hashingStream();
  const tail = pipeline(input, decompressAuto(), hasher.stream, () => undefined);
  const onAbort = () => input.destroy(new BerthError('CANCELLED', 'layer extraction was cancelled'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const tree = new ApplyTree(root, opts.whiteouts === 'apply', !!opts.noReplaceDirNonDir);
  let current = '';
  try {
    if (opts.signal?.aborted) throw new BerthError('CANCELLED', 'layer extraction was cancelled');
    for await (const entry of readTar(tail, { endInPadding: opts.fromClient })) {
      current = entry.header.name;
      if (opts.signal?.aborted) throw new BerthError('CANCELLED', 'layer extraction was cancelled');
      const pending = applyEntry(tree, entry, opts);
      if (pending) await pending; // most entries are done in line: no promise to wait for
    }
    await finish(tree, opts);
  } catch (e) {
    tail.destroy();
    input.destroy();
    if (opts.signal?.aborted) throw new BerthError('CANCELLED', 'layer extraction was cancelled', { cause: e });
    if (isBerthError(e)) throw e;
    if (/^(Z_|ERR_STREAM_PREMATURE_CLOSE)/.test(errnoCode(e) ?? ''))
      throw new BerthError('DATA_CORRUPT', `cannot read the layer: ${(e as Error).message}`, { cause: e });
    const errno = errnoCode(e);
    if (errno && /^E[A-Z]+$/.test(errno)) {
      // A layer that asks for what its own entries make impossible (a file where a dir must
      // be, a name too long) is bad data; anything else is the file system refusing.
      const byLayer = LAYER_ERRNOS.has(errno);
      throw new BerthError(byLayer ? 'DATA_CORRUPT' : 'RUNTIME', `cannot apply the layer entry "${current}": ${(e as Error).message}`, {
        cause: e,
        hint: byLayer ? 'the layer is malformed; nothing outside the target was written' : undefined,
      });
    }
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { diffId: hasher.digest(), size: hasher.size() };
}

const writeAsync = promisify(write);

/** Files above this size are written on the thread pool (see writeFile). */
const BIG_FILE = 1 << 20;
/** Files from this size up (model weights) are written past the page cache where they can be. */
const DIRECT_FILE = 32 << 20;

/** Applies one entry; returns a promise only for the work that has to wait (streamed bodies, device nodes). */
function applyEntry(tree: ApplyTree, entry: TarEntry, opts: ApplyOptions): Promise<void> | undefined {
  const h = entry.header;
  const rel = archiveEntryPath(h.name);
  if (rel === '') return; // the root itself: its metadata belongs to whoever made the target
  const slash = rel.lastIndexOf('/');
  const base = rel.slice(slash + 1);
  const parentRel = slash === -1 ? '' : rel.slice(0, slash);

  if (base.startsWith(WHITEOUT_PREFIX) && opts.whiteouts !== 'plain') {
    applyWhiteout(tree, h.name, parentRel, base, opts);
    return undefined;
  }

  const parent = tree.ensureDir(parentRel);
  const path = `${parent}/${base}`; // base is one clean component (archiveEntryPath)
  const pathRel = tree.relOf(path);
  const mode = h.mode & 0o7777;
  tree.claim(pathRel);
  let wait: Promise<void> | undefined; // set only by work that cannot finish in line
  switch (h.type) {
    case 'directory':
      makeDir(tree, path, pathRel);
      lchownSync(path, h.uid, h.gid);
      chmodSync(path, mode); // after chown, which may clear set-id bits
      tree.setDirMode(pathRel, mode);
      tree.rememberDir(pathRel);
      tree.setDirTime(pathRel, h.mtime);
      break;
    case 'file':
      wait = writeFile(tree, entry, path, pathRel, parentRel);
      break;
    case 'symlink':
      replacing(tree, pathRel, () => symlinkSync(h.linkname, path));
      lchownSync(path, h.uid, h.gid);
      lutimesSync(path, h.mtime, h.mtime);
      break;
    case 'link':
      makeHardlink(tree, h, path, pathRel);
      return; // a hardlink shares its target's inode: no metadata of its own
    case 'character-device':
    case 'block-device':
    case 'fifo':
      tree.remove(pathRel);
      // A user namespace may not make device nodes (the kernel refuses mknod there), and a
      // container gets its /dev from the runtime anyway: rootless, the node is left out, as
      // moby's archive does in a userns. The layer's diffID is the stream's, so it is unchanged.
      if (h.type !== 'fifo' && isRootless()) return undefined;
      wait = makeNode(path, h.type === 'fifo' ? 'p' : h.type === 'block-device' ? 'b' : 'c', mode, h.devmajor, h.devminor, opts).then(() => {
        lchownSync(path, h.uid, h.gid);
        chmodSync(path, mode);
        utimesSync(path, h.mtime, h.mtime);
      });
      break;
  }
  if (wait) return wait.then(() => recordXattrs(tree, pathRel, h));
  recordXattrs(tree, pathRel, h);
  return undefined;
}

/** Runs `create`; if something is in the way (EEXIST), removes it and runs it again. */
function replacing(tree: ApplyTree, rel: string, create: () => void): void {
  try {
    create();
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    if (tree.noReplaceDirNonDir && lstatSync(tree.abs(rel)).isDirectory())
      throw new BerthError('INVALID_ARGUMENT', `cannot overwrite directory "/${rel}" with non-directory`);
    tree.remove(rel);
    create();
  }
}

/** Creates a dir; an existing dir is merged into, anything else replaced. */
function makeDir(tree: ApplyTree, path: string, rel: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    if (!lstatSync(path).isDirectory()) {
      if (tree.noReplaceDirNonDir) throw new BerthError('INVALID_ARGUMENT', `cannot overwrite non-directory "/${rel}" with directory`);
      tree.remove(rel);
      mkdirSync(path, { mode: 0o700 });
    }
  }
}

/**
 * Writes a file entry. A body that came whole with its header (`entry.data`, most small
 * files) is written without leaving the call, and nothing is returned; a streamed body
 * returns the promise of its writes.
 */
function writeFile(tree: ApplyTree, entry: TarEntry, path: string, rel: string, parentRel: string): Promise<void> | undefined {
  const { data, header: h } = entry;
  const meta = fileMetaCalls(h, tree.isPlainDir(parentRel));
  let fd: number | undefined;
  replacing(tree, rel, () => (fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, meta.createMode)));
  if (data && data.length <= BIG_FILE) {
    try {
      for (let off = 0; off < data.length; ) off += writeSync(fd!, data, off);
      setFileMeta(fd!, h, meta);
    } finally {
      closeSync(fd!);
    }
    return undefined;
  }
  return (async () => {
    try {
      // A big file (model weights) is written on the thread pool: in line, it would hold up
      // everything else this thread does meanwhile (decompressing, hashing, the download). A
      // small one is written in line: a round trip to the pool costs more than the write.
      const big = h.size > BIG_FILE;
      const direct = h.size >= DIRECT_FILE ? await DirectWriter.open(path) : undefined;
      if (direct) await writeDirect(direct, fd!, entry.body());
      else {
        for await (const chunk of entry.body()) {
          for (let off = 0; off < chunk.length; )
            off += big ? (await writeAsync(fd!, chunk, off, chunk.length - off)).bytesWritten : writeSync(fd!, chunk, off);
        }
      }
      setFileMeta(fd!, h, meta);
    } finally {
      closeSync(fd!);
    }
  })();
}

/** The process's umask, read once: it decides whether a file is created with its final mode. */
let umask: number | undefined;
const EUID = process.geteuid?.() ?? -1;
const EGID = process.getegid?.() ?? -1;

interface FileMetaCalls {
  /** The mode the file is created with. */
  readonly createMode: number;
  readonly chown: boolean;
  readonly chmod: boolean;
}

/**
 * Which metadata calls a new file needs. Most files of a layer are owned by the extracting
 * user (root) and have a plain mode: created with that mode, in a dir without setgid, they
 * need neither chown nor chmod, two of the six calls a small file costs. Set-id and sticky
 * bits, and bits the umask would drop, still go through fchmod after the chown.
 */
export function fileMetaCalls(h: Pick<TarHeader, 'mode' | 'uid' | 'gid'>, plainParent: boolean, mask = (umask ??= process.umask())): FileMetaCalls {
  const mode = h.mode & 0o7777;
  const chown = !(plainParent && h.uid === EUID && h.gid === EGID);
  const direct = (mode & ~0o777) === 0 && (mode & mask) === 0;
  return { createMode: direct ? mode : 0o600, chown, chmod: !direct };
}

function setFileMeta(fd: number, h: TarHeader, calls: FileMetaCalls): void {
  if (calls.chown) fchownSync(fd, h.uid, h.gid);
  if (calls.chmod) fchmodSync(fd, h.mode & 0o7777); // after chown, which may clear set-id bits
  futimesSync(fd, h.mtime, h.mtime);
}

function makeHardlink(tree: ApplyTree, h: TarHeader, path: string, rel: string): void {
  const linkRel = archiveEntryPath(h.linkname);
  // The link's own parents resolve inside the root; the final component is not followed
  // (link(2) links a symlink itself), so the source is always inside the root.
  const source = resolveInRootSync(tree.root, linkRel, { followFinal: false }).path;
  let isDir = false;
  try {
    isDir = lstatSync(source).isDirectory();
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw e;
    throw new BerthError('DATA_CORRUPT', `hardlink "${h.name}" points to "${h.linkname}", which is not in the layer or the target`);
  }
  if (isDir) throw new BerthError('DATA_CORRUPT', `hardlink "${h.name}" points to the directory "${h.linkname}"`);
  if (source === path) return;
  replacing(tree, rel, () => linkSync(source, path));
}

function recordXattrs(tree: ApplyTree, rel: string, h: TarHeader): void {
  if (h.xattrs.size === 0) {
    if (tree.xattrs.size) tree.setXattrs(rel, undefined);
    return;
  }
  tree.setXattrs(rel, new Map([...h.xattrs].filter(([k]) => !FORBIDDEN_XATTR.test(k))));
}

function applyWhiteout(tree: ApplyTree, name: string, parentRel: string, base: string, opts: ApplyOptions): void {
  if (base === OPAQUE_WHITEOUT) {
    if (opts.whiteouts === 'overlay') tree.markOpaque(tree.relOf(tree.ensureDir(parentRel)));
    else {
      const dir = tree.findDir(parentRel);
      if (dir) tree.emptyDir(tree.relOf(dir));
    }
    return;
  }
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // AUFS metadata (.wh..wh.plnk…): not a deletion
  const victim = base.slice(WHITEOUT_PREFIX.length);
  if (victim === '' || victim === '.' || victim === '..') {
    throw new BerthError('UNSAFE_PATH', `archive entry "${name}" is a whiteout of "${victim}", which is not a file name`, {
      hint: 'the archive is malformed or hostile; nothing outside the target was written',
    });
  }
  if (opts.whiteouts === 'overlay') {
    const rel = tree.relOf(join(tree.ensureDir(parentRel), victim));
    tree.remove(rel);
    tree.addWhiteout(rel);
    return;
  }
  const dir = tree.findDir(parentRel);
  if (dir) tree.remove(tree.relOf(join(dir, victim)));
}

/** The deferred work: whiteout devices, xattrs and opaque marks, then dir mtimes. */
async function finish(tree: ApplyTree, opts: ApplyOptions): Promise<void> {
  await makeWhiteouts(
    [...tree.whiteouts].map((r) => tree.abs(r)),
    opts,
  );
  const marks = [...tree.opaqueDirs].map((r) => ({ path: tree.abs(r), name: overlayXattr('opaque'), value: Buffer.from('y') }));
  if (marks.length) {
    const failed = await setXattrs(marks, opts);
    if (failed) throw new BerthError('RUNTIME', `cannot mark opaque dirs for overlayfs: ${failed}`);
  }
  const xattrs = [...tree.xattrs].flatMap(([rel, m]) => [...m].map(([name, value]) => ({ path: tree.abs(rel), name, value })));
  // As Docker does with a file system that refuses some xattrs: the content still applies.
  await setXattrs(xattrs, opts);
  const dirs = [...tree.dirTimes].sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0)); // children first
  for (const [rel, t] of dirs) lutimesSync(tree.abs(rel), t, t);
}
