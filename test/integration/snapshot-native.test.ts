/** The native (copying) snapshot driver, and how a state root picks its driver. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const dirs: string[] = [];
const mounts: string[] = [];
after(() => {
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A state root with bb:1 imported, under the given driver (or auto-selected). */
function rootWith(driver: 'overlay' | 'native' | undefined, root = tempDir('berth-snap-')) {
  // A fixed SOURCE_DATE_EPOCH makes builds in two roots comparable byte for byte.
  const env: NodeJS.ProcessEnv = { ...process.env, SOURCE_DATE_EPOCH: '0', BERTH_SNAPSHOTTER: driver ?? '' };
  if (!driver) delete env.BERTH_SNAPSHOTTER;
  const run = (args: readonly string[]) => berthIn(root, args, { env });
  const r = run(['import', busyboxTar(), 'bb:1']);
  assert.equal(r.code, 0, r.stderr);
  return { root, run };
}

function context(dockerfile: string): string {
  const dir = tempDir('berth-snap-ctx-');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  writeFileSync(join(dir, 'f'), 'data\n');
  // Big enough to be a fill (layer/file-chunks.ts) when a COPY has one source, and copied
  // at once when it has two.
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(3 << 20, 'weights '));
  return dir;
}

const LISTING = [
  'sh',
  '-c',
  'find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -print | sort | while read p; do stat -c "%n %f %u:%g %s" "$p"; done',
];

describe('native driver', () => {
  const n = rootWith('native');

  it('runs containers on a copied rootfs and reports itself', () => {
    assert.equal(n.run(['info', '--format', '{{.Driver}}']).stdout, 'native\n');
    assert.equal(n.run(['run', '--rm', '--network', 'none', 'bb:1', 'echo', 'hi']).stdout, 'hi\n');
  });

  it("a container's writes are its own and go with it", () => {
    const id = n.run(['run', '-d', '--network', 'none', 'bb:1', 'sh', '-c', 'echo mine > /tmp/w']).stdout.trim();
    assert.equal(n.run(['wait', id]).stdout, '0\n');
    const copied = join(tempDir('berth-snap-cp-'), 'w');
    assert.equal(n.run(['cp', `${id}:/tmp/w`, copied]).code, 0);
    assert.equal(readFileSync(copied, 'utf8'), 'mine\n');
    const other = n.run(['run', '--rm', '--network', 'none', 'bb:1', 'cat', '/tmp/w']);
    assert.equal(other.code, 1, `another container does not see it: ${other.stderr}`);
    assert.equal(n.run(['rm', id]).code, 0);
    assert.equal(n.run(['system', 'check']).code, 0);
  });

  it('builds the same layers as the overlay driver', () => {
    const o = rootWith('overlay');
    const dir = context(
      'FROM bb:1\nRUN rm /etc/group && mkdir -p /opt/a/b && echo one > /opt/a/b/x && chmod 700 /root && ln -s /opt/a /link\nCOPY f big.bin /opt/\nCOPY big.bin /opt/again.bin\nRUN rm -rf /opt/a/b && echo two > /etc/passwd-new\nWORKDIR /work/dir\n',
    );
    const layers = (t: typeof o) => {
      const b = t.run(['build', '-q', '--network', 'none', '-t', 'same:1', dir]);
      assert.equal(b.code, 0, b.stderr);
      return t.run(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'same:1']).stdout;
    };
    assert.equal(layers(n), layers(o));
    // A rebuild is all cache hits under the native driver too.
    assert.match(n.run(['build', '--progress', 'plain', '--network', 'none', dir]).stderr, /#3 CACHED/);
  });

  it('a dir removed and made again gives the same tree (overlay records it as opaque, native as whiteouts)', () => {
    const o = rootWith('overlay');
    const dir = context('FROM bb:1\nRUN mkdir -p /opt/a/b && echo x > /opt/a/b/x\nRUN rm -rf /opt/a && mkdir /opt/a && echo y > /opt/a/y\n');
    const tree = (t: typeof o) => {
      assert.equal(t.run(['build', '-q', '--network', 'none', '-t', 'tree:1', dir]).code, 0);
      const r = t.run(['run', '--rm', '--network', 'none', 'tree:1', ...LISTING]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter((l) => !l.startsWith('/etc/hostname ') && !l.startsWith('/etc/hosts ') && !l.startsWith('/etc/resolv.conf '));
    };
    const native = tree(n);
    assert.deepEqual(native, tree(o));
    assert.ok(native.some((l) => l.startsWith('/opt/a/y ')));
    assert.ok(!native.some((l) => l.startsWith('/opt/a/b')));
  });
});

describe('driver selection', () => {
  it('a normal root gets overlay, recorded for later commands', () => {
    const t = rootWith(undefined);
    assert.equal(t.run(['info', '--format', '{{.Driver}}']).stdout, 'overlay\n');
    const wrong = berthIn(t.root, ['images'], { env: { ...process.env, BERTH_SNAPSHOTTER: 'native' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /uses the overlay snapshot driver, not native/);
  });

  it('a root on overlayfs, where an overlay cannot be mounted again, gets native and runs containers', () => {
    const base = tempDir('berth-snap-ovl-');
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(base, d));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`, `${base}/merged`]);
    mounts.push(`${base}/merged`);
    const t = rootWith(undefined, join(base, 'merged', 'root'));
    assert.equal(t.run(['info', '--format', '{{.Driver}}']).stdout, 'native\n');
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'bb:1', 'echo', 'on overlayfs']).stdout, 'on overlayfs\n');
    for (const id of t.run(['ps', '-aq']).stdout.split('\n').filter(Boolean)) t.run(['rm', '-f', id]);
  });

  it('an unknown driver is refused', () => {
    const r = berthIn(tempDir('berth-snap-bad-'), ['images'], { env: { ...process.env, BERTH_SNAPSHOTTER: 'zfs' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BERTH_SNAPSHOTTER="zfs" is not overlay or native/);
  });
});
