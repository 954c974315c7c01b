/**
 * berth's addon (native/berth_sys.c through src/sys): the system calls must do what the
 * tools they replace do. The addon is built by `npm run build` wherever a C compiler and
 * Node's headers exist, as on CI, so these tests require it rather than skip. The same
 * upperdir must hash to the same diffID through the addon and through getfattr, and a
 * layer applied through either must give the same tree.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { hashingStream, writeLayer } from '../../src/layer/index.ts';
import { MNT_DETACH, sys } from '../../src/sys/index.ts';
import { spawnChild } from '../../src/sys/spawn.ts';

const sandbox = mkdtempSync(join(tmpdir(), 'berth-sys-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));

function native() {
  const s = sys();
  assert.ok(s, 'dist/berth_sys.node is built and loads (npm run build compiles native/berth_sys.c)');
  return s;
}

async function diffIdOf(dir: string): Promise<string> {
  const h = hashingStream();
  await pipeline(writeLayer(dir, { mode: 'overlay-upper' }), h.stream, new Writable({ write: (_c, _e, cb) => cb() }));
  return h.digest();
}

/** The diffID of `dir` computed in a process that has the addon switched off. */
function diffIdWithoutAddon(dir: string): string {
  const script = `import('./src/layer/index.ts').then(async ({ hashingStream, writeLayer }) => {
    const { pipeline } = await import('node:stream/promises');
    const { Writable } = await import('node:stream');
    const h = hashingStream();
    await pipeline(writeLayer(${JSON.stringify(dir)}, { mode: 'overlay-upper' }), h.stream, new Writable({ write: (_c, _e, cb) => cb() }));
    console.log(h.digest());
  })`;
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, BERTH_NO_NATIVE: '1' }, encoding: 'utf8' }).trim();
}

describe('system calls through the addon', () => {
  it('mounts an overlay and detaches it', async () => {
    const s = native();
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(sandbox, 'ovl', d));
    for (const d of [lower!, upper!, work!, merged!]) mkdirSync(d, { recursive: true });
    writeFileSync(join(lower!, 'from-lower'), 'lower\n');
    await s.mount('overlay', merged!, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
    assert.equal(readFileSync(join(merged!, 'from-lower'), 'utf8'), 'lower\n');
    writeFileSync(join(merged!, 'written'), 'upper\n');
    await s.umount2(merged!, MNT_DETACH);
    assert.equal(readFileSync(join(upper!, 'written'), 'utf8'), 'upper\n', 'the write landed in the upperdir');
    assert.throws(() => lstatSync(join(merged!, 'from-lower')), /ENOENT/, 'the merged view is gone');
  });

  it('mounts and detaches in line too', () => {
    const s = native();
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(sandbox, 'ovl-now', d));
    for (const d of [lower!, upper!, work!, merged!]) mkdirSync(d, { recursive: true });
    writeFileSync(join(lower!, 'from-lower'), 'lower\n');
    assert.equal(s.mountSync('overlay', merged!, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work},volatile`), undefined);
    assert.equal(readFileSync(join(merged!, 'from-lower'), 'utf8'), 'lower\n');
    writeFileSync(join(merged!, 'written'), 'upper\n');
    s.umount2Sync(merged!, MNT_DETACH);
    assert.equal(readFileSync(join(upper!, 'written'), 'utf8'), 'upper\n');
    assert.throws(() => lstatSync(join(merged!, 'from-lower')), /ENOENT/);
    assert.throws(
      () => s.umount2Sync(merged!, MNT_DETACH),
      (e: NodeJS.ErrnoException) => e.code === 'EINVAL' && /umount2/.test(e.message),
      'no longer a mount point',
    );
    assert.throws(
      () => s.mountSync('overlay', join(sandbox, 'missing-target'), 'overlay', 0, 'lowerdir=/nonexistent'),
      (e: NodeJS.ErrnoException) => typeof e.code === 'string' && e.code.startsWith('E'),
    );
  });

  it('syncs the file system holding a path, off the main thread', async () => {
    const s = native();
    writeFileSync(join(sandbox, 'to-sync'), 'data\n');
    const synced = s.syncfs(sandbox);
    assert.ok(synced instanceof Promise);
    await synced;
    await assert.rejects(s.syncfs(join(sandbox, 'no-such-dir')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && /syncfs/.test(e.message));
  });

  it('reports errors with the errno code, as Node does', async () => {
    const s = native();
    await assert.rejects(
      s.umount2(join(sandbox, 'not-a-mount-point-at-all'), MNT_DETACH),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT' || e.code === 'EINVAL',
    );
    await assert.rejects(
      s.mount('overlay', join(sandbox, 'missing-target'), 'overlay', 0, 'lowerdir=/nonexistent'),
      (e: NodeJS.ErrnoException) => typeof e.code === 'string' && e.code.startsWith('E'),
    );
    assert.throws(
      () => s.lxattrs(join(sandbox, 'missing')),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && /llistxattr/.test(e.message),
    );
    assert.throws(() => s.lxattrs('a\0b'), TypeError, 'a NUL in a path is refused, not cut short');
  });

  it('reads and writes xattrs without following a symlink', () => {
    const s = native();
    const file = join(sandbox, 'x-file');
    writeFileSync(file, 'x');
    s.lsetxattr(file, 'trusted.berth.test', Buffer.from('value'));
    assert.deepEqual(
      s.lxattrs(file).filter(([n]) => n === 'trusted.berth.test'),
      [['trusted.berth.test', Buffer.from('value')]],
    );
    const link = join(sandbox, 'x-link');
    symlinkSync(file, link);
    assert.deepEqual(
      s.lxattrs(link).filter(([n]) => n === 'trusted.berth.test'),
      [],
      'the link, not its target',
    );
  });

  it('makes whiteouts and fifos', () => {
    const s = native();
    const wh = join(sandbox, 'wh');
    s.mknod(wh, constants.S_IFCHR, 0, 0);
    const st = lstatSync(wh);
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, 0);
    s.mknod(join(sandbox, 'fifo'), constants.S_IFIFO | 0o600, 0, 0);
    assert.ok(lstatSync(join(sandbox, 'fifo')).isFIFO());
    assert.throws(
      () => s.mknod(wh, constants.S_IFCHR, 0, 0),
      (e: NodeJS.ErrnoException) => e.code === 'EEXIST',
    );
  });
});

describe('a child started by posix_spawn', () => {
  const collect = async (r: import('node:stream').Readable) => {
    let out = '';
    for await (const c of r) out += String(c);
    return out;
  };

  it('gives its output, its exit code and the env it was given', async () => {
    native();
    const c = spawnChild('/bin/sh', ['-c', 'echo "out $BERTH_T"; echo err >&2; read x; echo "stdin: [$x]"; exit 3'], {
      env: { PATH: '/usr/bin:/bin', BERTH_T: 'v' },
    });
    const [out, err, exit] = await Promise.all([collect(c.stdout!), collect(c.stderr!), c.exited]);
    assert.equal(out, 'out v\nstdin: []\n', 'stdin is /dev/null');
    assert.equal(err, 'err\n');
    assert.deepEqual(exit, { code: 3, signal: null });
  });

  it('reports the signal that killed it, with SIGPIPE back at its default', async () => {
    native();
    const killed = spawnChild('/bin/sh', ['-c', 'kill -TERM $$']);
    assert.deepEqual(await killed.exited, { code: null, signal: 'SIGTERM' });
    // Node ignores SIGPIPE; a child that writes to a closed pipe must die of it, as under a shell.
    const piped = spawnChild('/bin/sh', ['-c', 'sleep 0.2; echo x']);
    piped.stdout!.destroy();
    assert.deepEqual(await piped.exited, { code: null, signal: 'SIGPIPE' });
  });

  it('fails at once for a program that does not exist', async () => {
    native();
    await assert.rejects(spawnChild('/nonexistent/berth-tool', []).exited, (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  it("passes a pipe as stdin, and this process's own fds when asked", async () => {
    native();
    const c = spawnChild('/bin/sh', ['-c', 'read x; echo "got [$x]"; echo to-devnull >&2'], { stdio: ['pipe', 'pipe', 'ignore'] });
    assert.equal(c.stderr, null);
    c.stdin!.end('typed\n');
    const [out, exit] = await Promise.all([collect(c.stdout!), c.exited]);
    assert.equal(out, 'got [typed]\n');
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});

describe('an upperdir hashes the same through the addon and through getfattr', () => {
  it('keeps opaque dirs, whiteouts and file capabilities', async () => {
    const s = native();
    const upper = join(sandbox, 'upper');
    mkdirSync(join(upper, 'opaque', 'inner'), { recursive: true });
    s.lsetxattr(join(upper, 'opaque'), 'trusted.overlay.opaque', Buffer.from('y'));
    writeFileSync(join(upper, 'opaque', 'inner', 'f'), 'kept\n');
    s.mknod(join(upper, 'deleted'), constants.S_IFCHR, 0, 0);
    writeFileSync(join(upper, 'ping'), 'binary\n');
    // cap_net_raw+ep, as `setcap` writes it (vfs_cap_data revision 2, little-endian).
    const cap = Buffer.alloc(20);
    cap.writeUInt32LE(0x02000001, 0);
    cap.writeUInt32LE(1 << 13, 4);
    s.lsetxattr(join(upper, 'ping'), 'security.capability', cap);
    symlinkSync('ping', join(upper, 'link'));
    const withAddon = await diffIdOf(upper);
    assert.equal(diffIdWithoutAddon(upper), withAddon);
    // And the opaque mark is in the layer: without it the digest differs.
    execFileSync('setfattr', ['-x', 'trusted.overlay.opaque', join(upper, 'opaque')]);
    assert.notEqual(await diffIdOf(upper), withAddon);
  });

  it('refuses an upperdir with a redirected dir, as before', async () => {
    const s = native();
    const upper = join(sandbox, 'redirect');
    mkdirSync(join(upper, 'moved'), { recursive: true });
    s.lsetxattr(join(upper, 'moved'), 'trusted.overlay.redirect', Buffer.from('/old'));
    await assert.rejects(diffIdOf(upper), /redirect_dir or metacopy/);
  });
});
