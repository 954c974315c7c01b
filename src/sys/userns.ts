/**
 * The user namespace berth's verbs run in for an ordinary user, and the process that keeps
 * it: rootless Podman's "pause process". A container's overlay rootfs is mounted by one
 * command and used by the next (exec, cp, rm, its monitor), so every command of a user must
 * join the same user and mount namespaces. One holder per user keeps them alive: `sleep
 * infinity` started by `unshare --user --mount`, its ids mapped by newuidmap/newgidmap (uid 0
 * inside is the user, 1 to 65536 the user's subordinate range), its pid and start time in
 * `userns.pid` under the user's run base. A command joins it through nsenter, since Node, a
 * multi-threaded process, cannot setns() into a user namespace itself.
 *
 * A holder gone (a reboot, a kill) is replaced. A pid file is trusted only while the process
 * it names is the user's, started at the recorded time, runs the holder's command line and
 * sits in another user namespace: a reused pid never makes berth join someone else's.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, errnoCode } from '../errors/index.ts';
import { type IdRange, subordinateRange } from './subids.ts';

/** What the holder runs, as /proc/PID/cmdline shows it once unshare has exec'd it. */
const HOLDER_ARGV = ['sleep', 'infinity'];
const HOLDER_CMDLINE = `${HOLDER_ARGV.join('\0')}\0`;

/** A command on PATH, as execvp finds it, or undefined. */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

/** What entering needs, checked before anything is started: each missing part is an error naming its fix. */
export interface UsernsHost {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  readonly uids: IdRange;
  readonly gids: IdRange;
  readonly newuidmap: string;
  readonly newgidmap: string;
  /** $XDG_RUNTIME_DIR/berth: the holder's pid file, and the run roots. */
  readonly runBase: string;
}

export function checkUsernsHost(env: NodeJS.ProcessEnv, name: string): UsernsHost {
  const uid = process.getuid!();
  const gid = process.getgid!();
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (!runtimeDir) {
    throw new BerthError('FAILED_PRECONDITION', 'rootless berth: XDG_RUNTIME_DIR is not set', {
      hint: 'log in through a session that sets it (systemd-logind), or point it at a dir of your own: mkdir -m 0700 /tmp/run-$(id -u); export XDG_RUNTIME_DIR=/tmp/run-$(id -u)',
    });
  }
  const st = statSync(runtimeDir, { throwIfNoEntry: false });
  if (!st?.isDirectory() || st.uid !== uid) {
    throw new BerthError(
      'FAILED_PRECONDITION',
      `rootless berth: XDG_RUNTIME_DIR ${runtimeDir} is ${st ? (st.isDirectory() ? `owned by uid ${st.uid}, not by this user (uid ${uid})` : 'not a directory') : 'missing'}`,
      { hint: 'point it at a dir of your own: mkdir -m 0700 /tmp/run-$(id -u); export XDG_RUNTIME_DIR=/tmp/run-$(id -u)' },
    );
  }
  const newuidmap = onPath('newuidmap', env.PATH);
  const newgidmap = onPath('newgidmap', env.PATH);
  if (!newuidmap || !newgidmap) {
    throw new BerthError('UNAVAILABLE', `rootless berth: ${newuidmap ? 'newgidmap' : 'newuidmap'} is not installed (or not on PATH)`, {
      hint: 'an administrator installs it once: apt-get install uidmap',
    });
  }
  const uids = subordinateRange('uid', name, uid);
  const gids = subordinateRange('gid', name, uid); // shadow looks both files up by the user's name or uid
  return { uid, gid, name, uids, gids, newuidmap, newgidmap, runBase: join(runtimeDir, 'berth') };
}

/** Field 22 of /proc/PID/stat, the start time, which tells a pid's process from a later one's. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return fallback;
  }
}

/** Whether `pid`, started at `started`, is a holder of this user's (see the module's comment). */
export function isHolder(pid: number, started: string, uid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1) return false;
  try {
    if (statSync(`/proc/${pid}`).uid !== uid) return false;
    if (startTime(pid) !== started) return false;
    if (readOr(`/proc/${pid}/cmdline`, '') !== HOLDER_CMDLINE) return false;
    return readlinkSync(`/proc/${pid}/ns/user`) !== readlinkSync('/proc/self/ns/user');
  } catch {
    return false;
  }
}

function pidFile(runBase: string): string {
  return join(runBase, 'userns.pid');
}

/** The holder the pid file names, when it is still one. */
export function recordedHolder(runBase: string, uid: number): number | undefined {
  const [pid, started] = readOr(pidFile(runBase), '').trim().split(' ');
  const n = Number(pid);
  return started && isHolder(n, started, uid) ? n : undefined;
}

/** The user's holder: the recorded one, else a new one (made under a lock, so two commands make one). */
export async function usernsHolder(host: UsernsHost): Promise<number> {
  const found = recordedHolder(host.runBase, host.uid);
  if (found) return found;
  mkdirSync(host.runBase, { recursive: true, mode: 0o700 });
  const release = await lock(join(host.runBase, 'userns.lock'));
  try {
    return recordedHolder(host.runBase, host.uid) ?? (await startHolder(host));
  } finally {
    release();
  }
}

/** A lock dir; one left by a command that died is taken over after a while. */
async function lock(path: string): Promise<() => void> {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(path, { mode: 0o700 });
      return () => rmSync(path, { recursive: true, force: true });
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 10_000 || i > 3000) rmSync(path, { recursive: true, force: true });
    await sleep(5);
  }
}

async function startHolder(host: UsernsHost): Promise<number> {
  const child = spawn(onPath('unshare') ?? '/usr/bin/unshare', ['--user', '--mount', '--propagation', 'slave', '--', ...HOLDER_ARGV], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  const pid = child.pid;
  if (!pid) throw new BerthError('UNAVAILABLE', 'rootless berth: cannot start unshare (util-linux)', { hint: 'apt-get install util-linux' });
  const own = readlinkSync('/proc/self/ns/user');
  try {
    // The maps are written once unshare has made the namespace and exec'd the holder.
    for (let i = 0; ; i++) {
      if (readOr(`/proc/${pid}/cmdline`, '') === HOLDER_CMDLINE && readlinkSync(`/proc/${pid}/ns/user`) !== own) break;
      if (child.exitCode !== null || i > 2000) throw new BerthError('RUNTIME', 'rootless berth: unshare --user --mount did not make a user namespace');
      await sleep(2);
    }
    await mapIds(host.newuidmap, pid, host.uid, host.uids);
    await mapIds(host.newgidmap, pid, host.gid, host.gids);
  } catch (e) {
    process.kill(pid, 'SIGKILL');
    throw e;
  }
  const started = startTime(pid)!;
  const tmp = `${pidFile(host.runBase)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${pid} ${started}\n`, { mode: 0o600 });
  renameSync(tmp, pidFile(host.runBase));
  return pid;
}

/** `newuidmap PID 0 ID 1 1 START COUNT`: uid 0 inside is the user, 1 and up the subordinate range. */
function mapIds(tool: string, pid: number, id: number, range: IdRange): Promise<void> {
  const args = [String(pid), '0', String(id), '1', '1', String(range.start), String(range.count)];
  return new Promise((resolve, reject) => {
    const p = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new BerthError('RUNTIME', `rootless berth: ${tool} ${args.join(' ')} failed: ${err.trim() || `exit ${code}`}`, {
              hint: `${tool} must be setuid root (or have the setuid capability): reinstall the uidmap package`,
            }),
          ),
    );
  });
}
