/**
 * Test images without Docker Hub: a busybox rootfs tarball made from Debian's
 * busybox-static, built once per machine and reused (it is deterministic).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, copyFileSync, symlinkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { tempRoot } from './berth.ts';

export const BUSYBOX_APPLETS = [
  'sh',
  'ls',
  'cat',
  'echo',
  'id',
  'true',
  'false',
  'sleep',
  'hostname',
  'wget',
  'httpd',
  'env',
  'pwd',
  'kill',
  'ps',
  'grep',
  'head',
  'tail',
  'mkdir',
  'touch',
  'rm',
  'mv',
  'cp',
  'chmod',
  'chown',
  'ln',
  'stat',
  'find',
  'wc',
  'sed',
  'awk',
  'dd',
  'date',
  'test',
  '[',
  'printf',
  'uname',
  'whoami',
  'tr',
  'sort',
  'xargs',
  'md5sum',
  'sha256sum',
  'tar',
  'gzip',
];

/** Writes a busybox rootfs into `dir` (bin/busybox + applet symlinks, /etc/passwd, /etc/group). */
export function makeBusyboxRootfs(dir: string, busybox = '/bin/busybox'): void {
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/user', 'var/www', 'proc', 'sys', 'dev']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(busybox, join(dir, 'bin', 'busybox'));
  execFileSync('chmod', ['755', join(dir, 'bin', 'busybox')]);
  for (const a of BUSYBOX_APPLETS) {
    const p = join(dir, 'bin', a);
    if (!existsSync(p)) symlinkSync('busybox', p);
  }
  writeFileSync(
    join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nuser:x:1000:\nstaff:x:50:user\nnogroup:x:65534:\n');
  execFileSync('chmod', ['1777', join(dir, 'tmp')]);
  execFileSync('chown', ['1000:1000', join(dir, 'home/user')]);
}

/**
 * Path of a busybox rootfs tarball, built on first use and cached under the OS temp dir. For
 * another architecture (`arm64`), the busybox comes from Debian's busybox-static of that
 * architecture (setup.sh adds the architecture to apt), downloaded once.
 */
export function busyboxTar(arch?: string): string {
  const cacheDir = join(tmpdir(), 'berth-test-cache');
  const tarPath = join(cacheDir, arch ? `busybox-rootfs-${arch}.tar` : 'busybox-rootfs.tar');
  if (existsSync(tarPath)) return tarPath;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'bb-'));
  try {
    const rootfs = join(work, 'rootfs');
    let binary = '/bin/busybox';
    if (arch) {
      execFileSync('apt-get', ['download', '-q', `busybox-static:${arch}`], { cwd: work, stdio: 'ignore' });
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'))!;
      execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'pkg')]);
      binary = join(work, 'pkg', 'bin', 'busybox');
    }
    makeBusyboxRootfs(rootfs, binary);
    const tmpTar = join(work, 'bb.tar');
    execFileSync('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', rootfs, '-cf', tmpTar, '.']);
    renameSync(tmpTar, tarPath);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return tarPath;
}

/**
 * A temp state root with the busybox image imported as bb:1 before the file's tests run; after
 * them, its containers are removed (so no mount or netns outlives the file) and the root goes.
 */
export function busyboxRoot(prefix: string): ReturnType<typeof tempRoot> {
  const t = tempRoot(prefix);
  before(() => {
    const r = t.run(['import', busyboxTar(), 'bb:1']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => {
    for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
    t.cleanup();
  });
  return t;
}
