/**
 * An ordinary Linux user for rootless tests: made with `useradd` (CI runs as root), given
 * subordinate ids as an admin would, with a run dir of its own under /tmp (no systemd login
 * here sets XDG_RUNTIME_DIR), and berth run as it through setpriv with a clean environment.
 * `remove()` ends the user's processes (its namespace holder, monitors) by pid and deletes
 * the user with its home: call it in `after`, which runs on failure too.
 *
 * The user must be able to read berth itself: a clone under a dir others cannot enter
 * (/root) has bin/, dist/ and better-sqlite3 copied to a temp dir the user can read.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO, type BerthResult } from './berth.ts';

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** Its XDG_RUNTIME_DIR. */
  readonly runDir: string;
  /**
   * Runs `args` through bin/berth as the user: env is added to a clean one (HOME, USER, PATH,
   * XDG_RUNTIME_DIR). `node`: through Node directly, for a PATH without node on it.
   */
  berth(args: readonly string[], opts?: { env?: Record<string, string | undefined>; input?: string; timeout?: number; node?: boolean }): BerthResult;
  /** Starts berth as the user in the background (a server): stopped by remove() at the latest. */
  start(args: readonly string[]): ChildProcess;
  /** Runs a command as the user. */
  sh(script: string): BerthResult;
  remove(): void;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let copied: string | undefined;

/** Where the user runs berth from: the repo if every dir up to it lets others through, else a readable copy. */
function berthDirFor(): string {
  let dir = REPO;
  let traversable = true;
  while (dir !== '/') {
    const st = spawnSync('stat', ['-c', '%a', dir]).stdout.toString().trim();
    if ((Number.parseInt(st, 8) & 0o005) !== 0o005) traversable = false;
    dir = join(dir, '..');
  }
  if (traversable) return REPO;
  if (copied) return copied;
  copied = mkdtempSync('/tmp/berth-rootless-copy-');
  for (const part of ['bin', 'dist', 'package.json', 'node_modules/better-sqlite3', 'node_modules/bindings', 'node_modules/file-uri-to-path']) {
    try {
      cpSync(join(REPO, part), join(copied, part), { recursive: true });
    } catch {
      // not every dependency is there in every install
    }
  }
  execFileSync('chmod', ['-R', 'a+rX', copied]);
  chmodSync(copied, 0o755);
  return copied;
}

/** `subids`: the range given, as `usermod --add-subuids` takes it; null for none. */
export function makeUser(subids: string | null = '200000-265535'): TestUser {
  const name = `berthtest${randomBytes(3).toString('hex')}`;
  // -K: no automatic subordinate ids (login.defs), so the test alone decides them.
  execFileSync('useradd', ['-m', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
  if (subids) execFileSync('usermod', ['--add-subuids', subids, '--add-subgids', subids, name]);
  const uid = Number(execFileSync('id', ['-u', name]).toString());
  const gid = Number(execFileSync('id', ['-g', name]).toString());
  const home = `/home/${name}`;
  const runDir = mkdtempSync(`/tmp/${name}-run-`);
  chownSync(runDir, uid, gid);
  chmodSync(runDir, 0o700);
  const dir = berthDirFor();
  const setprivArgs = (argv: readonly string[], extra: Record<string, string | undefined> = {}): string[] => {
    const env: Record<string, string | undefined> = { HOME: home, USER: name, LOGNAME: name, PATH, XDG_RUNTIME_DIR: runDir, ...extra };
    const pairs = Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    return ['--reuid', String(uid), '--regid', String(gid), '--init-groups', 'env', '-i', ...pairs, ...argv];
  };
  const asUser = (argv: readonly string[], opts: { env?: Record<string, string | undefined>; input?: string; timeout?: number } = {}): BerthResult => {
    const r = spawnSync('setpriv', setprivArgs(argv, opts.env), {
      cwd: home,
      input: opts.input,
      timeout: opts.timeout ?? 120_000,
      maxBuffer: 256 << 20,
    });
    return { code: r.status ?? 137, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
  };
  return {
    name,
    uid,
    gid,
    home,
    runDir,
    berth: (args, opts) => asUser(opts?.node ? [process.execPath, '--', join(dir, 'bin', 'berth.cjs'), ...args] : [join(dir, 'bin', 'berth'), ...args], opts),
    start: (args) => spawn('setpriv', setprivArgs([join(dir, 'bin', 'berth'), ...args]), { cwd: home, stdio: 'ignore' }),
    sh: (script) => asUser(['sh', '-c', script]),
    remove: () => {
      for (let round = 0; round < 3; round++) {
        const pids = processesOf(uid);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        spawnSync('sleep', ['0.2']);
      }
      // Mounts the user's namespace made die with it; its files under the home go with userdel -r.
      spawnSync('userdel', ['-r', name]);
      spawnSync('sh', ['-c', `rm -rf ${home}`]);
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/** The pids of `uid`'s processes, read from /proc (never pid 0 or 1). */
function processesOf(uid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) <= 1) continue;
    try {
      const status = readFileSync(join('/proc', e, 'status'), 'utf8');
      const line = status.split('\n').find((l) => l.startsWith('Uid:'));
      if (line && Number(line.split(/\s+/)[1]) === uid) out.push(Number(e));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/** A dir under the user's home, made as the user. */
export function userDir(user: TestUser, name: string): string {
  const dir = join(user.home, name);
  mkdirSync(dir, { recursive: true });
  chownSync(dir, user.uid, user.gid);
  return dir;
}
