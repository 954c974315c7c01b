/**
 * The user-mode network helper of a rootless container: slirp4netns or pasta, a process that
 * lives as long as the container and carries its traffic between the container's network
 * namespace and the host's. Found here, and stopped here by the pid its attachment records.
 *
 * slirp4netns is preferred. The container gets the same fixed addresses on every host
 * (10.0.2.100, gateway 10.0.2.2, DNS 10.0.2.3) instead of a copy of the host's own address,
 * so it can still reach a service on the host's address; its API socket adds port forwards
 * one by one, each bind failing on its own; and it behaves alike in every release the
 * distributions ship. pasta (faster, and Podman 5's default) serves when slirp4netns is
 * missing; Debian 12's release of it cannot open a namespace through /proc/PID/ns, so it is
 * always given a bind-mounted namespace file.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BerthError } from '../../errors/index.ts';

export type HelperTool = 'slirp4netns' | 'pasta';

const SEARCH = ['/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin', '/usr/local/sbin'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The usual dirs first, then PATH's absolute entries. */
function searchDirs(): string[] {
  return [...SEARCH, ...(process.env.PATH ?? '').split(delimiter).filter((d) => d.startsWith('/'))];
}

/** The helper to use: `prefer` when it is installed (tests pick one), else slirp4netns, else pasta. */
export function chooseHelper(prefer?: HelperTool, dirs: readonly string[] = searchDirs()): { tool: HelperTool; path: string } {
  const order: HelperTool[] = prefer === 'pasta' ? ['pasta', 'slirp4netns'] : ['slirp4netns', 'pasta'];
  for (const tool of order) {
    const path = dirs.map((d) => join(d, tool)).find(executable);
    if (path) return { tool, path };
  }
  throw new BerthError('UNAVAILABLE', 'rootless networking needs slirp4netns or pasta, and neither is installed', {
    hint: 'ask an admin to run `apt-get install slirp4netns` (or `apt-get install passt` for pasta), or use --network none or host',
  });
}

/**
 * Both helpers open /dev/net/tun inside the container's namespace, as the user: a machine
 * that keeps it root-only (0600, where Debian's udev makes it 0666) gives them no network.
 */
export function checkTunDevice(path = '/dev/net/tun'): void {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    throw new BerthError('UNAVAILABLE', `rootless networking needs ${path}, which this user may not open`, {
      hint: `ask an admin to run \`chmod 0666 ${path}\` (Debian's default mode for it), or use --network none or host`,
    });
  }
}

/** A pid berth may signal: a whole number above 1 (0 and -1 would reach a group, 1 is init). */
export function signallable(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 1;
}

/**
 * Whether `pid` is still the helper that was started for this container: its command line names
 * the tool and the container's namespace file (a pid reused by another program must never get
 * our signal), and it has not exited (a zombie waiting for its parent counts as gone).
 */
export function isHelper(pid: number, tool: HelperTool, netnsPath: string): boolean {
  if (!signallable(pid)) return false;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!(args[0] ?? '').endsWith(tool) || !args.includes(netnsPath)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone
  }
}

const STOP_WAIT_MS = 2000;

/**
 * Stops the helper (SIGTERM, then SIGKILL if it lingers) and waits until it is gone, so its
 * host ports are free again when teardown returns. Nothing is signalled unless `isHelper` says
 * the pid is still ours.
 */
export async function stopHelper(pid: number, tool: HelperTool, netnsPath: string): Promise<void> {
  if (!isHelper(pid, tool, netnsPath)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (isHelper(pid, tool, netnsPath)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 50));
      if (isHelper(pid, tool, netnsPath)) throw new Error(`${tool} (pid ${pid}) did not exit`);
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
