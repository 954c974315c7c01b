/**
 * A long run of ENV lines: values expand against the env before their line, the config
 * holds them in order, and a metadata step's cache key (the change it made, chained to its
 * parent: not the whole config, which made 10k lines quadratic) still tells one value
 * from another.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const N = 2000;
const t = tempRoot('berth-env-');
const work = mkdtempSync(join(tmpdir(), 'berth-env-ctx-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function dockerfile(middle: string): string {
  const lines = ['FROM bb:1', 'ENV A=1'];
  for (let i = 0; i < N; i++) lines.push(i === N / 2 ? `ENV V${i}=${middle}` : `ENV V${i}=value${i}`);
  lines.push('ENV B=$A-x C="q r"', 'ENV A=2 D=${A} E=${V1}', 'RUN date +%s%N > /stamp');
  return `${lines.join('\n')}\n`;
}

function build(text: string) {
  const dir = join(work, 'ctx');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), text);
  const r = t.run(['build', '--progress', 'plain', '--network', 'none', '-t', 'env:1', dir]);
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

describe(`${N} ENV lines`, () => {
  it('expand against the env before their line, and keep their order', () => {
    build(dockerfile('middle'));
    const env = JSON.parse(t.run(['inspect', '--format', '{{json .Config.Env}}', 'env:1']).stdout) as string[];
    const get = (k: string) => env.find((e) => e.startsWith(`${k}=`));
    assert.deepEqual([get('A'), get('B'), get('C'), get('D'), get('E')], ['A=2', 'B=1-x', 'C=q r', 'D=1', 'E=value1']);
    assert.equal(get(`V${N / 2}`), `V${N / 2}=middle`);
    const names = env.filter((e) => e.startsWith('V')).map((e) => e.slice(0, e.indexOf('=')));
    assert.deepEqual(
      names,
      Array.from({ length: N }, (_, i) => `V${i}`),
    );
  });

  it("stages grown from one stage do not see each other's ENV", () => {
    const text = [
      'FROM bb:1 AS base',
      'ENV B1=1',
      'ENV B2=2',
      'FROM base AS left',
      'ENV L=left',
      'ENV B1=changed-left',
      'FROM base AS right',
      'ENV R=right',
      'FROM right',
      'COPY --from=left /etc/passwd /p',
      'ENV LAST=1',
    ].join('\n');
    build(`${text}\n`);
    const env = JSON.parse(t.run(['inspect', '--format', '{{json .Config.Env}}', 'env:1']).stdout) as string[];
    assert.deepEqual(
      env.filter((e) => !e.startsWith('PATH=')),
      ['B1=1', 'B2=2', 'R=right', 'LAST=1'],
    );
    const history = t
      .run(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'env:1'])
      .stdout.split('\n')
      .filter((c) => c.startsWith('ENV'));
    assert.deepEqual(history, ['ENV LAST=1', 'ENV R=right', 'ENV B2=2', 'ENV B1=1']);
  });

  it('a rebuild reuses the RUN after them; a changed value in the middle does not', () => {
    assert.match(build(dockerfile('middle')), /RUN date[^\n]*\n#\d+ CACHED/);
    assert.doesNotMatch(build(dockerfile('other')), /RUN date[^\n]*\n#\d+ CACHED/);
  });
});
