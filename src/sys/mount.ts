/**
 * Overlay mounts, detaches and file system syncs: mount(2), umount2(2) and syncfs(2) through
 * berth's addon, else the `mount`, `umount` and `sync` tools, with the same results.
 */
import { resolve } from 'node:path';
import { overlayNamespaceOptions } from './rootless.ts';
import { execFileAsync } from './exec-file.ts';
import { MNT_DETACH, sys } from './index.ts';

/** The kernel's limit on a mount's option string, less a little. */
const MAX_OPTIONS = 4000;

/** mount(2)'s MS_RDONLY flag. */
const MS_RDONLY = 1;

/** mount(2)'s MS_NOSUID | MS_NODEV | MS_NOEXEC. */
const MS_NOSUID_NODEV_NOEXEC = 2 | 4 | 8;

export interface OverlayMount {
  /** The directory the lowerdirs are named in. */
  readonly layersRoot: string;
  /**
   * The lowerdirs, top first: names in `layersRoot` or absolute paths. Read in the same tick
   * as the mount is made, so a caller that renames them between ticks stays consistent.
   */
  readonly lowerdirs: () => readonly string[];
  /** The other options: `upperdir=`, `workdir=`, `volatile`... */
  readonly options: readonly string[];
  readonly target: string;
  /** Mount it read-only (MS_RDONLY, `-o ro`): a view nothing may write through. */
  readonly readOnly?: boolean;
  /**
   * Awaited before a mount that cannot be made in the tick its lowerdirs are read (when the
   * mount tool is spawned): once it settles, no lowerdir may be renamed until the mount is made.
   */
  readonly beforeSpawn?: () => Promise<void>;
}

/**
 * Mounts an overlay; resolves to the lowerdirs it mounted. The system call is made in line
 * (it waits on no disk, and a trip through the thread pool costs more), with absolute
 * lowerdirs; when the addon is absent, or so many layers do not fit one option string, the
 * `mount` tool is spawned in `layersRoot` with relative names.
 */
export async function mountOverlay(m: OverlayMount): Promise<readonly string[]> {
  const native = sys();
  let lower = m.lowerdirs();
  if (native) {
    const absolute = [`lowerdir=${lower.map((l) => resolve(m.layersRoot, l)).join(':')}`, ...m.options, ...overlayNamespaceOptions()].join(',');
    if (absolute.length < MAX_OPTIONS) {
      native.mountSync('overlay', m.target, 'overlay', m.readOnly ? MS_RDONLY : 0, absolute);
      return lower;
    }
  }
  if (m.beforeSpawn) {
    await m.beforeSpawn();
    lower = m.lowerdirs();
  }
  await execFileAsync(
    'mount',
    [
      '-t',
      'overlay',
      'overlay',
      '-o',
      [...(m.readOnly ? ['ro'] : []), `lowerdir=${lower.join(':')}`, ...m.options, ...overlayNamespaceOptions()].join(','),
      m.target,
    ],
    { cwd: m.layersRoot },
  );
  return lower;
}

/** Mounts a tmpfs (nosuid, nodev, noexec) at `target` with `options` such as `size=` and `mode=`. */
export async function mountTmpfs(target: string, options: readonly string[]): Promise<void> {
  const native = sys();
  if (native) native.mountSync('shm', target, 'tmpfs', MS_NOSUID_NODEV_NOEXEC, options.join(','));
  else await execFileAsync('mount', ['-t', 'tmpfs', '-o', ['nosuid', 'nodev', 'noexec', ...options].join(','), 'shm', target]);
}

/**
 * Detaches a mount (MNT_DETACH, `umount -l`): it leaves the tree at once and goes when its
 * last user does. `syncsNothing` says the mount has nothing to write back (a volatile
 * overlay), so the call is made in line; otherwise it runs off the main thread, as the last
 * unmount of a mount that wrote data syncs it.
 */
export async function detachMount(target: string, opts: { syncsNothing?: boolean } = {}): Promise<void> {
  const native = sys();
  if (native && opts.syncsNothing) native.umount2Sync(target, MNT_DETACH);
  else if (native) await native.umount2(target, MNT_DETACH);
  else await execFileAsync('umount', ['-l', target]);
}

/** syncfs(2) of the file system that holds `path` (`sync -f`). */
export async function syncFileSystem(path: string): Promise<void> {
  const native = sys();
  if (native) await native.syncfs(path);
  else await execFileAsync('sync', ['-f', path]);
}
