/**
 * Named network namespaces, made with `ip netns add`: iproute2 makes /run/netns a shared
 * mount of itself before bind-mounting the namespace there, so the file is visible from
 * every mount namespace and is not pinned by a runc child's private copy of the mount
 * table, which a bind mount under berth's own state dir could not promise. /run is tmpfs,
 * so a reboot leaves none behind, and `ip netns exec berth-<id>` works for debugging.
 * Names use the first 12 hex digits of the container id, like Docker's short ids.
 *
 * With berth's addon the same steps run in this process (the shared mount, the file, a new
 * namespace bound on it, its `lo` brought up; and to delete, a detach and an unlink), since
 * starting `ip` twice and CNI's loopback plugin once was a good part of a bridge container's
 * start and exit; without it, `ip` and the plugin do them.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { BerthError, errnoCode } from '../errors/index.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import { MNT_DETACH, type Sys, sys } from '../sys/index.ts';

const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_SHARED = 1 << 20;

export const NETNS_DIR = '/run/netns';

export function netnsNameFor(containerId: string): string {
  return `berth-${containerId.slice(0, 12)}`;
}

export function netnsPathFor(containerId: string): string {
  return `${NETNS_DIR}/${netnsNameFor(containerId)}`;
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(e)).trim();
}

/** /run/netns made a shared mount (of itself, the first time), as iproute2 does before each add. */
function shareNetnsDir(native: Sys): void {
  mkdirSync(NETNS_DIR, { recursive: true, mode: 0o755 });
  try {
    native.mountSync('', NETNS_DIR, 'none', MS_SHARED | MS_REC, null);
  } catch (e) {
    if (errnoCode(e) !== 'EINVAL') throw e; // EINVAL: not a mount point yet
    native.mountSync(NETNS_DIR, NETNS_DIR, 'none', MS_BIND | MS_REC, null);
    native.mountSync('', NETNS_DIR, 'none', MS_SHARED | MS_REC, null);
  }
}

function createInProcess(native: Sys & Required<Pick<Sys, 'netnsBind'>>, name: string, path: string): void {
  shareNetnsDir(native);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_CREAT | constants.O_EXCL, 0);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') throw new BerthError('ALREADY_EXISTS', `create network namespace ${name}: it already exists`, { cause: e });
    throw e;
  }
  closeSync(fd);
  try {
    native.netnsBind(path);
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
}

/** A named network namespace: its path, and whether its `lo` is up already (made in process). */
export interface MadeNetns {
  readonly path: string;
  readonly loopbackUp: boolean;
}

export async function createNetns(name: string): Promise<MadeNetns> {
  const path = `${NETNS_DIR}/${name}`;
  const native = sys();
  try {
    if (native?.netnsBind) {
      createInProcess(native as Sys & Required<Pick<Sys, 'netnsBind'>>, name, path);
      return { path, loopbackUp: true };
    }
    await execFileAsync('ip', ['netns', 'add', name]);
  } catch (e) {
    if (e instanceof BerthError) throw e;
    const msg = stderrOf(e);
    if (/exists/i.test(msg)) throw new BerthError('ALREADY_EXISTS', `create network namespace ${name}: it already exists`, { cause: e });
    throw new BerthError('RUNTIME', `create network namespace ${name}: ${msg}`, { cause: e, hint: 'berth needs root and iproute2 for container networking' });
  }
  return { path, loopbackUp: false };
}

/** Idempotent: a missing namespace is already deleted. */
export async function deleteNetns(name: string): Promise<void> {
  const path = `${NETNS_DIR}/${name}`;
  if (!existsSync(path)) return;
  const native = sys();
  try {
    if (native) {
      // As `ip netns del`: the detach may fail (a file left unmounted by a crash); the unlink decides.
      try {
        native.umount2Sync(path, MNT_DETACH);
      } catch {
        // unlinked below all the same
      }
      rmSync(path, { force: true });
    } else {
      await execFileAsync('ip', ['netns', 'del', name]);
    }
  } catch (e) {
    if (!existsSync(path)) return;
    throw new BerthError('RUNTIME', `delete network namespace ${name}: ${stderrOf(e)}`, { cause: e });
  }
}
