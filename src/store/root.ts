/** Where berth keeps its state: `--root`, then BERTH_ROOT, then the per-user default. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { settings } from '../config/index.ts';
import { isRootless } from '../sys/rootless.ts';

export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env): string {
  const { stateRoot } = settings();
  if (stateRoot) return stateRoot;
  // Inside an ordinary user's namespace getuid() is 0 too: the user's paths, from the same env.
  if (!isRootless()) return '/var/lib/berth';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'berth');
}

/** The dir that holds the run roots (`/run/berth` as root): a non-default state root's is a subdir. */
export function runBase(env: NodeJS.ProcessEnv = process.env): string {
  return isRootless() ? join(env.XDG_RUNTIME_DIR || '/tmp', 'berth') : '/run/berth';
}

/** Runtime state (runc's state, netns, sockets) lives on tmpfs so a reboot clears it. */
export function defaultRunRoot(stateRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const { runRoot } = settings();
  if (runRoot) return runRoot;
  // A non-default state root gets its own run root, so parallel test roots never share runc state.
  const base = runBase(env);
  if (stateRoot === '/var/lib/berth') return base;
  const tag = Buffer.from(stateRoot).toString('base64url').slice(-24);
  return join(base, tag);
}
