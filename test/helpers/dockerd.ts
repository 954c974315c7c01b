/**
 * A private Docker engine for differential tests (ENVIRONMENT.md's recipe): its own data
 * root, exec root and socket under the temp dir, one per test file (each file runs in a
 * process of its own, so the dir is named by its pid). The file that starts it stops it by
 * its PID in its `after` hook (`stopDockerd`), and at the latest when the process exits, so
 * no engine outlives the tests. It never touches a system dockerd.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = join(tmpdir(), `berth-test-dockerd-${process.pid}`);
let pid: number | undefined;
export const DOCKER_HOST = `unix://${join(DIR, 'docker.sock')}`;
const CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
/** docker CLI 28 (/usr/bin/docker is docker.io's 20.10): a test file sets BERTH_TEST_DOCKER_CLI to it to compare with 28. */
export const DOCKER_CLI_28 = '/usr/local/bin/docker';

export function docker(args: readonly string[], opts: { input?: string | Buffer; timeout?: number } = {}) {
  const r = spawnSync(process.env.BERTH_TEST_DOCKER_CLI ?? CLI, args, {
    env: { ...process.env, DOCKER_HOST },
    input: opts.input,
    timeout: opts.timeout ?? 120_000,
    // The docker CLI forwards SIGTERM to the container and goes on waiting: only KILL ends it.
    killSignal: 'SIGKILL',
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export async function startDockerd(): Promise<void> {
  if (pid !== undefined) return;
  mkdirSync(DIR, { recursive: true });
  const log = openSync(join(DIR, 'dockerd.log'), 'a');
  const d = spawn(
    'dockerd',
    [
      '--data-root',
      join(DIR, 'root'),
      '--exec-root',
      join(DIR, 'exec'),
      '-H',
      DOCKER_HOST,
      '--pidfile',
      join(DIR, 'pid'),
      '--bridge',
      'none',
      '--iptables=false',
    ],
    {
      detached: true,
      stdio: ['ignore', log, log],
    },
  );
  d.unref();
  pid = d.pid;
  process.once('exit', stopDockerd);
  for (let i = 0; i < 120; i++) {
    if (docker(['info', '--format', '{{.ServerVersion}}']).code === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dockerd did not start; see ${join(DIR, 'dockerd.log')}:\n${execFileSync('tail', ['-20', join(DIR, 'dockerd.log')]).toString()}`);
}

/** The bridges of this dockerd's own networks (`br-<id12>`, as dockerd names them); none if it does not answer. */
function customNetworkBridges(): string[] {
  try {
    const r = docker(['network', 'ls', '-q', '--no-trunc', '--filter', 'type=custom'], { timeout: 10_000 });
    return r.code === 0
      ? r.stdout
          .split('\n')
          .filter(Boolean)
          .map((id) => `br-${id.slice(0, 12)}`)
      : [];
  } catch {
    return [];
  }
}

/**
 * Stops this process's dockerd by its PID (TERM, then KILL after 15 s) and removes its dirs and
 * the bridges of its networks. dockerd keeps a network's bridge when it stops, and its data root
 * goes with the test, so a bridge left behind would hold one of dockerd's default address pools
 * for good: after a few dozen test files a fresh dockerd could create no network at all.
 */
export function stopDockerd(): void {
  if (pid === undefined) return;
  const target = pid;
  pid = undefined;
  const bridges = customNetworkBridges();
  const alive = () => {
    try {
      process.kill(target, 0);
      return true;
    } catch {
      return false;
    }
  };
  const pause = new Int32Array(new SharedArrayBuffer(4));
  try {
    process.kill(target, 'SIGTERM');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 150 && alive(); i++) Atomics.wait(pause, 0, 0, 100);
  if (alive()) process.kill(target, 'SIGKILL');
  for (const bridge of bridges) spawnSync('ip', ['link', 'del', bridge]);
  spawnSync('sh', ['-c', `grep -oE " ${DIR}(/[^ ]*)? " /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
  rmSync(DIR, { recursive: true, force: true });
}
