/**
 * The archive side of `docker cp`, as the Engine API has it: a path's stat, a tar of a path,
 * and a tar extracted into a dir. Paths are opened inside the rootfs (copy.ts' primitives:
 * links resolve as if the rootfs were `/`, a running container is frozen for the copy), the
 * tar is made by GNU tar working under the opened dir's fd, and what comes in goes through
 * the safe layer extractor, which writes nothing outside the target dir.
 */
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { posix } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { applyLayer } from '../layer/index.ts';
import { spawnChild } from '../sys/spawn.ts';
import { closeFd, fdPath, fstatFd, O_DIRECTORY, O_PATH, splitLeaf } from '../sys/in-root.ts';
import { type CopyDeps, rootRelative, tryOpen, withRootfs } from './copy.ts';

/** docker's `ContainerPathStat`: Go's FileMode bits in `mode`, `linkTarget` resolved inside the container. */
export interface PathStat {
  readonly name: string;
  readonly size: number;
  readonly mode: number;
  readonly mtime: string;
  readonly linkTarget: string;
}

/** Go's os.FileMode type bits over the permission bits. */
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  pipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  char: 2 ** 21,
  sticky: 2 ** 20,
};

function goMode(st: import('node:fs').Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += GO_MODE.setuid;
  if (st.mode & 0o2000) m += GO_MODE.setgid;
  if (st.mode & 0o1000) m += GO_MODE.sticky;
  if (st.isDirectory()) m += GO_MODE.dir;
  else if (st.isSymbolicLink()) m += GO_MODE.symlink;
  else if (st.isFIFO()) m += GO_MODE.pipe;
  else if (st.isSocket()) m += GO_MODE.socket;
  else if (st.isCharacterDevice()) m += GO_MODE.device + GO_MODE.char;
  else if (st.isBlockDevice()) m += GO_MODE.device;
  return m;
}

/** The name docker gives a path's tar entry and stat: its last component (`.` for `dir/.`, `/` for the root). */
function baseName(path: string): string {
  if (/(^|\/)\.$/.test(path)) return '.';
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : posix.basename(trimmed);
}

const TAR = ['/usr/bin/tar', '/bin/tar'].find((p) => existsSync(p)) ?? 'tar';

interface Located {
  /** The dir holding the entry, opened inside the root, and the entry's name in it. */
  readonly dir: number;
  readonly leaf: string;
  readonly stat: PathStat;
}

/**
 * Opens what `path` names: the parent's links followed inside the root, the last component
 * not followed unless the path ends in `/` or `/.` (as docker resolves it).
 */
function locate(rootFd: number, rootfs: string, path: string, container: string): Located {
  const notFound = () => new BerthError('NOT_FOUND', `Could not find the file ${path} in container ${container}`);
  const follow = path.endsWith('/') || /(^|\/)\.$/.test(path);
  const abs = posix.join('/', path);
  let dirRel: string;
  let leaf: string | undefined;
  if (follow || abs === '/') {
    const target = tryOpen(rootFd, abs, { flags: O_PATH, followFinal: true });
    if (target === undefined) throw notFound();
    try {
      ({ parent: dirRel, leaf } = splitLeaf(rootRelative(target, rootfs)));
    } finally {
      closeFd(target);
    }
  } else {
    ({ parent: dirRel, leaf } = splitLeaf(abs));
  }
  const dir = tryOpen(rootFd, dirRel, { flags: O_PATH | O_DIRECTORY, followFinal: true });
  if (dir === undefined) throw notFound();
  try {
    const st = leaf === undefined ? fstatFd(dir) : statAt(dir, leaf);
    if (!st) throw notFound();
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      const to = tryOpen(rootFd, abs, { flags: O_PATH, followFinal: true });
      if (to !== undefined) {
        linkTarget = rootRelative(to, rootfs);
        closeFd(to);
      }
    }
    return {
      dir,
      leaf: leaf ?? '.',
      stat: { name: baseName(path), size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(), linkTarget },
    };
  } catch (e) {
    closeFd(dir);
    throw e;
  }
}

function statAt(dir: number, leaf: string): import('node:fs').Stats | undefined {
  const fd = tryOpen(dir, leaf, { flags: O_PATH });
  if (fd === undefined) return undefined;
  try {
    return fstatFd(fd);
  } finally {
    closeFd(fd);
  }
}

/** `HEAD /containers/{id}/archive`: what `path` is. */
export function statContainerPath(engine: CopyDeps, idOrName: string, path: string): Promise<PathStat> {
  return withRootfs(engine, idOrName, async (rootFd, rootfs) => {
    const at = locate(rootFd, rootfs, path, idOrName);
    closeFd(at.dir);
    return at.stat;
  });
}

/** GNU tar's `--transform` expression renaming a leading `from` to `to`, both taken literally. */
function renameExpr(from: string, to: string): string {
  const re = from.replace(/[\\^$.*[\]|]/g, '\\$&');
  const by = to.replace(/[\\&|]/g, '\\$&');
  return `s|^${re}|${by}|`;
}

/**
 * `GET /containers/{id}/archive`: `send` gets the stat and the tar of `path` (entries named
 * from its last component), and the container stays frozen or mounted until it resolves.
 */
export function archiveContainerPath(
  engine: CopyDeps,
  idOrName: string,
  path: string,
  send: (stat: PathStat, tar: Readable) => Promise<void>,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  return withRootfs(engine, idOrName, async (rootFd, rootfs) => {
    const at = locate(rootFd, rootfs, path, idOrName);
    try {
      const rename = at.leaf !== at.stat.name && at.stat.name !== '/' ? ['--transform', renameExpr(at.leaf, at.stat.name)] : [];
      // Under the dir's fd: tar opens nothing by a host path the container could redirect.
      const tar = spawnChild(TAR, ['--format=gnu', '--numeric-owner', ...rename, '-C', fdPath(at.dir), '-cf', '-', '--', at.leaf], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      tar.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      let done = false;
      const exited = tar.exited.finally(() => (done = true));
      // A client gone mid-stream: tar stops, and the container is thawed.
      const stop = () => {
        try {
          if (!done && tar.pid) process.kill(tar.pid, 'SIGKILL');
        } catch {
          // It exited between the check and the kill.
        }
      };
      opts.signal?.addEventListener('abort', stop, { once: true });
      try {
        await send(at.stat, tar.stdout!);
        const exit = await exited;
        if (exit.code !== 0 && !opts.signal?.aborted) throw new BerthError('INTERNAL', `tar of ${path} failed: ${stderr.trim()}`);
      } finally {
        opts.signal?.removeEventListener('abort', stop);
        stop();
      }
    } finally {
      closeFd(at.dir);
    }
  });
}

/**
 * `PUT /containers/{id}/archive`: extracts `tar` into the dir `path` names (links followed
 * inside the root). Entries land under that dir or nowhere (layer/apply.ts).
 */
export function extractToContainer(
  engine: CopyDeps,
  idOrName: string,
  path: string,
  tar: Readable,
  opts: { noOverwriteDirNonDir?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  return withRootfs(engine, idOrName, async (rootFd) => {
    const dir = tryOpen(rootFd, posix.join('/', path), { flags: O_PATH, followFinal: true });
    if (dir === undefined) throw new BerthError('NOT_FOUND', `Could not find the file ${path} in container ${idOrName}`);
    try {
      if (!fstatFd(dir).isDirectory()) throw new BerthError('INVALID_ARGUMENT', 'extraction point is not a directory');
      await applyLayer(tar, fdPath(dir), { whiteouts: 'plain', fromClient: true, noReplaceDirNonDir: opts.noOverwriteDirNonDir, signal: opts.signal });
    } finally {
      closeFd(dir);
    }
  });
}
