/** berth build on real runc and overlayfs: cache behaviour, cache mounts, secrets, reproducibility. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-build-');
const work = mkdtempSync(join(tmpdir(), 'berth-build-ctx-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function context(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

function build(dir: string, tag: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const r = t.run(['build', '--network', 'none', '-t', tag, ...extra, dir], { env });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

function stepStatus(stderr: string): string[] {
  // "#3 [stage-0 2/5] RUN ..." then "#3 CACHED" or "#3 DONE"; keep the instruction and its fate.
  const names = new Map<string, string>();
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const start = /^#(\d+) \[[^\]]+\] (\S+)/.exec(line);
    if (start) names.set(start[1]!, start[2]!);
    const end = /^#(\d+) (CACHED|DONE)/.exec(line);
    if (end && names.get(end[1]!) && ['RUN', 'COPY', 'ADD'].includes(names.get(end[1]!)!)) out.push(`${names.get(end[1]!)}:${end[2]}`);
  }
  return out;
}

describe('build cache', () => {
  const dir = context('cache', {
    Dockerfile: 'FROM bb:1\nCOPY first.txt /first.txt\nRUN date +%s%N > /run1\nRUN cat /first.txt > /run2\nCOPY last.txt /last.txt\n',
    'first.txt': 'one',
    'last.txt': 'two',
  });
  const runStamp = () => t.run(['run', '--rm', '--network', 'none', 'cache:1', 'cat', '/run1']).stdout;

  it('a second build is fully cached and gives the same image', () => {
    build(dir, 'cache:1');
    const id1 = t.run(['inspect', '-f', '{{.Id}}', 'cache:1']).stdout;
    const r = build(dir, 'cache:1');
    assert.deepEqual(stepStatus(r.stderr), ['COPY:CACHED', 'RUN:CACHED', 'RUN:CACHED', 'COPY:CACHED']);
    assert.equal(t.run(['inspect', '-f', '{{.Id}}', 'cache:1']).stdout, id1, 'a fully cached build must give the same image id');
  });

  it('editing a file only the last COPY reads rebuilds only that step', () => {
    const before = runStamp();
    writeFileSync(join(dir, 'last.txt'), 'two-changed');
    const r = build(dir, 'cache:1');
    assert.deepEqual(stepStatus(r.stderr), ['COPY:CACHED', 'RUN:CACHED', 'RUN:CACHED', 'COPY:DONE']);
    assert.equal(runStamp(), before, 'the RUN executed again');
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'cache:1', 'cat', '/last.txt']).stdout, 'two-changed');
  });

  it('editing the first COPY input rebuilds every step after it', () => {
    const before = runStamp();
    writeFileSync(join(dir, 'first.txt'), 'one-changed');
    const r = build(dir, 'cache:1');
    assert.deepEqual(stepStatus(r.stderr), ['COPY:DONE', 'RUN:DONE', 'RUN:DONE', 'COPY:DONE']);
    assert.notEqual(runStamp(), before);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'cache:1', 'cat', '/run2']).stdout, 'one-changed');
  });

  it('--no-cache runs every step', () => {
    const r = build(dir, 'cache:1', ['--no-cache']);
    assert.deepEqual(stepStatus(r.stderr), ['COPY:DONE', 'RUN:DONE', 'RUN:DONE', 'COPY:DONE']);
    // Each step's snapshot dir is gone once the command ends, removed while later steps ran.
    assert.deepEqual(readdirSync(join(t.root, 'snapshots', 'active')), []);
  });
});

describe('RUN --mount', () => {
  it('type=cache keeps files between builds', () => {
    const dir = context('cachemount', {
      Dockerfile: 'FROM bb:1\nARG N\nRUN --mount=type=cache,target=/root/.cache sh -c "ls /root/.cache > /seen; echo $N > /root/.cache/from-$N"\n',
    });
    build(dir, 'cm:1', ['--build-arg', 'N=1']);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'cm:1', 'cat', '/seen']).stdout, '');
    build(dir, 'cm:2', ['--build-arg', 'N=2']);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'cm:2', 'cat', '/seen']).stdout, 'from-1\n');
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'cm:2', 'ls', '/root/.cache']).stdout, '', 'the cache dir content must not be in the layer');
  });

  it('type=secret never reaches a layer, the config or the history', () => {
    const dir = context('secret', { Dockerfile: 'FROM bb:1\nRUN --mount=type=secret,id=hf sh -c "wc -c < /run/secrets/hf > /secret-len"\n' });
    const secretFile = join(work, 'hf-token');
    writeFileSync(secretFile, 'hf_SUPERSECRETVALUE');
    build(dir, 'sec:1', ['--secret', `id=hf,src=${secretFile}`]);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'sec:1', 'cat', '/secret-len']).stdout.trim(), '19');
    const archive = join(work, 'sec.tar');
    assert.equal(t.run(['save', '-o', archive, 'sec:1']).code, 0);
    const unpacked = join(work, 'sec-unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xf', archive, '-C', unpacked]);
    const grep = execFileSync('sh', [
      '-c',
      `for f in $(find ${unpacked} -type f); do (tar -xOf "$f" 2>/dev/null || cat "$f") | grep -c SUPERSECRET; done | paste -sd+ | bc`,
    ])
      .toString()
      .trim();
    assert.equal(grep, '0');
    assert.doesNotMatch(t.run(['inspect', 'sec:1']).stdout, /SUPERSECRET/);
    assert.doesNotMatch(t.run(['history', '--no-trunc', 'sec:1']).stdout, /SUPERSECRET/);
    assert.doesNotMatch(readFileSync(archive).toString('latin1'), /SUPERSECRET/);
  });
});

describe('reproducible builds', () => {
  it('SOURCE_DATE_EPOCH gives the same image digest twice', () => {
    const dir = context('repro', { Dockerfile: 'FROM bb:1\nCOPY a /a\nRUN echo built > /b\nLABEL x=y\n', a: 'A' });
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    build(dir, 'repro:1', ['--no-cache'], env);
    const a = t.run(['inspect', '-f', '{{.Id}}', 'repro:1']).stdout;
    build(dir, 'repro:2', ['--no-cache'], env);
    assert.equal(t.run(['inspect', '-f', '{{.Id}}', 'repro:2']).stdout, a);
  });
});

describe('multi-stage', () => {
  it('builds only what the target needs, and COPY --from takes files from a stage', () => {
    const dir = context('multi', {
      Dockerfile:
        'FROM bb:1 AS builder\nRUN echo artifact > /out\nFROM bb:1 AS unused\nRUN exit 1\nFROM bb:1\nCOPY --from=builder /out /app/out\nCMD ["cat", "/app/out"]\n',
    });
    build(dir, 'multi:1');
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'multi:1']).stdout, 'artifact\n');
  });
});

describe('build errors', () => {
  it('a failing RUN reports the command and its exit code', () => {
    const dir = context('fail', { Dockerfile: 'FROM bb:1\nRUN exit 7\n' });
    const r = t.run(['build', '--network', 'none', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /did not complete successfully: exit code: 7/);
    assert.deepEqual(readdirSync(join(t.root, 'snapshots', 'active')), [], 'a failed step leaves no snapshot behind');
  });
  it('a syntax error points at file:line with a caret', () => {
    const dir = context('syntax', { Dockerfile: 'FROM bb:1\nCOPPY a b\n' });
    const r = t.run(['build', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Dockerfile:2:1: unknown instruction: COPPY \(did you mean COPY\?\)\n {2}COPPY a b\n {2}\^/);
  });
  it('a COPY source excluded by .dockerignore is not found, with a hint', () => {
    const dir = context('ignored', { Dockerfile: 'FROM bb:1\nCOPY data/big.bin /x\n', '.dockerignore': 'data\n', 'data/big.bin': 'x' });
    const r = t.run(['build', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /excluded by .dockerignore/);
  });
});

describe('lint in the CLI and in build', () => {
  const dir = context('lintctx', { Dockerfile: 'FROM bb:1\nRUN echo a & echo b\n' });
  it('berth lint exits 1 on an error finding and prints file:line', () => {
    const r = t.run(['lint', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Dockerfile:2:1: error BL005/);
    assert.equal(t.run(['lint', '--ignore', 'BL005', '--error-on', 'error', dir]).code, 0);
    const sarif = JSON.parse(t.run(['lint', '--format', 'sarif', dir]).stdout) as { version: string };
    assert.equal(sarif.version, '2.1.0');
  });
  it('build shows findings as warnings, and --check reports them without building', () => {
    const warn = t.run(['build', '--network', 'none', dir]);
    assert.equal(warn.code, 0, warn.stderr);
    assert.match(warn.stderr, /WARN: BL005/);
    const strict = t.run(['build', '--check', '--network', 'none', dir]);
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /^WARNING: BL005\n/m);
  });
});

describe('COPY of many small files on two threads', () => {
  // Modes, owners, a setgid dir and source mtimes: the worker's half must come out as the
  // in-line copy's does, which the layer's diffID (a hash of all of it) shows.
  const files: Record<string, string> = { Dockerfile: 'FROM bb:1\nCOPY --chown=1000:2000 tree /tree\nCOPY tree /plain\n' };
  for (let d = 0; d < 20; d++) for (let f = 0; f < 15; f++) files[`tree/d${d}/f${f}.txt`] = `dir ${d} file ${f}\n`.repeat(f + 1);
  const dir = context('two-threads', files);
  before(() => {
    for (let f = 0; f < 15; f++) execFileSync('chmod', [f % 3 === 0 ? '0755' : f % 3 === 1 ? '0600' : '0640', join(dir, 'tree', 'd7', `f${f}.txt`)]);
    execFileSync('chmod', ['2775', join(dir, 'tree', 'd13')]);
    execFileSync('touch', ['-d', '2020-01-02T03:04:05Z', join(dir, 'tree', 'd19', 'f14.txt')]);
  });

  it('gives the same layers as copying on one thread', () => {
    const layersOf = (tag: string) => JSON.parse(t.run(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', tag]).stdout) as string[];
    const one = build(dir, 'copy-one:1', ['--no-cache'], { BERTH_TIMING: '1' });
    assert.doesNotMatch(one.stderr, /small files copied on two threads/);
    const two = build(dir, 'copy-two:1', ['--no-cache'], { BERTH_TIMING: '1', BERTH_COPY_THREAD_THRESHOLD: '2' });
    assert.match(two.stderr, /small files copied on two threads/);
    assert.deepEqual(layersOf('copy-two:1'), layersOf('copy-one:1'));
    const r = t.run([
      'run',
      '--rm',
      '--network',
      'none',
      'copy-two:1',
      'sh',
      '-c',
      'stat -c "%a %u:%g" /tree/d7/f0.txt /tree/d7/f1.txt /tree/d19/f14.txt /plain/d13; cat /tree/d19/f14.txt | wc -l',
    ]);
    assert.equal(r.stdout, '755 1000:2000\n600 1000:2000\n644 1000:2000\n2775 0:0\n15\n');
  });
});

describe('COPY of big files, made empty and filled', () => {
  // Files over 256 KB of a COPY with one source are created empty and copied beside the
  // small files and the layer's hashing (layer/file-chunks.ts); with several sources they
  // are copied at once. Their content, modes, owners and mtimes must come out as a plain
  // copy's, and the layer's regenerated tar (save) must hash to the diffID the commit gave;
  // a later source that replaces such a file must win.
  const big = (seed: string, size: number) => Buffer.alloc(size, seed);
  const dir = context('fills', {
    Dockerfile: [
      'FROM bb:1',
      'COPY --chown=1000:2000 big /big',
      'COPY big/a.bin big/sub/b.bin /two/',
      'COPY big over /merged/',
      'COPY --chmod=600 big/a.bin /one.bin',
    ].join('\n'),
    'big/small.txt': 'small\n',
    'over/a.bin': 'now small\n',
  });
  before(() => {
    writeFileSync(join(dir, 'big', 'a.bin'), big('model weights ', 3 << 20));
    mkdirSync(join(dir, 'big', 'sub'));
    writeFileSync(join(dir, 'big', 'sub', 'b.bin'), big('tokenizer ', 300 << 10));
    writeFileSync(join(dir, 'big', 'suid.bin'), big('binary ', 400 << 10));
    mkdirSync(join(dir, 'over', 'sub'));
    writeFileSync(join(dir, 'over', 'sub', 'b.bin'), big('other tokenizer ', 500 << 10));
    execFileSync('chmod', ['0750', join(dir, 'big', 'a.bin')]);
    execFileSync('chmod', ['4755', join(dir, 'big', 'suid.bin')]);
    execFileSync('touch', ['-d', '2020-01-02T03:04:05Z', join(dir, 'big', 'a.bin')]);
  });

  it('gives each file its bytes and metadata, and a layer that hashes to its diffID again', () => {
    build(dir, 'fills:1', ['--no-cache']);
    const sum = (p: string) =>
      execFileSync('sha256sum', [join(dir, p)])
        .toString()
        .split(' ')[0];
    const r = t.run([
      'run',
      '--rm',
      '--network',
      'none',
      'fills:1',
      'sh',
      '-c',
      'for f in /big/a.bin /big/sub/b.bin /big/suid.bin /two/a.bin /two/b.bin /merged/a.bin /merged/sub/b.bin /one.bin; do echo "$f $(stat -c "%a %u:%g %s %Y" $f) $(sha256sum < $f | cut -d" " -f1)"; done',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const stamp = '1577934245';
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `/big/a.bin 750 1000:2000 ${3 << 20} ${stamp} ${sum('big/a.bin')}`,
      `/big/sub/b.bin 644 1000:2000 ${300 << 10} ${r.stdout.match(/\/big\/sub\/b.bin \S+ \S+ \S+ (\d+)/)![1]} ${sum('big/sub/b.bin')}`,
      `/big/suid.bin 4755 1000:2000 ${400 << 10} ${r.stdout.match(/\/big\/suid.bin \S+ \S+ \S+ (\d+)/)![1]} ${sum('big/suid.bin')}`,
      `/two/a.bin 750 0:0 ${3 << 20} ${stamp} ${sum('big/a.bin')}`,
      `/two/b.bin 644 0:0 ${300 << 10} ${r.stdout.match(/\/two\/b.bin \S+ \S+ \S+ (\d+)/)![1]} ${sum('big/sub/b.bin')}`,
      `/merged/a.bin 644 0:0 10 ${r.stdout.match(/\/merged\/a.bin \S+ \S+ \S+ (\d+)/)![1]} ${sum('over/a.bin')}`,
      `/merged/sub/b.bin 644 0:0 ${500 << 10} ${r.stdout.match(/\/merged\/sub\/b.bin \S+ \S+ \S+ (\d+)/)![1]} ${sum('over/sub/b.bin')}`,
      `/one.bin 600 0:0 ${3 << 20} ${stamp} ${sum('big/a.bin')}`,
    ]);
    // save regenerates each layer's tar from its dir and checks it against the diffID.
    const saved = join(work, 'fills.tar');
    const s = t.run(['save', '-o', saved, 'fills:1']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(t.run(['system', 'check']).code, 0);
  });

  it("a big file copied --from another stage is filled from that stage's rootfs", () => {
    const staged = context('fills-from', {
      Dockerfile: 'FROM bb:1 AS weights\nCOPY w.bin /w.bin\nRUN chmod 640 /w.bin\nFROM bb:1\nCOPY --from=weights /w.bin /models/model.bin\n',
    });
    writeFileSync(join(staged, 'w.bin'), big('checkpoint ', 2 << 20));
    build(staged, 'fills-from:1', ['--no-cache']);
    const r = t.run([
      'run',
      '--rm',
      '--network',
      'none',
      'fills-from:1',
      'sh',
      '-c',
      'stat -c "%a %s" /models/model.bin; sha256sum < /models/model.bin | cut -d" " -f1',
    ]);
    assert.equal(
      r.stdout,
      `640 ${2 << 20}\n${
        execFileSync('sha256sum', [join(staged, 'w.bin')])
          .toString()
          .split(' ')[0]
      }\n`,
    );
    assert.equal(t.run(['save', '-o', join(work, 'fills-from.tar'), 'fills-from:1']).code, 0);
  });

  it('save of a layer whose dir was changed on disk fails with a clear error and writes no archive', () => {
    const layers = JSON.parse(t.run(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'fills:1']).stdout) as string[];
    const file = join(t.root, 'snapshots', 'layers', layers[4]!.slice('sha256:'.length), 'one.bin'); // COPY --chmod=600 big/a.bin /one.bin
    const [bytes, st] = [readFileSync(file), statSync(file)];
    writeFileSync(file, 'not the weights');
    try {
      const saved = join(work, 'broken.tar');
      const r = t.run(['save', '-o', saved, 'fills:1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^berth: Error: layer sha256:[0-9a-f]{64} no longer matches its unpacked dir/m);
      assert.match(r.stderr, /hint: the layer dir was changed on disk/);
      assert.equal(existsSync(saved), false);
    } finally {
      writeFileSync(file, bytes);
      utimesSync(file, st.atime, st.mtime);
    }
    assert.equal(t.run(['save', '-o', join(work, 'mended.tar'), 'fills:1']).code, 0, 'the mended layer saves again');
  });
});
