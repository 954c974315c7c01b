/** `berth cp` keeps docker's rules while it works from in-root fds: one table, both ways. */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-cp-');
const host = mkdtempSync(join(tmpdir(), 'berth-cp-host-'));
after(() => rmSync(host, { recursive: true, force: true }));

before(() => {
  mkdirSync(join(host, 'd', 'sub'), { recursive: true });
  writeFileSync(join(host, 'd', 'sub', 'a'), 'A\n');
  writeFileSync(join(host, 'f'), 'F\n');
  const setup = 'mkdir -p /x/y && echo y > /x/y/f && ln -s /x/y /x/ly && ln -s /etc/passwd /x/lp && echo old > /x/file';
  assert.equal(t.run(['run', '--name', 'box', 'bb:1', 'sh', '-c', setup]).code, 0);
});

describe('cp into a container', () => {
  const cases: Array<{ name: string; src: string; dest: string; code: number; stderr?: RegExp }> = [
    { name: 'a file into an existing dir keeps its name', src: 'f', dest: '/tmp/', code: 0 },
    { name: 'a file onto a file replaces it', src: 'f', dest: '/x/file', code: 0 },
    { name: 'a file to a new name', src: 'f', dest: '/tmp/g', code: 0 },
    { name: 'a file through a link to a dir lands in its target', src: 'f', dest: '/x/ly/', code: 0 },
    { name: 'a dir into an existing dir goes under its name', src: 'd', dest: '/tmp', code: 0 },
    { name: 'SRC/. copies the contents', src: 'd/.', dest: '/tmp/dd', code: 0 },
    { name: 'a dir onto a file is refused', src: 'd', dest: '/x/file', code: 1, stderr: /cannot copy a directory to a file/ },
    { name: 'a missing parent is an error', src: 'f', dest: '/nonexist/g', code: 1, stderr: /no such directory in the container: \/nonexist$/m },
    {
      name: 'a missing dir with a trailing slash is an error',
      src: 'f',
      dest: '/nonexist/',
      code: 1,
      stderr: /no such directory in the container: \/nonexist$/m,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = t.run(['cp', join(host, c.src), `box:${c.dest}`]);
      assert.equal(r.code, c.code, r.stderr);
      if (c.stderr) assert.match(r.stderr, c.stderr);
    });
  }
  it('the copies are where docker puts them', () => {
    const r = t.run(['cp', 'box:/', join(host, 'all')]);
    assert.equal(r.code, 0, r.stderr);
    const read = (p: string) => readFileSync(join(host, 'all', p), 'utf8');
    assert.equal(read('tmp/f'), 'F\n');
    assert.equal(read('x/file'), 'F\n');
    assert.equal(read('tmp/g'), 'F\n');
    assert.equal(read('x/y/f'), 'F\n');
    assert.equal(read('tmp/d/sub/a'), 'A\n');
    assert.equal(read('tmp/dd/sub/a'), 'A\n');
    assert.equal(readlinkSync(join(host, 'all', 'x', 'ly')), '/x/y');
  });
});

describe('cp out of a container', () => {
  it('a link is copied as a link; -L copies its target from inside the container', () => {
    assert.equal(t.run(['cp', 'box:/x/lp', join(host, 'lp')]).code, 0);
    assert.equal(readlinkSync(join(host, 'lp')), '/etc/passwd');
    assert.equal(t.run(['cp', '-L', 'box:/x/lp', join(host, 'lp2')]).code, 0);
    assert.match(readFileSync(join(host, 'lp2'), 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh\n/);
  });
  it('a dir into an existing dir goes under its name; SRC/. copies the contents', () => {
    mkdirSync(join(host, 'o1'));
    assert.equal(t.run(['cp', 'box:/x/y', join(host, 'o1')]).code, 0);
    assert.equal(readFileSync(join(host, 'o1', 'y', 'f'), 'utf8'), 'F\n');
    assert.equal(t.run(['cp', 'box:/x/ly/.', join(host, 'o2')]).code, 0);
    assert.ok(lstatSync(join(host, 'o2', 'f')).isFile());
  });
  it('a missing source is an error', () => {
    const r = t.run(['cp', 'box:/x/nothere', host]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Could not find the file \/x\/nothere in container box/);
  });
});

describe('cp with a running container', () => {
  it('freezes it for the copy and thaws it after, even when the copy fails', () => {
    const id = t.run(['run', '-d', '--network', 'none', 'bb:1', 'sleep', '60']).stdout.trim();
    try {
      assert.equal(t.run(['cp', join(host, 'f'), `${id}:/tmp/`]).code, 0);
      assert.equal(t.run(['cp', join(host, 'f'), `${id}:/nonexist/x`]).code, 1);
      const r = t.run(['exec', id, 'cat', '/tmp/f'], { timeout: 20_000 });
      assert.equal(r.stdout, 'F\n');
    } finally {
      t.run(['rm', '-f', id]);
    }
  });
});
