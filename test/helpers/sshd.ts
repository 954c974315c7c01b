/**
 * A git server over SSH for build tests: openssh's sshd on 127.0.0.1 (a temp host key, one
 * authorized client key, a repo with one commit), and a rootfs tar of the host's own git,
 * ssh and sh with the libraries they load, small enough to import in a moment and honest:
 * the same binaries a Debian image would bring.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './registry.ts';

export interface GitSshServer {
  readonly port: number;
  /** The client's private key file (unencrypted) and its text. */
  readonly keyFile: string;
  readonly keyText: string;
  /** ssh://root@127.0.0.1:PORT/…/repo */
  readonly repoUrl: string;
  /** The repo's HEAD commit. */
  readonly head: string;
  readonly dir: string;
  stop(): void;
}

const sh = (cmd: string, args: string[], cwd?: string) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();

async function listening(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`sshd did not listen: ${log()}`);
}

export async function startGitSshServer(): Promise<GitSshServer> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sshd-'));
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-test', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  sh('git', ['init', '-q'], repo);
  sh('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'first'], repo);
  const head = sh('git', ['rev-parse', 'HEAD'], repo);
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation dir
  let log = '';
  const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config'), '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await listening(port, proc, () => log);
  } catch (e) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    keyFile: join(dir, 'client_key'),
    keyText: readFileSync(join(dir, 'client_key'), 'utf8'),
    repoUrl: `ssh://root@127.0.0.1:${port}${repo}`,
    head,
    dir,
    stop: () => {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A rootfs tar with the host's git, ssh and sh (and their libraries), root and a uid-1000 user in /etc/passwd. */
export function gitSshRootfsTar(workDir: string): string {
  const out = join(workDir, 'gitssh-rootfs.tar');
  const root = mkdtempSync(join(workDir, 'gitssh-'));
  const bins = ['/usr/bin/git', '/usr/bin/ssh', '/bin/sh'];
  const libs = new Set<string>();
  for (const b of bins) for (const m of sh('ldd', [b]).matchAll(/(\/\S+\.so[^\s]*)/g)) libs.add(m[1]!);
  for (const f of [...bins, ...libs]) {
    mkdirSync(join(root, dirname(f)), { recursive: true });
    copyFileSync(f, join(root, f)); // follows links: each file lands where its name says
  }
  execFileSync('chmod', ['755', ...bins.map((b) => join(root, b))]);
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'root'), { mode: 0o700 });
  mkdirSync(join(root, 'tmp'));
  execFileSync('chmod', ['1777', join(root, 'tmp')]);
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\n');
  execFileSync('tar', ['-cf', out, '-C', root, '.']);
  rmSync(root, { recursive: true, force: true });
  return out;
}
