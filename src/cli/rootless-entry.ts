/**
 * berth started by an ordinary user runs its verb inside the user's namespaces
 * (sys/userns.ts): this process checks what that needs, finds or starts the holder, and runs
 * the same command line again through `nsenter`, passing on its stdio, its signals and, at
 * the end, its exit. Inside, getuid() is 0, so what is the user's is worked out here, before
 * the re-exec, and handed in by environment: the state root (BERTH_ROOT) and the credentials
 * dir (DOCKER_CONFIG) and the config file (BERTH_CONFIG), never re-derived inside as root's
 * /var/lib/berth, /root/.docker and /etc/berth/config.json.
 * The run base follows XDG_RUNTIME_DIR, which is passed on as it is (store/root.ts).
 */
import { spawn } from 'node:child_process';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { configPath } from '../config/file.ts';
import { settingsEnv } from '../config/index.ts';
import { defaultStateRoot } from '../store/root.ts';
import { checkUsernsHost, onPath, usernsHolder } from '../sys/userns.ts';
import { exitCodeFor, formatError } from './exit.ts';

/** Commands that need no engine, answered without entering: help and the version. */
const OUTSIDE = new Set(['--help', '-h', '--version', '-v', 'help', 'completion']);

/** Whether this process must enter the user's namespaces before running `args`. */
export function mustEnter(args: readonly string[]): boolean {
  return process.getuid?.() !== 0 && args.length > 0 && !OUTSIDE.has(args[0]!);
}

function userName(uid: number): string {
  try {
    return userInfo().username;
  } catch {
    return String(uid); // no passwd entry: /etc/subuid may name the uid
  }
}

/** The signals passed on to the command inside; a terminal's ^C reaches both processes itself. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGINT'];

export async function runInUserNamespace(args: readonly string[], verb: string | undefined): Promise<void> {
  try {
    const env = { ...process.env, ...settingsEnv({ stateRoot: defaultStateRoot(), configFile: configPath() }) };
    env.DOCKER_CONFIG ??= join(homedir(), '.docker');
    const host = checkUsernsHost(env, userName(process.getuid!()));
    const pid = await usernsHolder(host);
    const nsenter = onPath('nsenter') ?? '/usr/bin/nsenter';
    const nsArgs = ['--user', '--mount', '--preserve-credentials', `--target=${pid}`, `--wd=${process.cwd()}`];
    const child = spawn(nsenter, [...nsArgs, '--', process.execPath, '--', process.argv[1]!, ...args], { stdio: 'inherit', env });
    for (const s of FORWARDED) {
      process.on(s, () => {
        if (s === 'SIGINT' && process.stdin.isTTY) return;
        if (child.pid) child.kill(s);
      });
    }
    child.on('error', (e) => {
      process.stderr.write(`berth: Error: rootless berth: cannot run ${nsenter}: ${e.message}\nhint: apt-get install util-linux\n`);
      process.exit(125);
    });
    child.on('exit', (code, signal) => {
      if (signal) {
        for (const s of FORWARDED) process.removeAllListeners(s);
        process.kill(process.pid, signal);
      }
      process.exit(code ?? 125);
    });
  } catch (e) {
    process.stderr.write(`berth: ${formatError(e)}\n`);
    process.exitCode = exitCodeFor(e, verb);
  }
}
