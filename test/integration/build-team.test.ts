/**
 * `build`'s flags for team builds: `--build-context` (a directory, `docker-image://`,
 * `oci-layout://`) as `FROM NAME`, `COPY --from=NAME` and `RUN --mount=from=NAME`; what
 * `--add-host`, `--shm-size` and `--ulimit` give every RUN step; `--push` and
 * `--metadata-file` (buildx's keys) with a local registry; and bad values of each.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const t = tempRoot('berth-team-');
const work = mkdtempSync(join(tmpdir(), 'berth-team-work-'));
let registry: TestRegistry;

before(async () => {
  registry = await startRegistry();
  assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0);
});
after(() => {
  registry?.stop();
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
function context(dockerfile: string): string {
  const dir = join(work, `ctx${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

function build(dockerfile: string, args: string[]) {
  return t.run(['build', '--progress', 'plain', '--network', 'none', ...args, context(dockerfile)]);
}

const cat = (tag: string, file: string) => t.run(['run', '--rm', '--network', 'none', tag, 'cat', file]).stdout;

describe('build --build-context', () => {
  it('a directory serves COPY --from, RUN --mount from= and FROM; a change in it is a cache miss', () => {
    const extra = join(work, 'extra');
    mkdirSync(extra);
    writeFileSync(join(extra, 'f.txt'), 'one\n');
    const dockerfile = [
      'FROM extra AS files',
      'FROM bb:1',
      'COPY --from=extra f.txt /from-dir',
      'RUN --mount=type=bind,from=extra,target=/m cat /m/f.txt > /via-mount',
      'COPY --from=files /f.txt /via-stage',
      '',
    ].join('\n');
    const ctx = context(dockerfile);
    let r = t.run(['build', '--network', 'none', '--build-context', `extra=${extra}`, '-t', 'named-dir:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'named-dir:1', 'cat', '/from-dir', '/via-mount', '/via-stage']).stdout, 'one\none\none\n');
    writeFileSync(join(extra, 'f.txt'), 'two\n');
    r = t.run(['build', '--network', 'none', '--build-context', `extra=${extra}`, '-t', 'named-dir:2', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.run(['run', '--rm', '--network', 'none', 'named-dir:2', 'cat', '/from-dir', '/via-mount', '/via-stage']).stdout, 'two\ntwo\ntwo\n');
  });

  it('hostile: a link in a directory context resolves inside it, never to the host', () => {
    const dir = join(work, 'linky');
    mkdirSync(dir);
    writeFileSync(join(dir, 'inside'), 'in\n');
    symlinkSync('/', join(dir, 'escape'));
    symlinkSync('/etc/hostname', join(dir, 'host-file'));
    let r = build('FROM bb:1\nRUN --mount=type=bind,from=linky,source=escape,target=/m test -e /m/inside && test ! -e /m/proc/1 && test ! -e /m/etc\n', [
      '--build-context',
      `linky=${dir}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    r = build('FROM bb:1\nRUN --mount=type=bind,from=linky,source=host-file,target=/m cat /m\n', ['--build-context', `linky=${dir}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /source host-file not found/);
  });

  it('docker-image:// and oci-layout:// stand for FROM NAME, an image no registry has', () => {
    let r = build('FROM base\nRUN echo built > /built\n', ['--build-context', 'base=docker-image://bb:1', '-t', 'named-img:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cat('named-img:1', '/built'), 'built\n');
    const layout = join(work, 'layout');
    mkdirSync(layout);
    assert.equal(t.run(['save', '--format', 'oci-archive', '-o', join(work, 'layout.tar'), 'named-img:1']).code, 0);
    execFileSync('tar', ['-xf', join(work, 'layout.tar'), '-C', layout]);
    r = build('FROM from-layout\nRUN cat /built > /again\n', ['--build-context', `from-layout=oci-layout://${layout}`, '-t', 'named-oci:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cat('named-oci:1', '/again'), 'built\n');
  });

  it('hostile: a missing dir, a file, an unknown scheme, no name, a bad name, a missing layout', () => {
    const file = join(work, 'plain-file');
    writeFileSync(file, 'x');
    for (const [value, message] of [
      [`x=${join(work, 'nope')}`, /--build-context x: .*nope not found/],
      [`x=${file}`, /is not a directory/],
      ['x=git://example.com/repo', /git:\/\/ contexts are not supported/],
      ['no-equals', /invalid --build-context "no-equals"/],
      [`Bad Name=${work}`, /invalid --build-context name "Bad Name"/],
      [`x=oci-layout://${join(work, 'no-layout')}`, /OCI layout .*no-layout not found/],
    ] as const) {
      const r = build('FROM bb:1\n', ['--build-context', value]);
      assert.notEqual(r.code, 0, value);
      assert.match(r.stderr, message, value);
    }
  });
});

describe('build --add-host, --shm-size, --ulimit', () => {
  it('every RUN step gets them', () => {
    const r = build('FROM bb:1\nRUN grep myhost /etc/hosts > /hosts && df -k /dev/shm | tail -n 1 > /shm && ulimit -n > /nofile\n', [
      '--add-host',
      'myhost:10.1.2.3',
      '--shm-size',
      '96m',
      '--ulimit',
      'nofile=1234:2345',
      '-t',
      'host-opts:1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(cat('host-opts:1', '/hosts'), /^10\.1\.2\.3\s+myhost$/m);
    assert.match(cat('host-opts:1', '/shm'), /\s98304\s/);
    assert.equal(cat('host-opts:1', '/nofile'), '1234\n');
  });

  it('hostile: bad values are refused before the build starts', () => {
    for (const [args, message] of [
      [['--add-host', 'no-ip'], /bad format for add-host/],
      [['--add-host', 'h:999.1.1.1'], /invalid IP address in add-host/],
      [['--shm-size', 'lots'], /invalid argument "lots" for "--shm-size"/],
      [['--shm-size', '0'], /must be greater than 0/],
      [['--ulimit', 'bogus=1'], /bogus/],
    ] as const) {
      const r = build('FROM bb:1\nRUN true\n', [...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});

describe('build --push, --load, --metadata-file', () => {
  it('pushes every tag and writes buildx metadata; a second root pulls the pushed digest', () => {
    const name = `${registry.host}/team/app:1`;
    const meta = join(work, 'meta.json');
    const r = build('FROM bb:1\nRUN echo pushed > /p\n', ['--load', '--push', '--metadata-file', meta, '-t', name]);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, unknown>;
    assert.equal(m['containerimage.config.digest'], t.run(['inspect', '-f', '{{.Id}}', name]).stdout.trim());
    assert.match(String(m['containerimage.digest']), /^sha256:[a-f0-9]{64}$/);
    assert.equal((m['containerimage.descriptor'] as { digest: string }).digest, m['containerimage.digest']);
    assert.equal(m['image.name'], name);
    const other = tempRoot('berth-team-b-');
    try {
      const pulled = other.run(['pull', `${registry.host}/team/app@${m['containerimage.digest']}`]);
      assert.equal(pulled.code, 0, pulled.stderr);
    } finally {
      other.cleanup();
    }
  });

  it('metadata without a push names the local manifest; --push without a tag is refused', () => {
    const meta = join(work, 'meta-local.json');
    let r = build('FROM bb:1\nLABEL x=1\n', ['--metadata-file', meta]);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, unknown>;
    assert.match(String(m['containerimage.config.digest']), /^sha256:/);
    assert.equal(m['image.name'], undefined);
    r = build('FROM bb:1\n', ['--push']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /tag is needed when pushing to registry/);
  });
});
