/**
 * A private Docker engine for differential tests (ENVIRONMENT.md's recipe): its own data
 * root, exec root and socket under the temp dir, started on first use and left running for
 * the next test file (startup costs seconds). It never touches a system dockerd.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = join(tmpdir(), 'berth-test-dockerd');
export const DOCKER_HOST = `unix://${join(DIR, 'docker.sock')}`;
const CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

export function docker(args: readonly string[], opts: { input?: string | Buffer; timeout?: number } = {}) {
  const r = spawnSync(CLI, args, { env: { ...process.env, DOCKER_HOST }, input: opts.input, timeout: opts.timeout ?? 120_000, maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export async function startDockerd(): Promise<void> {
  if (docker(['info', '--format', '{{.ServerVersion}}']).code === 0) return;
  mkdirSync(DIR, { recursive: true });
  const log = openSync(join(DIR, 'dockerd.log'), 'a');
  const d = spawn('dockerd', ['--data-root', join(DIR, 'root'), '--exec-root', join(DIR, 'exec'), '-H', DOCKER_HOST, '--pidfile', join(DIR, 'pid'), '--bridge', 'none', '--iptables=false'], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  d.unref();
  for (let i = 0; i < 120; i++) {
    if (docker(['info', '--format', '{{.ServerVersion}}']).code === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dockerd did not start; see ${join(DIR, 'dockerd.log')}:\n${execFileSync('tail', ['-20', join(DIR, 'dockerd.log')]).toString()}`);
}
