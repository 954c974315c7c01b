/**
 * berth's own small addon (native/*.c, compiled into dist/berth_sys.node by `npm run build`):
 * system calls Node has no binding for. Each operation has one facade in this folder that
 * uses the addon when it is loaded and a fallback otherwise (a spawned tool, or Node), with
 * the same result, so no caller outside sys/ knows which ran:
 * - mount.ts: overlay mounts, detaches, syncfs (else `mount`, `umount -l`, `sync -f`);
 * - xattr.ts: l*xattr (else `setfattr`, `getfattr`); device-nodes.ts: mknod (else `mknod`);
 * - in-root.ts: openat2 with RESOLVE_IN_ROOT (else a checked walk, one component at a time);
 * - spawn.ts: posix_spawn, which does not copy Node's page tables as its fork does;
 * - terminal.ts: a container's console (runc's console socket, window size, subreaper);
 * - crypto.ts: SHA-256 and random bytes, which spare a command loading node:crypto.
 * docs/benchmarks.md has what each saves.
 *
 * `sys()` is undefined when the addon was not built (no C compiler or no Node headers), was
 * built for another Node, or BERTH_NO_NATIVE=1 is set. Only the facades call it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { settings } from '../config/index.ts';

export interface Sys {
  /** mount(2); null for an absent source, type or data. Runs off the main thread. */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): Promise<void>;
  /** mount(2) in line. */
  mountSync(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  /** umount2(2). Runs off the main thread: the last unmount of an overlay syncs what it wrote. */
  umount2(target: string, flags: number): Promise<void>;
  /** umount2(2) in line, for an unmount that syncs nothing (a volatile overlay). */
  umount2Sync(target: string, flags: number): void;
  /** syncfs(2) of the file system holding `path`, off the main thread. */
  syncfs(path: string): Promise<void>;
  /** Every xattr of `path`, not following a symlink; empty where the file system keeps none. */
  lxattrs(path: string): Array<[string, Buffer]>;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** mknod(2); `mode` carries the type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /**
   * openat2(2) of `path` under `dirfd` (O_CLOEXEC added): the new fd. `resolve` takes the
   * RESOLVE_* bits; in-root.ts is its one caller. Absent from an addon built before it.
   */
  openat2?(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /**
   * posix_spawn(3); `stdio` says for fds 0-2 whether each is a pipe (0), /dev/null (1) or
   * inherited (2). `fds` are this side of the pipes, -1 where there is none. spawn.ts is its
   * one caller. Absent from an addon built before it.
   */
  spawn?(
    file: string,
    argv: readonly string[],
    env: readonly string[],
    stdio: readonly [number, number, number],
  ): { pid: number; fds: [number, number, number] };
  /** waitpid(2) for a child (one spawn started, or one this process reaps as subreaper), off the main thread. */
  waitpid(pid: number): Promise<{ code: number | null; signal: number | null }>;
  /** prctl(PR_SET_CHILD_SUBREAPER): orphans among this process's descendants become its children. */
  setChildSubreaper?(): void;
  /** The fd carried by the next SCM_RIGHTS message on a connected unix socket, off the main thread. */
  recvFd?(socketFd: number): Promise<number>;
  /** ioctl(TIOCSWINSZ) on a terminal (a pty master). */
  setWindowSize?(fd: number, cols: number, rows: number): void;
  /** A new network namespace bind-mounted on the existing file `target` (netns.ts). Absent from an addon built before it. */
  netnsBind?(target: string): void;
  /**
   * A veth pair: `hostName` a port of `bridge`, up; its peer `eth0` in the namespace at `netnsPath`
   * with `mac`, up, with `address`/`prefixLength` and a default route via `gateway` (network/veth.ts).
   */
  vethAdd?(netnsPath: string, hostName: string, bridge: string, mac: string, address: string, prefixLength: number, gateway: string): void;
  /** Deletes the interface `name` in the namespace at `netnsPath`; false when either is not there. */
  linkDel?(netnsPath: string, name: string): boolean;
  /** Fills `buf` from getrandom(2). */
  randomFill(buf: Buffer): Buffer;
  /** OpenSSL's SHA-256 (crypto.ts); absent from an addon built without OpenSSL's headers. */
  sha256New?(): unknown;
  sha256Update?(hash: unknown, data: Uint8Array | string): void;
  sha256Digest?(hash: unknown): Buffer;
}

export const MNT_DETACH = 2;

let loaded: Sys | null | undefined;

/** The addon beside the bundle (dist/berth.cjs) or, running from the sources, in dist/. */
function addonPath(): string | undefined {
  for (const rel of ['./berth_sys.node', '../../dist/berth_sys.node']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function sys(): Sys | undefined {
  if (loaded === undefined) {
    const path = settings().noNative ? undefined : addonPath();
    try {
      loaded = path ? (createRequire(import.meta.url)(path) as Sys) : null;
    } catch {
      loaded = null; // built for another Node ABI or architecture: the tools still work
    }
  }
  return loaded ?? undefined;
}
