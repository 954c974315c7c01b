/** Runs the real CLI (bin/berth) against a private state root, as a user would. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BERTH = join(REPO, 'bin', 'berth');

export interface BerthResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function berthIn(root: string, args: readonly string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeout?: number } = {}): BerthResult {
  const r: SpawnSyncReturns<Buffer> = spawnSync(BERTH, ['--root', root, ...args], {
    input: opts.input,
    env: { ...process.env, ...opts.env },
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128 + 9, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A fresh state root under the OS temp dir, removed by `cleanup()`. */
export function tempRoot(prefix = 'berth-test-'): {
  root: string;
  run: (args: readonly string[], opts?: Parameters<typeof berthIn>[2]) => BerthResult;
  cleanup: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return {
    root,
    run: (args, opts) => berthIn(root, args, opts),
    cleanup: () => {
      spawnSync('sh', ['-c', `grep -oE " ${root}(/[^ ]*)? " /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Like berthIn, without blocking the event loop: for tests that serve HTTP in-process. */
export function berthAsync(root: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<BerthResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(BERTH, ['--root', root, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}
