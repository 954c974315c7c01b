/** planBuild: the stage graph the builder runs (target, needed stages, dependencies, cycles, global ARGs). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDockerfile, planBuild, type BuildPlan, type PlanOptions } from '../../src/dockerfile/index.ts';
import { BerthError } from '../../src/errors/index.ts';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

function plan(src: string, opts: PlanOptions = {}): BuildPlan {
  return planBuild(loadDockerfile(src), { buildPlatform: AMD64, ...opts });
}

/** `index<-deps` for each needed stage. */
function graph(p: BuildPlan): string[] {
  return p.stages.map((s) => `${s.index}<-${s.dependsOn.join(',')}`);
}

describe('planBuild: needed stages and dependencies', () => {
  const cases: Array<{ name: string; src: string; opts?: PlanOptions; want: string[]; target?: number }> = [
    { name: 'one stage', src: 'FROM a\nRUN x\n', want: ['0<-'], target: 0 },
    { name: 'unused stages are skipped', src: 'FROM a AS one\nFROM b AS two\nFROM c\nRUN x\n', want: ['2<-'] },
    { name: 'FROM an earlier stage', src: 'FROM a AS base\nFROM base\n', want: ['0<-', '1<-0'] },
    { name: 'FROM names a stage in any case', src: 'FROM a AS base\nFROM BASE\n', want: ['0<-', '1<-0'] },
    { name: 'FROM a stage index is an image name', src: 'FROM a\nFROM 0\n', want: ['1<-'] },
    {
      name: 'COPY --from by name and by index',
      src: 'FROM a AS x\nFROM b AS y\nFROM c\nCOPY --from=x /a /a\nCOPY --from=1 /b /b\n',
      want: ['0<-', '1<-', '2<-0,1'],
    },
    { name: 'COPY --from an image is no stage', src: 'FROM a AS x\nFROM c\nCOPY --from=alpine:3 /a /a\n', want: ['1<-'] },
    { name: 'COPY --from a later stage', src: 'FROM a\nCOPY --from=later /a /a\nFROM b AS later\n', opts: { target: '0' }, want: ['0<-1', '1<-'] },
    { name: 'ADD has no --from; RUN --mount from=', src: 'FROM a AS x\nFROM b\nRUN --mount=type=bind,from=x,target=/m true\n', want: ['0<-', '1<-0'] },
    {
      name: 'a --from with a variable is expanded in the stage scope',
      src: 'ARG G=x\nFROM a AS x\nFROM a AS y\nFROM b\nARG S=y\nCOPY --from=$S /a /a\nARG G\nRUN --mount=from=${G},target=/m true\n',
      want: ['0<-', '1<-', '2<-0,1'],
    },
    {
      name: '--build-arg picks the stage',
      src: 'FROM a AS x\nFROM a AS y\nFROM b\nARG S=y\nCOPY --from=$S /a /a\n',
      opts: { buildArgs: { S: 'x' } },
      want: ['0<-', '2<-0'],
    },
    {
      name: 'ENV names the stage, inherited from a base stage',
      src: 'FROM a AS x\nFROM a AS base\nENV S=x\nFROM base\nCOPY --from=$S /a /a\n',
      want: ['0<-', '1<-', '2<-0,1'],
    },
    {
      name: '--target by name (any case) or index',
      src: 'FROM a AS one\nFROM b AS two\nCOPY --from=one / /\nFROM c\n',
      opts: { target: 'TWO' },
      want: ['0<-', '1<-0'],
      target: 1,
    },
    { name: 'an empty --from is none', src: 'FROM a AS x\nARG E\nCOPY --from=$E /a /a\n', want: ['0<-'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = plan(c.src, c.opts);
      assert.deepEqual(graph(p), c.want);
      if (c.target !== undefined) assert.equal(p.target, c.target);
    });
  }
});

describe('planBuild: FROM, global ARGs and bases', () => {
  it('global ARGs (before FROM) and predefined ARGs expand FROM and --platform', () => {
    const p = plan('ARG IMG=alpine\nARG TAG=3\nFROM --platform=$BUILDPLATFORM ${IMG}:${TAG} AS x\n', { buildArgs: { TAG: '3.20' }, targetPlatform: ARM64 });
    const s = p.stages[0]!;
    assert.deepEqual([s.from.image, s.platform, s.base], ['alpine:3.20', 'linux/amd64', { kind: 'image', ref: 'alpine:3.20' }]);
    assert.deepEqual(
      [p.globalArgs.get('IMG'), p.globalArgs.get('TAG'), p.globalArgs.get('TARGETARCH'), p.globalArgs.get('TARGETVARIANT')],
      ['alpine', '3.20', 'arm64', 'v8'],
    );
  });
  it('a global ARG without a value is absent unless a build arg gives it', () => {
    assert.equal(plan('ARG V\nFROM a\n').globalArgs.has('V'), false);
    assert.equal(plan('ARG V\nFROM a\n', { buildArgs: { V: '1' } }).globalArgs.get('V'), '1');
  });
  it('scratch in any case; a global ARG can name the base stage', () => {
    assert.deepEqual(plan('FROM Scratch\n').stages[0]!.base, { kind: 'scratch' });
    const p = plan('ARG B=base\nFROM a AS base\nFROM ${B}\n');
    assert.deepEqual(p.stages[1]!.base, { kind: 'stage', index: 0 });
  });
  it('unused build args: not declared in a needed stage, builtins excepted', () => {
    const p = plan('ARG G\nFROM a AS unused\nARG U\nFROM b\nARG S\n', {
      buildArgs: { G: '1', S: '2', U: '3', X: '4', HTTP_PROXY: 'p', BUILDKIT_INLINE_CACHE: '1', TARGETARCH: 'x' },
    });
    assert.deepEqual(p.unusedBuildArgs, ['U', 'X']);
    assert.deepEqual([...p.proxyArgs], [['HTTP_PROXY', 'p']]);
  });
});

describe('planBuild: errors', () => {
  const syntaxAt = (line: number, msg: RegExp) => (e: unknown) =>
    e instanceof BerthError && e.code === 'SYNTAX' && e.position?.line === line && msg.test(e.message);
  it('unknown target: NOT_FOUND naming the stages', () => {
    assert.throws(
      () => plan('FROM a AS x\nFROM b\n', { target: 'y' }),
      (e) => e instanceof BerthError && e.code === 'NOT_FOUND' && /"y"/.test(e.message) && e.hint === 'stages: x, 1',
    );
    assert.throws(
      () => plan('FROM a\n', { target: '1' }),
      (e) => e instanceof BerthError && e.code === 'NOT_FOUND',
    );
  });
  it('a cycle through COPY --from', () => {
    assert.throws(
      () => plan('FROM a AS x\nCOPY --from=y /a /a\nFROM b AS y\nCOPY --from=x /b /b\n'),
      syntaxAt(1, /circular dependency between build stages: stage x needs stage y/),
    );
  });
  it('a longer cycle, through RUN --mount and FROM', () => {
    const src = 'FROM a AS x\nRUN --mount=from=z,target=/m true\nFROM x AS y\nFROM b AS z\nCOPY --from=y / /\n';
    assert.throws(
      () => plan(src),
      (e) => e instanceof BerthError && /circular dependency/.test(e.message),
    );
  });
  it('a stage that refers to itself', () => {
    assert.throws(() => plan('FROM a AS x\nCOPY --from=x /a /a\n'), syntaxAt(2, /refers to its own stage/));
    assert.throws(() => plan('FROM a\nRUN --mount=from=0,target=/m true\n'), syntaxAt(2, /refers to its own stage/));
  });
  it('a blank FROM after expansion', () => {
    assert.throws(() => plan('ARG I\nFROM $I\n'), syntaxAt(2, /should not be blank/));
  });
  it('errors in stages the target does not need are not reported', () => {
    const src = 'FROM a AS ok\nFROM b AS broken\nCOPY --from=${MISSING:?unset} / /\n';
    assert.equal(plan(src, { target: 'ok' }).stages.length, 1);
    assert.throws(() => plan(src), syntaxAt(3, /unset/));
  });
});
