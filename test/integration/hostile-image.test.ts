/**
 * Hostile images and containers against the host (issue 18, items 1 and 2): a volume
 * copy-up through a link in the image, and `cp` both ways against a container that swaps a
 * directory for a link to a host canary dir in a loop. The canary dir and the host's
 * /etc/shadow must come out of all of it unchanged.
 *
 * BERTH_RACE_TRIES sets the number of `cp` runs per direction (100 by default, run 4 at a time; scripts/cp-race.sh runs 5000).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthAsync, type BerthResult } from '../helpers/berth.ts';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-hostile-');
const work = mkdtempSync(join(tmpdir(), 'berth-hostile-work-'));
const canary = join(work, 'canary');
const TRIES = Number(process.env.BERTH_RACE_TRIES ?? 100);

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every entry under `dir` with its type and content: what must not change. */
function snapshot(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      lines.push(`${rel}${name} ${st.mode.toString(8)} ${st.isFile() ? readFileSync(p, 'utf8') : ''}`);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return lines.join('\n');
}

let shadowBefore = '';
let canaryBefore = '';
before(() => {
  mkdirSync(join(canary, 'sub'), { recursive: true });
  writeFileSync(join(canary, 'secret'), 'host-secret\n');
  writeFileSync(join(canary, 't.txt'), 'host-t\n');
  writeFileSync(join(canary, 'sub', 'keep'), 'keep\n');
  shadowBefore = sha256File('/etc/shadow');
  canaryBefore = snapshot(canary);
});
after(() => {
  // Checked once more after every test of the file, whatever ran.
  assert.equal(sha256File('/etc/shadow'), shadowBefore, 'the host /etc/shadow changed');
  assert.equal(snapshot(canary), canaryBefore, 'the host canary dir changed');
  rmSync(work, { recursive: true, force: true });
});

describe('volume copy-up through a link in the image', () => {
  before(() => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    // data -> /etc (absolute) and rdata -> ../../../etc (relative, climbing past the root).
    writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM bb:1\nRUN ln -s /etc /data && ln -s ../../../etc /rdata && echo image-shadow > /etc/shadow\nVOLUME /data\nVOLUME /rdata\n',
    );
    const r = t.run(['build', '-q', '-t', 'hostile:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
  });

  const cases = [
    { name: 'anonymous volume, absolute link', args: [], path: '/data' },
    { name: 'anonymous volume, relative link', args: [], path: '/rdata' },
    { name: 'named volume, absolute link', args: ['-v', 'hv-abs:/data'], path: '/data', volume: 'hv-abs' },
    { name: 'named volume, relative link', args: ['-v', 'hv-rel:/rdata'], path: '/rdata', volume: 'hv-rel' },
  ];
  for (const c of cases) {
    it(`${c.name}: filled from the image's /etc, not the host's`, () => {
      const r = t.run(['run', '--rm', ...c.args, 'hostile:1', 'sh', '-c', `cat ${c.path}/shadow; ls ${c.path}/`]);
      assert.equal(r.code, 0, r.stderr);
      const [shadow, ...names] = r.stdout.trim().split(/\s+/);
      assert.equal(shadow, 'image-shadow');
      assert.ok(names.includes('passwd') && !names.includes('os-release'), `the volume holds ${names.join(' ')}`);
      if (c.volume) {
        const data = join(t.root, 'volumes', c.volume, '_data');
        assert.equal(readFileSync(join(data, 'shadow'), 'utf8'), 'image-shadow\n');
        if (existsSync('/etc/os-release')) assert.equal(existsSync(join(data, 'os-release')), false);
      }
    });
  }
});

/** Runs `n` CLI calls made by `args(i)`, `width` at a time; the results in order. */
async function pool(n: number, width: number, args: (i: number) => string[]): Promise<BerthResult[]> {
  const out: BerthResult[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await berthAsync(t.root, args(i));
      }
    }),
  );
  return out;
}

describe('cp against a container that swaps a dir for a link to the host', () => {
  let id = '';
  before(() => {
    // Three loops: each path is a real dir (with secret and t.txt) one moment, a link to the host canary the next.
    const loop = `swap() { while :; do rm -rf $1; mkdir $1; echo ctr > $1/secret; echo ctr > $1/t.txt; rm -rf $1; ln -s ${canary} $1; done; }; swap /tmp/race & swap /tmp/race2 & swap /tmp/rd & wait`;
    const r = t.run(['run', '-d', '--network', 'none', '--name', 'racer', 'bb:1', 'sh', '-c', loop]);
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
  });
  after(() => {
    t.run(['rm', '-f', id]);
  });

  it(`copy in (${TRIES} tries: a file into a dir, onto a file, a dir into a dir) never writes to the host`, async () => {
    const src = join(work, 'in');
    mkdirSync(join(src, 'tree'), { recursive: true });
    writeFileSync(join(src, 'landed-in'), 'from-host\n');
    writeFileSync(join(src, 't.txt'), 'overwritten\n');
    writeFileSync(join(src, 'tree', 'landed-tree'), 'x\n');
    const forms = [
      [join(src, 'landed-in'), 'racer:/tmp/race/'],
      [join(src, 't.txt'), 'racer:/tmp/race2/t.txt'],
      [join(src, 'tree'), 'racer:/tmp/race/'],
    ];
    const results = await pool(TRIES, 4, (i) => ['cp', ...forms[i % forms.length]!]);
    const ok = results.filter((r) => r.code === 0).length;
    // A container that forks without pause can outrun the freezer: that copy fails, closed.
    for (const r of results)
      if (r.code !== 0) assert.match(r.stderr, /no such directory|Could not find|cannot copy|cannot overwrite|could not be frozen/, r.stderr);
    assert.ok(ok > 0, 'no copy ever landed: the test proves nothing');
    assert.equal(snapshot(canary), canaryBefore);
  });

  it(`copy out (${TRIES} tries: a dir, its contents, a file in it) never reads the host`, async () => {
    const out = join(work, 'out');
    mkdirSync(out);
    const forms = ['racer:/tmp/rd', 'racer:/tmp/rd/.', 'racer:/tmp/rd/secret'];
    const results = await pool(TRIES, 4, (i) => ['cp', forms[i % forms.length]!, join(out, String(i))]);
    let copied = 0;
    for (const [i, r] of results.entries()) {
      const dest = join(out, String(i));
      if (r.code !== 0) {
        assert.match(r.stderr, /Could not find|could not be frozen/, r.stderr);
        continue;
      }
      copied++;
      const st = lstatSync(dest);
      // The link itself may be copied, as a link (docker's cp does the same): never what it points at.
      if (st.isSymbolicLink()) continue;
      const file = st.isDirectory() ? join(dest, 'secret') : dest;
      // Empty when the container was frozen between its create and its write: never the host's bytes.
      if (existsSync(file))
        assert.ok(['', 'ctr\n'].includes(readFileSync(file, 'utf8')), `try ${i} (${forms[i % forms.length]}) read ${readFileSync(file, 'utf8')}`);
    }
    assert.ok(copied > 0, 'no copy ever succeeded: the test proves nothing');
  });

  it('leaves the container running, not frozen', () => {
    const r = t.run(['exec', 'racer', 'true'], { timeout: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(canary).isDirectory(), true);
  });
});
