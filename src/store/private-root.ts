/**
 * The state root and the run root belong to their owner (root) alone: 0700. Under them are a
 * container's env (its bundle's config.json, the metadata DB), its output (the json-file log),
 * its mounted rootfs, and layer dirs with the image's setuid files and device nodes: through a
 * root other users can enter, they read the secrets, write into a running container, run a
 * setuid-root file or open a 0666 device node. The modes inside stay what the containers need
 * (a layer's own modes, a 0755 volume `_data`, a 0644 /etc/hosts that a `--user 1000` process
 * reads through its bind mount): the private top dir is what keeps them from the host's users,
 * as docker's 0710 /var/lib/docker does. The files with secrets are 0600 besides.
 *
 * A root made by an older berth (0711 or 0755, its files 0644) is tightened when it is next
 * opened: the loose top dir says so, and only that open walks the containers' files.
 */
import { chmodSync, chownSync, closeSync, constants as fsc, fchmodSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';

export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** What `privateDir` found: no dir (now made), a dir others could enter (now 0700), or a private one. */
export type DirState = 'made' | 'tightened' | 'private';

/**
 * Makes `path` (and missing parents) 0700, or takes group and other bits off an existing dir.
 * A dir of another user's is no private dir (its owner can chmod it back): root takes it, as
 * docker does its root, and another user is refused it (`/tmp/berth`, made by someone else).
 */
export function privateDir(path: string): DirState {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) {
    mkdirSync(path, { recursive: true, mode: PRIVATE_DIR });
    return 'made';
  }
  const uid = process.geteuid?.() ?? st.uid;
  if (st.uid !== uid) {
    if (uid !== 0) {
      throw new BerthError('FAILED_PRECONDITION', `${path} belongs to uid ${st.uid}, not to this user (uid ${uid})`, {
        hint: 'berth keeps its state in a dir of its own: use another --root, or set XDG_RUNTIME_DIR for the run root',
      });
    }
    chownSync(path, 0, 0);
  } else if ((st.mode & 0o067) === 0) return 'private'; // g+x alone: `berth serve` lets its socket's group through to it
  chmodSync(path, PRIVATE_DIR);
  return 'tightened';
}

/** The state root's own dirs and files, by path under it. */
const STATE_DIRS = [
  'content',
  'content/blobs',
  'content/blobs/sha256',
  'content/ingest',
  'snapshots',
  'snapshots/layers',
  'snapshots/layers/tmp',
  'snapshots/active',
  'containers',
  'volumes',
  'build-cache-mounts',
];
const STATE_FILES = ['metadata.db', 'metadata.db-wal', 'metadata.db-shm'];

/**
 * An older berth's state root, now that the root itself is 0700: its top dirs 0700, the DB
 * files 0600, and each container's dir, bundle config and log too. Layer dirs keep their
 * image's modes (a container sees them), unreachable now below `snapshots`.
 */
export function tightenStateRoot(root: string): void {
  for (const d of STATE_DIRS) chmodIfThere(join(root, d), PRIVATE_DIR);
  for (const f of STATE_FILES) chmodIfThere(join(root, f), PRIVATE_FILE);
  let ids: string[];
  try {
    ids = readdirSync(join(root, 'containers'));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  for (const id of ids) {
    const dir = join(root, 'containers', id);
    chmodIfThere(dir, PRIVATE_DIR);
    chmodIfThere(join(dir, 'bundle'), PRIVATE_DIR);
    chmodIfThere(join(dir, 'bundle', 'config.json'), PRIVATE_FILE);
    chmodIfThere(join(dir, `${id}-json.log`), PRIVATE_FILE);
  }
}

/** chmod through an fd opened without following a symlink (Linux has no lchmod): a link is left alone. */
function chmodIfThere(path: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ELOOP') return;
    throw e;
  }
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}
