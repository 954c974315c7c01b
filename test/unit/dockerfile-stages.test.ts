/** resolveBuild: stages the target needs, ARG scoping, ENV accumulation, per-instruction expansion. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../src/errors/index.ts';
import { loadDockerfile, resolveBuild, runEnvironment, type ResolveOptions, type ResolvedBuild } from '../../src/dockerfile/index.ts';
import { CORPUS_ABSENT, corpusDir } from '../helpers/corpus.ts';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

function resolve(src: string, opts: ResolveOptions = {}): ResolvedBuild {
  return resolveBuild(loadDockerfile(src), { buildPlatform: AMD64, ...opts });
}

/** A compact, comparable view of one expanded instruction. */
function show(b: ResolvedBuild, stage = b.stages.at(-1)!.index): string[] {
  const s = b.stages.find((x) => x.index === stage)!;
  return s.instructions.map((i) => {
    switch (i.kind) {
      case 'env':
      case 'label':
        return `${i.kind} ${i.pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
      case 'arg':
        return `arg ${i.args.map((a) => a.name).join(' ')}`;
      case 'copy':
      case 'add':
        return `${i.kind} ${Object.entries(i.flags)
          .map(([k, v]) => `--${k}=${v.join(',')} `)
          .join('')}${i.sources.join(' ')} -> ${i.dest}`;
      case 'workdir':
      case 'user':
      case 'stopsignal':
        return `${i.kind} ${i.value}`;
      case 'expose':
      case 'volume':
        return `${i.kind} ${i.values.join(' ')}`;
      case 'run':
      case 'cmd':
      case 'entrypoint':
        return `${i.kind} ${i.args.join(' ')}${i.flags.mount ? ` mount=${i.flags.mount.join(';')}` : ''}`;
      default:
        return i.kind;
    }
  });
}

describe('word expansion per instruction', () => {
  const cases: Array<{ name: string; src: string; opts?: ResolveOptions; want: string[] }> = [
    {
      name: 'ENV accumulates; one ENV line expands with the values before it',
      src: 'FROM a\nENV A=1\nENV A=2 B=$A\nWORKDIR /w/$A/$B\n',
      want: ['env A=1', 'env A=2 B=1', 'workdir /w/2/1'],
    },
    {
      name: 'RUN, CMD and ENTRYPOINT stay raw; COPY, USER, EXPOSE, VOLUME, LABEL expand',
      src: 'FROM a\nENV D=/app U=me P=8080\nRUN echo $D\nCMD ["$D"]\nENTRYPOINT $D\nCOPY --chown=$U src/ $D/\nUSER $U\nEXPOSE $P\nVOLUME ${D}/data\nLABEL "k$U"="v ${D}"\n',
      want: [
        'env D=/app U=me P=8080',
        'run echo $D',
        'cmd $D',
        'entrypoint $D',
        'copy --chown=me src/ -> /app/',
        'user me',
        'expose 8080',
        'volume /app/data',
        'label kme=v /app',
      ],
    },
    {
      name: 'quotes are removed in expanded words',
      src: 'FROM a\nENV name="value value1" other=\'$x\'\n',
      want: ['env name=value value1 other=$x'],
    },
    {
      name: 'ARG must be declared in the stage; ENV wins over ARG',
      src: 'ARG V=global\nFROM a\nWORKDIR /$V\nARG V\nWORKDIR /$V\nENV V=env\nWORKDIR /$V\n',
      want: ['workdir /', 'arg V', 'workdir /global', 'env V=env', 'workdir /env'],
    },
    {
      name: '--build-arg overrides defaults, globally and in the stage',
      src: 'ARG V=global\nFROM a\nARG V\nARG W=def\nWORKDIR /$V/$W\n',
      opts: { buildArgs: { V: 'cli', W: 'cli2' } },
      want: ['arg V', 'arg W', 'workdir /cli/cli2'],
    },
    {
      name: 'predefined platform ARGs once declared',
      src: 'FROM a\nARG TARGETARCH\nARG BUILDPLATFORM\nWORKDIR /$TARGETARCH/$BUILDPLATFORM/${TARGETOS:-none}\n',
      opts: { targetPlatform: ARM64 },
      want: ['arg TARGETARCH', 'arg BUILDPLATFORM', 'workdir /arm64/linux/amd64/none'],
    },
    {
      name: 'RUN --mount values and COPY --from expand',
      src: 'FROM a AS b\nFROM a\nARG S=b\nRUN --mount=type=cache,target=/c/$S,from=$S make\nCOPY --from=$S /x /y\n',
      want: ['arg S', 'run make mount=type=cache,target=/c/b,from=b', 'copy --from=b /x -> /y'],
    },
    {
      name: 'backtick escape directive',
      src: '# escape=`\nFROM a\nENV P=C:\\x\nWORKDIR $P`$P\n',
      want: ['env P=C:\\x', 'workdir C:\\x$P'],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(show(resolve(c.src, c.opts)), c.want));

  it('COPY heredoc bodies expand unless the delimiter is quoted; <<- strips tabs', () => {
    const b = resolve('FROM a\nENV X=1\nCOPY <<EOF <<-"Q" /d/\n"$X" \\$X\nEOF\n\t$X\n\tQ\n');
    const copy = b.stages[0]!.instructions[1]!;
    assert.ok(copy.kind === 'copy');
    assert.deepEqual(
      copy.heredocs.map((h) => h.content),
      ['"1" $X\n', '$X\n'],
    );
  });
});

describe('stages and FROM', () => {
  it('FROM expands with global ARGs and predefined ARGs; --platform too', () => {
    const b = resolve('ARG IMG=alpine\nARG TAG\nFROM --platform=$BUILDPLATFORM ${IMG}:${TAG:-3} AS x\nRUN true\n', { buildArgs: { TAG: '3.20' } });
    const s = b.stages[0]!;
    assert.deepEqual([s.from.image, s.platform, s.base], ['alpine:3.20', 'linux/amd64', { kind: 'image', ref: 'alpine:3.20' }]);
  });
  it('stage bases, ENV inheritance and image ENV', () => {
    const b = resolve('FROM img AS base\nENV A=1\nFROM base AS mid\nENV B=$A$C\nFROM scratch\nCOPY --from=mid /a /b\n', {
      imageEnv: (ref) => (ref === 'img' ? ['C=c', 'PATH=/bin'] : undefined),
    });
    assert.deepEqual(
      b.stages.map((s) => [s.index, s.base.kind, s.dependsOn]),
      [
        [0, 'image', []],
        [1, 'stage', [0]],
        [2, 'scratch', [1]],
      ],
    );
    assert.deepEqual(
      [...b.stages[1]!.final.env],
      [
        ['C', 'c'],
        ['PATH', '/bin'],
        ['A', '1'],
        ['B', '1c'],
      ],
    );
  });
  it('only the stages the target needs, by name or index', () => {
    const src = 'FROM a AS one\nRUN x\nFROM b AS two\nRUN --mount=from=one,target=/m y\nFROM c AS three\nCOPY --from=0 /a /a\n';
    assert.deepEqual(
      resolve(src, { target: 'two' }).stages.map((s) => s.index),
      [0, 1],
    );
    assert.deepEqual(
      resolve(src, { target: 'THREE' }).stages.map((s) => s.index),
      [0, 2],
    );
    assert.deepEqual(
      resolve(src, { target: '0' }).stages.map((s) => s.index),
      [0],
    );
    assert.equal(resolve(src).target, 2);
  });
  it('errors in stages the target does not need are not reported', () => {
    const src = 'FROM a AS ok\nRUN x\nFROM b AS broken\nWORKDIR ${MISSING:?must be set}\n';
    assert.equal(resolve(src, { target: 'ok' }).stages.length, 1);
    assert.throws(
      () => resolve(src),
      (e) => e instanceof BerthError && e.code === 'SYNTAX' && e.position?.line === 4 && /must be set/.test(e.message),
    );
  });
  it('unknown target', () => {
    assert.throws(
      () => resolve('FROM a AS x\n', { target: 'y' }),
      (e) => e instanceof BerthError && e.code === 'NOT_FOUND' && /stages: x/.test(e.hint ?? ''),
    );
  });
  it('a cycle through COPY --from is an error', () => {
    assert.throws(
      () => resolve('FROM a AS x\nCOPY --from=y /a /a\nFROM b AS y\nCOPY --from=x /b /b\n'),
      (e) => e instanceof BerthError && /circular dependency/.test(e.message),
    );
  });
  it('COPY --from its own stage is an error', () => {
    assert.throws(
      () => resolve('FROM a AS x\nCOPY --from=x /a /a\n'),
      (e) => e instanceof BerthError && e.position?.line === 2,
    );
  });
});

describe('scope, proxies and unused build args', () => {
  it('each instruction carries the scope before it; RUN gets proxies, ARGs and ENV', () => {
    const b = resolve('FROM a\nARG V=1\nENV V=2 W=3\nRUN env\n', {
      buildArgs: { HTTP_PROXY: 'http://p', NOPE: 'x', BUILDKIT_INLINE_CACHE: '1', SOURCE_DATE_EPOCH: '0' },
    });
    const run = b.stages[0]!.instructions[2]!;
    assert.deepEqual([...run.scope.args], [['V', '1']]);
    assert.deepEqual(
      [...runEnvironment(run.scope, b.proxyArgs)],
      [
        ['HTTP_PROXY', 'http://p'],
        ['V', '2'],
        ['W', '3'],
      ],
    );
    assert.deepEqual(b.unusedBuildArgs, ['NOPE']);
  });
  it('instructions keep their node, position and original text', () => {
    const b = resolve('FROM a\nENV X=1\nWORKDIR \\\n  /$X\n');
    const w = b.stages[0]!.instructions[1]!;
    assert.deepEqual([w.node.startLine, w.node.endLine, w.node.original], [3, 4, 'WORKDIR   /$X']);
  });
});

describe('ML corpus: every stage of every file resolves as a target', () => {
  const ml = corpusDir('ml-dockerfiles');
  it('resolves', { skip: ml ? false : CORPUS_ABSENT }, async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    if (!ml) return;
    let stages = 0;
    let runs = 0;
    for (const f of readdirSync(ml).filter((x) => x.endsWith('Dockerfile'))) {
      const df = loadDockerfile(readFileSync(new URL(f, ml), 'utf8'), f);
      for (const s of df.stages) {
        const b = resolveBuild(df, { target: String(s.index), buildPlatform: AMD64, targetPlatform: ARM64 });
        assert.equal(b.stages.at(-1)!.index, s.index);
        stages++;
        for (const st of b.stages) for (const i of st.instructions) if (i.kind === 'run') runs++;
      }
    }
    console.log(`# ML corpus: ${stages} stages resolved (${runs} RUN steps walked)`);
    assert.ok(stages > 100);
  });
});
