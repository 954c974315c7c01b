/**
 * Where a rootless berth keeps its network state: under the user's run base
 * ($XDG_RUNTIME_DIR/berth), never /run/netns or /run/berth, which belong to root. The
 * namespaces are bind-mounted files in `netns/`, each bind made private: slirp4netns's
 * sandbox copies the mount table and detaches its old root, which would unmount a shared
 * bind here too (so /run/netns's shared-mount scheme is not copied). The API sockets and
 * the attachment cache sit beside them. Dirs are 0700 and files 0600: only the
 * user reads them.
 *
 * berth makes the namespace itself, inside its user namespace, before runc starts, so runc
 * joins it as it joins a rootful container's, and the helper (slirp4netns or pasta) is
 * attached to the same file.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/index.ts';
import { runBase } from '../../store/root.ts';
import { execFileAsync } from '../../sys/exec-file.ts';
import { MNT_DETACH, sys } from '../../sys/index.ts';

const MS_PRIVATE = 1 << 18;

/** The user's rootless network dir, beside the run roots. */
export function rootlessNetDir(): string {
  return join(runBase(), 'rootless-net');
}

export function rootlessNetnsPath(containerId: string): string {
  return join(rootlessNetDir(), 'netns', `berth-${containerId.slice(0, 12)}`);
}

export function apiSocketPath(containerId: string): string {
  return join(rootlessNetDir(), 'api', `${containerId.slice(0, 12)}.sock`);
}

export function privateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

/** A new network namespace bound on the container's file under the user's dir, with `lo` up. */
export async function createRootlessNetns(containerId: string): Promise<string> {
  const path = rootlessNetnsPath(containerId);
  privateDir(join(rootlessNetDir(), 'netns'));
  try {
    if (existsSync(path)) await deleteRootlessNetns(path); // a crashed run's, whose helper setup stopped
    closeSync(openSync(path, constants.O_RDONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
    const native = sys();
    if (native?.netnsBind) {
      native.netnsBind(path);
      native.mountSync('', path, 'none', MS_PRIVATE, null);
    } else {
      await execFileAsync('unshare', [`--net=${path}`, 'true']);
      await execFileAsync('mount', ['--make-private', path]);
      await execFileAsync('nsenter', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up']);
    }
  } catch (e) {
    await deleteRootlessNetns(path).catch(() => undefined);
    const err = e as { stderr?: string; message?: string };
    throw new BerthError('RUNTIME', `create network namespace ${path}: ${(err.stderr || err.message || String(e)).trim()}`, { cause: e });
  }
  return path;
}

/** Idempotent: detach (it may not be mounted in this mount namespace) and unlink. */
export async function deleteRootlessNetns(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const native = sys();
  try {
    if (native) native.umount2Sync(path, MNT_DETACH);
    else await execFileAsync('umount', ['-l', path]);
  } catch {
    // not mounted here: the unlink decides
  }
  rmSync(path, { force: true });
}
