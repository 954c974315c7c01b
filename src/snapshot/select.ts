/**
 * Which snapshot driver a state root uses. Chosen once, when the root is first opened, and
 * recorded in `snapshots/driver`, since layers and snapshots made by one driver mean nothing
 * to the other: `BERTH_SNAPSHOTTER=overlay|native` when set, otherwise overlay if a test
 * mount of overlayfs works on the root's own filesystem (it does not on overlayfs itself, nor
 * without the kernel module), otherwise native.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { settings } from '../config/index.ts';
import { randomHex } from '../sys/crypto.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import { isRootless, overlayNamespaceOptions } from '../sys/rootless.ts';
import { NativeSnapshotter } from './native.ts';
import { OverlaySnapshotter } from './overlay.ts';
import type { Snapshotter } from './types.ts';

const DRIVERS = ['overlay', 'native'] as const;
type Driver = (typeof DRIVERS)[number];

/**
 * Mounts a tiny overlay under `root` and takes it down again. The mount is `volatile` where
 * the kernel knows the option (5.10 and later): taking down an ordinary overlay syncs the
 * whole file system under it, which a first command would wait for when other work had
 * left data unwritten (a fresh root right after a big pull or build). Nothing in the probe
 * needs to reach the disk.
 */
export async function overlayWorks(root: string): Promise<boolean> {
  const probe = join(root, `probe-${randomHex(4)}`);
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(probe, d));
  const options = [`lowerdir=${lower},upperdir=${upper},workdir=${work}`, ...overlayNamespaceOptions()].join(',');
  try {
    for (const d of [lower!, upper!, work!, merged!]) await mkdir(d, { recursive: true });
    await execFileAsync('mount', ['-t', 'overlay', 'overlay', '-o', `${options},volatile`, merged!]).catch(() =>
      execFileAsync('mount', ['-t', 'overlay', 'overlay', '-o', options, merged!]),
    );
    await execFileAsync('umount', [merged!]);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Why the root's driver was chosen, written beside the choice when it is made (`berth info` shows it). */
const REASON_FILE = 'driver-reason';

/** The recorded reason for a snapshots dir's driver, or '' for a root made before reasons were kept. */
export function driverReason(root: string): string {
  try {
    return readFileSync(join(root, REASON_FILE), 'utf8').trim();
  } catch {
    return '';
  }
}

/** The driver recorded for a root, read in line: every command reads it. */
function readRecord(path: string): Driver | '' {
  try {
    return readFileSync(path, 'utf8').trim() as Driver;
  } catch {
    return '';
  }
}

export async function openSnapshotter(root: string, wanted: Driver | undefined = settings().snapshotter): Promise<Snapshotter> {
  const recordPath = join(root, 'driver');
  const recorded = readRecord(recordPath);
  if (wanted && recorded && wanted !== recorded) {
    throw new BerthError('FAILED_PRECONDITION', `this state root uses the ${recorded} snapshot driver, not ${wanted}`, {
      hint: 'unset BERTH_SNAPSHOTTER, or use another --root for the other driver',
    });
  }
  let driver: Driver = recorded || wanted || 'overlay';
  if (!recorded) {
    await mkdir(root, { recursive: true, mode: 0o700 }); // store/private-root.ts
    let reason = `BERTH_SNAPSHOTTER=${wanted}`;
    if (!wanted) {
      driver = (await overlayWorks(root)) ? 'overlay' : 'native';
      const where = isRootless() ? "in the user's namespace (userxattr)" : 'on this file system';
      reason = driver === 'overlay' ? `a test mount of kernel overlayfs worked ${where}` : `kernel overlayfs cannot be mounted ${where}: layers are copied`;
    }
    await writeFile(join(root, REASON_FILE), `${reason}\n`);
    await writeFile(recordPath, `${driver}\n`);
  }
  return driver === 'overlay' ? new OverlaySnapshotter(root).init() : new NativeSnapshotter(root).init();
}
