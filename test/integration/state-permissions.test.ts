/**
 * The state root and the run root are root's alone (issue 18, item 3). An image whose layer has
 * a setuid-root busybox and a 1,3 char device (a /dev/null) is imported, a container runs with
 * `-e SECRET=...` and logs the secret; then, as nobody (setpriv --reuid 65534), none of it can
 * be listed, read, written or run: the state root, the DB and its WAL, the log, the bundle's
 * config.json, the layer dir's setuid file and device node, the container's merged rootfs, the
 * run root. The modes are docker-like (dirs 0700, secrets 0600), the container itself still
 * reads what it must as a non-root user (under a caller's umask 077 too), and a root left
 * loose by an older berth is tightened by the next command.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultRunRoot } from '../../src/store/root.ts';
import { BERTH, berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;

/**
 * Runs argv as nobody, with no groups: what any local user could do. Through `sh`: setpriv's
 * own execve still has root's capabilities (it keeps them until that exec), so it would run a
 * program from a dir nobody cannot search; sh's exec of argv is nobody's.
 */
function asNobody(argv: readonly string[]) {
  const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--', 'sh', '-c', '"$@"', 'sh', ...argv], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const mode = (path: string) => (lstatSync(path).mode & 0o7777).toString(8);

describe('permissions of the state root and the run root', { skip }, () => {
  // The root's parent is open to all, as /var/lib is: only berth's own modes stand in the way.
  const parent = mkdtempSync(join(tmpdir(), 'berth-perms-'));
  const root = join(parent, 'state');
  const runRoot = defaultRunRoot(root);
  const run = (args: readonly string[]) => berthIn(root, args);
  const secret = 'S3CR3T-4f1d2';
  let id = '';
  let layer = '';

  before(() => {
    chmodSync(parent, 0o755);
    // The busybox image plus a setuid-root busybox and a char device 1,3 with mode 0666.
    const rootfs = join(parent, 'rootfs');
    mkdirSync(rootfs);
    execFileSync('tar', ['-C', rootfs, '-xf', busyboxTar()]);
    execFileSync('cp', [join(rootfs, 'bin', 'busybox'), join(rootfs, 'bin', 'suid')]);
    chmodSync(join(rootfs, 'bin', 'suid'), 0o4755);
    execFileSync('mknod', ['-m', '666', join(rootfs, 'null1'), 'c', '1', '3']);
    const tar = join(parent, 'img.tar');
    execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.']);
    rmSync(rootfs, { recursive: true });
    assert.equal(run(['import', tar, 'evil:1']).code, 0);
    assert.equal(run(['volume', 'create', 'v1']).code, 0);
    const r = run(['run', '-d', '-e', `SECRET=${secret}`, '-v', 'v1:/data', 'evil:1', 'sh', '-c', 'echo "out-$SECRET"; exec sleep 60']);
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
    for (let i = 0; i < 50 && !run(['logs', id]).stdout.includes(secret); i++) execFileSync('sleep', ['0.1']);
    const layers = join(root, 'snapshots', 'layers');
    layer = join(layers, readdirSync(layers).find((d) => /^[0-9a-f]{64}$/.test(d))!);
  });

  after(() => {
    if (id) run(['rm', '-f', id]);
    spawnSync('sh', ['-c', `grep -oE " ${root}(/[^ ]*)? " /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(parent, { recursive: true, force: true });
    rmSync(runRoot, { recursive: true, force: true });
  });

  it('the test is meaningful: nobody is nobody, the layer holds a setuid-root file and a device, the log the secret', () => {
    assert.equal(asNobody(['id', '-u']).out.trim(), '65534');
    assert.equal(statSync(join(layer, 'bin', 'suid')).mode & 0o4000, 0o4000);
    assert.equal(statSync(join(layer, 'bin', 'suid')).uid, 0);
    const dev = lstatSync(join(layer, 'null1'));
    assert.ok(dev.isCharacterDevice() && dev.rdev === (1 << 8) + 3, 'a 1,3 char device');
    assert.equal(mode(join(layer, 'null1')), '666', 'the layer keeps the image modes');
    assert.match(run(['logs', id]).stdout, new RegExp(`out-${secret}`));
  });

  it('nobody cannot list, read, write or run anything under the roots', () => {
    const container = join(root, 'containers', id);
    const merged = join(root, 'snapshots', 'active', id, 'merged');
    assert.ok(statSync(join(merged, 'bin', 'busybox')).isFile(), 'the container is mounted');
    const tries: [string, string[]][] = [
      ['list the state root', ['ls', root]],
      ['read the DB', ['cat', join(root, 'metadata.db')]],
      ['read the WAL', ['cat', join(root, 'metadata.db-wal')]],
      ['read the log', ['cat', join(container, `${id}-json.log`)]],
      ['read the bundle', ['cat', join(container, 'bundle', 'config.json')]],
      ['reach the setuid file', ['stat', join(layer, 'bin', 'suid')]],
      ['run the setuid file', [join(layer, 'bin', 'suid'), 'id', '-u']],
      ['open the device node', ['head', '-c', '1', join(layer, 'null1')]],
      ['write into the running container', ['touch', join(merged, 'tmp', 'planted')]],
      ['write into a layer', ['touch', join(layer, 'tmp', 'planted')]],
      ['read a volume', ['ls', join(root, 'volumes', 'v1', '_data')]],
      ['list the run root', ['ls', runRoot]],
      ['list the machine run dir', ['ls', '/run/berth']],
    ];
    for (const [what, argv] of tries) {
      const r = asNobody(argv);
      assert.notEqual(r.code, 0, `nobody could ${what}: ${r.out}`);
      assert.match(r.out, /Permission denied/, `${what}: ${r.out}`);
    }
  });

  it('dirs are 0700 and the files with secrets 0600', () => {
    for (const d of [
      '',
      'content',
      'content/blobs',
      'content/ingest',
      'snapshots',
      'snapshots/layers',
      'snapshots/active',
      'containers',
      `containers/${id}`,
      'volumes',
    ]) {
      assert.equal(mode(join(root, d)), '700', `${d || 'the state root'}`);
    }
    for (const f of ['metadata.db', 'metadata.db-wal', 'metadata.db-shm', `containers/${id}/${id}-json.log`, `containers/${id}/bundle/config.json`]) {
      assert.equal(mode(join(root, f)), '600', f);
    }
    assert.equal(mode(runRoot), '700', 'the run root');
    assert.equal(mode('/run/berth'), '700', '/run/berth');
    assert.equal(mode(join(root, 'volumes', 'v1', '_data')), '755', "a volume's _data stays docker's 0755");
    assert.equal(mode(join(root, 'snapshots', 'layers', 'empty')), '755', 'the empty lowerdir is a container `/`');
  });

  it('inside, a non-root user still reads its rootfs, /etc files and volume', () => {
    const r = run([
      'run',
      '--rm',
      '--user',
      '1000',
      '-v',
      'v1:/data',
      'evil:1',
      'sh',
      '-c',
      'cat /etc/hosts /etc/resolv.conf /etc/hostname >/dev/null && ls / /data >/dev/null && stat -c %a / /data && id -u',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '755\n755\n1000\n');
  });

  it("a caller's umask 077 changes no mode a container sees; a file saved for the caller keeps it", () => {
    const withUmask = (umask: string, args: readonly string[]) =>
      spawnSync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, BERTH, '--root', root, ...args], { encoding: 'utf8', timeout: 60_000 });
    const r = withUmask('077', [
      'run',
      '--rm',
      '--user',
      '1000',
      '-w',
      '/new/wd',
      '-v',
      'v1:/data',
      'evil:1',
      'sh',
      '-c',
      'cat /etc/hosts /etc/resolv.conf >/dev/null && stat -c %a / /new /new/wd /etc/hosts /data',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '755\n755\n755\n644\n755\n');
    for (const [umask, want] of [
      ['077', '600'],
      ['022', '644'],
    ] as const) {
      const out = join(parent, `saved-${umask}.tar`);
      assert.equal(withUmask(umask, ['save', '-o', out, 'evil:1']).status, 0);
      assert.equal(mode(out), want, `save -o under umask ${umask}`);
    }
  });

  it('a root left open by an older berth is tightened by the next command', () => {
    const container = join(root, 'containers', id);
    for (const d of ['', 'content', 'snapshots', 'snapshots/layers', 'containers', `containers/${id}`, `containers/${id}/bundle`, 'volumes'])
      chmodSync(join(root, d), 0o755);
    for (const f of ['metadata.db', 'metadata.db-wal', 'metadata.db-shm', `containers/${id}/${id}-json.log`, `containers/${id}/bundle/config.json`])
      chmodSync(join(root, f), 0o644);
    chmodSync(runRoot, 0o711);
    assert.equal(asNobody(['cat', join(container, `${id}-json.log`)]).code, 0, 'the loose root is readable: the test is meaningful');
    const r = run(['ps', '-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), id.slice(0, 12));
    for (const d of ['', 'content', 'snapshots', 'snapshots/layers', 'containers', `containers/${id}`, `containers/${id}/bundle`, 'volumes'])
      assert.equal(mode(join(root, d)), '700', d || 'root');
    for (const f of ['metadata.db', 'metadata.db-wal', 'metadata.db-shm', `containers/${id}/${id}-json.log`, `containers/${id}/bundle/config.json`])
      assert.equal(mode(join(root, f)), '600', f);
    assert.equal(mode(runRoot), '700');
    assert.match(asNobody(['cat', join(container, `${id}-json.log`)]).out, /Permission denied/);
    assert.match(run(['logs', id]).stdout, new RegExp(`out-${secret}`), 'the container is untouched');
  });
});
