/** berth build runs the plan dockerfile/ makes: stage cycles, forward --from, typed flags refused before any step runs. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-frontend-');
const work = mkdtempSync(join(tmpdir(), 'berth-frontend-ctx-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function context(name: string, dockerfile: string, files: Record<string, string> = {}): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  for (const [p, content] of Object.entries(files)) writeFileSync(join(dir, p), content);
  return dir;
}

const build = (dir: string, tag: string, extra: string[] = []) =>
  t.run(['build', '--network', 'none', '--progress', 'plain', '-t', tag, ...extra, dir], { timeout: 60_000 });

describe('build: the stage plan', () => {
  it('a cycle between stages is refused at once, naming both', () => {
    const r = build(context('cycle', 'FROM bb:1 AS x\nCOPY --from=y /a /a\nFROM bb:1 AS y\nCOPY --from=x /b /b\n'), 'cycle:1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /circular dependency between build stages: stage \w needs stage \w/);
    assert.doesNotMatch(r.stderr, /^#\d+ \[/m, 'no step ran');
  });
  it('COPY --from a stage defined later, and RUN --mount without a target (at WORKDIR)', () => {
    const dir = context(
      'forward',
      'FROM bb:1\nWORKDIR /w\nCOPY --from=later /made /made\nRUN --mount=from=later,source=/ sh -c "cat /w/made > /seen"\nFROM bb:1 AS later\nRUN echo hi > /made\n',
    );
    const r = build(dir, 'forward:1', ['--target', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'forward:1', 'cat', '/made', '/seen']).stdout, 'hi\nhi\n');
  });
  it('--target skips the stages it does not need', () => {
    const dir = context('skip', 'FROM bb:1 AS wanted\nRUN echo ok > /ok\nFROM bb:1 AS broken\nRUN exit 3\n');
    const r = build(dir, 'skip:1', ['--target', 'WANTED']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /exit 3/);
    const unknown = build(dir, 'skip:2', ['--target', 'nope']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /target stage "nope" could not be found/);
  });
});

describe('build: typed flags', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['mount-key', 'FROM bb:1\nRUN --mount=type=cache,traget=/c true\n', /unexpected key 'traget'/],
    ['mount-type', 'FROM bb:1\nRUN --mount=type=volume,target=/c true\n', /unsupported mount type "volume"/],
    ['network', 'FROM bb:1\nRUN --network=bridge true\n', /unsupported --network value "bridge"/],
    ['chmod', 'FROM bb:1\nCOPY --chmod=rwx Dockerfile /d\n', /invalid --chmod value "rwx"/],
  ];
  for (const [name, df, msg] of refused) {
    it(`refuses ${name} before any step runs, at its line`, () => {
      const r = build(context(name, df), `${name}:1`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /Dockerfile:2/);
    });
  }
  it('a variable in a flag is read once the stage scope expands it', () => {
    const dir = context(
      'vars',
      'FROM bb:1\nARG T=tmpfs\nARG MODE=0604\nRUN --mount=type=$T,target=/t sh -c "mount | grep -q \' /t type tmpfs\' && touch /ok"\nCOPY --chmod=$MODE f /f\n',
      { f: 'x' },
    );
    const r = build(dir, 'vars:1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'vars:1', 'stat', '-c', '%a', '/ok', '/f']).stdout.split('\n')[1], '604');
  });
});

describe('build -: the context from stdin', () => {
  it('a lone Dockerfile on stdin builds with no context', () => {
    const r = t.run(['build', '--network', 'none', '-q', '-t', 'stdin-df:1', '-'], { input: 'FROM bb:1\nRUN echo from-stdin > /s\n', timeout: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'stdin-df:1', 'cat', '/s']).stdout, 'from-stdin\n');
  });

  it('a gzipped tar on stdin is the context, and -f names its Dockerfile inside it', () => {
    const dir = context('stdin-tar', 'FROM scratch\n', { 'Other.Dockerfile': 'FROM bb:1\nCOPY f /f\n', f: 'in-the-archive\n' });
    const tar = execFileSync('tar', ['-cz', '-C', dir, '.']);
    const r = t.run(['build', '--network', 'none', '-q', '-f', 'Other.Dockerfile', '-t', 'stdin-tar:1', '-'], { input: tar, timeout: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'stdin-tar:1', 'cat', '/f']).stdout, 'in-the-archive\n');
    assert.deepEqual(
      readdirSync(t.root).filter((n) => n.startsWith('tmp-context-')),
      [],
      'the unpacked context is removed',
    );
  });
});
