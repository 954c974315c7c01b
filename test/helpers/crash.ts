/**
 * The crash harness: kill -9 a pull, a build, a push, a load or a `run -d` at a random
 * moment, then `system check` (no problem, leftovers allowed), `system prune`, `system check`
 * again (fully clean: no leftover), and the same command once more, which must succeed.
 * A pull spends most of its time starting and talking to the registry before its first
 * store write, so every other pull is killed mid-download instead: once its ingest file
 * holds a random share of the layer.
 * (berth has no `commit` verb yet: `load`, which also writes blobs and unpacks layers of an
 * image nothing has recorded yet, stands in for it.)
 * Used by test/integration/store-crash.test.ts (a bounded sample) and
 * scripts/crash-harness.sh (the full length).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, type BerthResult, type tempRoot } from './berth.ts';
import { busyboxTar } from './busybox.ts';
import type { TestRegistry } from './registry.ts';

export const CRASH_KINDS = ['pull', 'build', 'push', 'load', 'run'] as const;
export type CrashKind = (typeof CRASH_KINDS)[number];

export interface CrashRun {
  readonly kind: CrashKind;
  readonly delayMs: number;
  /** False when the command ended before the kill. */
  readonly killed: boolean;
  /** What the first check listed. */
  readonly leftovers: readonly string[];
  /** A pull killed once its download had begun (at a byte count, not a time). */
  readonly midDownload: boolean;
}

/** The bytes written so far to the fullest file in `dir` (allocated blocks: a ranged file may be sized up front). */
function mostIngested(dir: string): number {
  let most = 0;
  try {
    for (const n of readdirSync(dir)) {
      try {
        most = Math.max(most, statSync(join(dir, n)).blocks * 512);
      } catch {
        // committed (renamed away) meanwhile
      }
    }
  } catch {
    // no ingest dir yet
  }
  return most;
}

/** The layer of the pulled image: the random 16 MB of `prepare()`, which gzip cannot shrink. */
const BIG_LAYER_BYTES = 16_000_000;

/** A small seeded generator (mulberry32), so that a failing sequence can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Longest wait before the kill, per kind, until a retry has shown how long the command takes
 * on this machine (then the last retry's time): kills land anywhere in the command's run.
 */
const FIRST_MAX_DELAY: Record<CrashKind, number> = { pull: 700, build: 1000, push: 700, load: 500, run: 500 };

export class CrashHarness {
  private readonly big: string;
  private readonly archive: string;
  private readonly maxDelay = { ...FIRST_MAX_DELAY };
  private pulls = 0;

  constructor(
    private readonly t: ReturnType<typeof tempRoot>,
    private readonly reg: TestRegistry,
  ) {
    this.big = `${reg.host}/crash/big:1`;
    this.archive = join(t.root, 'ctx', 'big.tar');
  }

  private run(args: readonly string[], env?: NodeJS.ProcessEnv): BerthResult {
    return this.t.run(args, { env });
  }

  private ok(args: readonly string[], env?: NodeJS.ProcessEnv): BerthResult {
    const r = this.run(args, env);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r;
  }

  private context(name: string, dockerfile: string, files: Record<string, Buffer> = {}): string {
    const dir = join(this.t.root, 'ctx', name); // nothing in the store looks there
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    for (const [f, data] of Object.entries(files)) writeFileSync(join(dir, f), data);
    return dir;
  }

  /** The base image, and a 16 MB image in the registry to pull and in an archive to load: long enough that kills land in the download. */
  prepare(): void {
    mkdirSync(join(this.t.root, 'ctx'), { recursive: true });
    this.ok(['import', busyboxTar(), 'bb:1']);
    this.ok(['build', '-q', '-t', this.big, this.context('big', 'FROM bb:1\nRUN head -c 16000000 /dev/urandom > /big\n')]);
    this.ok(['push', this.big]);
    this.ok(['save', '-o', this.archive, this.big]);
  }

  /** What the kind's command needs before it runs, and its argv. */
  private setup(kind: CrashKind, i: number): { argv: string[]; env?: NodeJS.ProcessEnv } {
    switch (kind) {
      case 'pull':
        // Gone from the store, so that the pull downloads and unpacks it again.
        this.run(['rmi', this.big]);
        this.ok(['system', 'prune', '-f']);
        return { argv: ['pull', '-q', this.big], env: i % 2 ? { BERTH_RANGE_THRESHOLD: '1000000', BERTH_RANGE_PART: '500000' } : {} };
      case 'build':
        return {
          argv: [
            'build',
            '-q',
            '--no-cache',
            '-t',
            `cb:${i}`,
            this.context('build', 'FROM bb:1\nRUN head -c 2000000 /dev/urandom > /r\nCOPY data /data\nRUN ls -l /r /data > /ls\n', {
              data: Buffer.alloc(1 << 20, 7),
            }),
          ],
        };
      case 'push': {
        const name = `${this.reg.host}/crash/p${i}:1`;
        this.ok(['build', '-q', '--no-cache', '-t', name, this.context('push', 'FROM bb:1\nRUN head -c 2000000 /dev/urandom > /p\n')]);
        return { argv: ['push', '--compression-format', 'gzip', name] };
      }
      case 'load':
        this.run(['rmi', this.big]);
        this.ok(['system', 'prune', '-f']);
        return { argv: ['load', '-q', '-i', this.archive] };
      case 'run':
        return { argv: ['run', '-d', 'bb:1', 'sleep', '60'] };
    }
  }

  /** Removes what the run made, so that runs do not pile up. */
  private teardown(kind: CrashKind, i: number): void {
    for (const id of this.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) this.ok(['rm', '-f', id]);
    if (kind === 'build') this.ok(['rmi', `cb:${i}`]);
    if (kind === 'push') this.ok(['rmi', `${this.reg.host}/crash/p${i}:1`]);
    // No container is left, so no overlay of the root's may be mounted: prune unmounted any
    // a killed build step had.
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[1]?.startsWith(`${this.t.root}/`));
    assert.deepEqual(mounts, [], `${kind} #${i}: mounts left under the root`);
  }

  async once(kind: CrashKind, i: number, random: () => number): Promise<CrashRun> {
    const { argv, env } = this.setup(kind, i);
    const midDownload = kind === 'pull' && this.pulls++ % 2 === 0;
    // Mid-download: between 5% and 90% of the layer, so the poll sees it before the commit.
    const atBytes = Math.round((0.05 + 0.85 * random()) * BIG_LAYER_BYTES);
    const delayMs = Math.round(random() * this.maxDelay[kind]);
    const child = spawn(BERTH, ['--root', this.t.root, ...argv], { stdio: 'ignore', env: { ...process.env, ...env } });
    let done = false;
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => {
        done = true;
        resolve(code);
      }),
    );
    let killed = false;
    const kill = () => void (killed = child.kill('SIGKILL'));
    const ingest = join(this.t.root, 'content', 'ingest');
    const poll = () => {
      if (done) return;
      if (mostIngested(ingest) >= atBytes) kill();
      else setTimeout(poll, 5);
    };
    const timer = midDownload ? setTimeout(poll, 0) : setTimeout(kill, delayMs);
    const code = await exited;
    clearTimeout(timer);
    if (!killed) assert.equal(code, 0, `berth ${argv.join(' ')} failed without a kill`);

    const what = midDownload ? `${kind} #${i} killed at ${atBytes} bytes downloaded` : `${kind} #${i} killed after ${delayMs} ms`;
    const first = this.run(['system', 'check']);
    assert.equal(first.code, 0, `${what}: system check\n${first.stdout}${first.stderr}`);
    assert.doesNotMatch(first.stdout, /^problem:/m, what);
    const leftovers = first.stdout.split('\n').filter((l) => l.startsWith('leftover:'));
    const prune = this.run(['system', 'prune', '-f']);
    assert.equal(prune.code, 0, `${what}: system prune\n${prune.stderr}`);
    assert.doesNotMatch(prune.stderr, /WARNING/, `${what}: system prune\n${prune.stderr}`);
    const second = this.run(['system', 'check']);
    assert.equal(second.code, 0, `${what}: system check after prune\n${second.stdout}${second.stderr}`);
    assert.doesNotMatch(second.stdout, /^(leftover|problem):/m, `${what}: after prune\n${second.stdout}`);
    const retryStart = Date.now();
    const retry = this.run(argv, env);
    assert.equal(retry.code, 0, `${what}: the retry failed: ${retry.stderr}`);
    this.maxDelay[kind] = Date.now() - retryStart;
    this.teardown(kind, i);
    return { kind, delayMs, killed: killed && code === null, leftovers, midDownload };
  }
}
