/** BuildKit's check ruleset as tables: each rule fires on its positive case, with BuildKit's message, and not on its negative one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDockerfile } from '../../src/dockerfile/index.ts';
import { BUILDKIT_RULES } from '../../src/lint/buildkit/index.ts';
import { checkOptions, lint } from '../../src/lint/index.ts';
import type { Finding, LintInput } from '../../src/lint/types.ts';

async function findings(src: string, extra: Partial<LintInput> = {}): Promise<Finding[]> {
  return lint({ file: 'Dockerfile', dockerfile: loadDockerfile(src, 'Dockerfile', { allowDuplicateStageNames: true }), ...extra });
}

const ignoring = (ignored: string[], hasExclusions = false): LintInput['context'] => ({
  dir: '/x',
  hasDockerignore: true,
  hasExclusions,
  isIgnored: (p) => ignored.some((i) => p === i || p.startsWith(`${i}/`)),
  sizeBytes: async () => 0,
});

// [rule, fires on, the message it gives, stays quiet on, extra input]. Where a berth rule covers
// the BuildKit rule (and would speak for it), the case skips the berth rule.
const table: Array<[string, string, string, string, Partial<LintInput>?]> = [
  ['StageNameCasing', 'FROM a:1 AS Builder\n', "Stage name 'Builder' should be lowercase", 'FROM a:1 AS builder\n'],
  ['FromAsCasing', 'FROM a:1 as b\n', "'as' and 'FROM' keywords' casing do not match", 'FROM a:1 AS b\nfrom b as c\n'],
  ['FromAsCasing', 'from a:1 AS b\n', "'AS' and 'from' keywords' casing do not match", 'From a:1 as b\n'],
  [
    'ConsistentInstructionCasing',
    'FROM a:1\nRUN x\nrun y\n',
    "Command 'run' should match the case of the command majority (uppercase)",
    'from a:1\nrun x\nrun y\n',
  ],
  ['ConsistentInstructionCasing', 'from a:1\nrun x\nRun y\n', "Command 'Run' should match the case of the command majority (lowercase)", 'FROM a:1\nRUN x\n'],
  ['DuplicateStageName', 'FROM a:1 AS b\nFROM c:1 AS b\n', 'Duplicate stage name "b", stage names should be unique', 'FROM a:1 AS b\nFROM c:1 AS d\n'],
  ['ReservedStageName', 'FROM a:1 AS scratch\n', 'Stage name should not use the same name as reserved stage "scratch"', 'FROM a:1 AS scratchy\n'],
  ['ReservedStageName', 'FROM a:1 AS context\n', 'Stage name should not use the same name as reserved stage "context"', 'FROM scratch\n'],
  [
    'UndefinedArgInFrom',
    'ARG VERSION=1\nFROM a:$VERSIN\n',
    "FROM argument 'VERSIN' is not declared (did you mean VERSION?)",
    'ARG VERSION=1\nFROM a:$VERSION\n',
  ],
  ['UndefinedArgInFrom', 'FROM --platform=$PLATFORM a:1\n', "FROM argument 'PLATFORM' is not declared", 'FROM --platform=$BUILDPLATFORM a:1\n'],
  ['UndefinedArgInFrom', 'FROM a:${TAG}\n', "FROM argument 'TAG' is not declared", 'ARG TAG\nFROM a:${TAG}\n'],
  [
    'InvalidDefaultArgInFrom',
    'ARG TAG\nFROM busybox:${TAG}\n',
    'Default value for ARG busybox:${TAG} results in empty or invalid base image name',
    'ARG TAG=1.36\nFROM busybox:${TAG}\n',
  ],
  [
    'InvalidDefaultArgInFrom',
    'ARG IMAGE\nFROM $IMAGE\n',
    'Default value for ARG $IMAGE results in empty or invalid base image name',
    'ARG IMAGE=busybox\nFROM $IMAGE\n',
  ],
  ['UndefinedVar', 'FROM scratch\nCOPY $SRC /x\n', "Usage of undefined variable '$SRC'", 'FROM scratch\nARG SRC\nCOPY $SRC /x\n'],
  [
    'UndefinedVar',
    'FROM scratch\nENV PATH=$PAHT:/app/bin\n',
    "Usage of undefined variable '$PAHT' (did you mean $PATH?)",
    'FROM scratch\nENV PATH=$PATH:/app/bin\nRUN echo $UNSET\nCMD echo $UNSET\n',
  ],
  [
    'UndefinedVar',
    'FROM scratch\nWORKDIR /src/$TARGETARCH\n',
    "Usage of undefined variable '$TARGETARCH'",
    'FROM scratch\nARG TARGETARCH\nWORKDIR /src/$TARGETARCH\n',
  ],
  [
    'UndefinedVar',
    'FROM scratch AS base\nENV A=1\nFROM base\nUSER $B\n',
    "Usage of undefined variable '$B' (did you mean $A?)",
    'FROM scratch AS base\nENV APP_USER=app\nFROM base\nUSER $APP_USER\n',
  ],
  [
    'UndefinedVar',
    'FROM busybox:1\nUSER $APP_USR\n',
    "Usage of undefined variable '$APP_USR' (did you mean $APP_USER?)",
    'FROM unknown.example/img:1\nUSER $FROM_THE_IMAGE\n',
    { baseImage: async (ref) => (ref === 'busybox:1' ? { env: ['APP_USER'], platform: 'linux/amd64' } : undefined) },
  ],
  ['NoEmptyContinuation', 'FROM a:1\nRUN echo a \\\n\n  b\n', 'Empty continuation line', 'FROM a:1\nRUN echo a \\\n  b\n'],
  [
    'LegacyKeyValueFormat',
    'FROM a:1\nENV A b\n',
    '"ENV key=value" should be used instead of legacy "ENV key value" format',
    'FROM a:1\nENV A=b C="d e"\nLABEL k=v\n',
  ],
  [
    'LegacyKeyValueFormat',
    'FROM a:1\nLABEL maintainer me\n',
    '"LABEL key=value" should be used instead of legacy "LABEL key value" format',
    'FROM a:1\nLABEL maintainer=me\n',
  ],
  [
    'ExposeProtoCasing',
    'FROM a:1\nEXPOSE 80/TCP\n',
    "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
    'FROM a:1\nEXPOSE 80/tcp 53/udp 8080\n',
  ],
  [
    'ExposeInvalidFormat',
    'FROM a:1\nEXPOSE 127.0.0.1:80:80\n',
    "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
    'FROM a:1\nEXPOSE 80 ${PORT:-7860}\n',
  ],
  [
    'ExposeInvalidFormat',
    'FROM a:1\nEXPOSE 8080:80\n',
    "EXPOSE instruction should not define an IP address or host-port mapping, found '8080:80'",
    'FROM a:1\nEXPOSE 8080\n',
  ],
  [
    'RedundantTargetPlatform',
    'FROM --platform=$TARGETPLATFORM a:1\n',
    'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
    'FROM --platform=$BUILDPLATFORM a:1\n',
  ],
  [
    'RedundantTargetPlatform',
    'FROM --platform=${TARGETPLATFORM} a:1\n',
    'Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior',
    'FROM --platform=${TARGETPLATFORM:-linux/amd64}/x a:1\n',
  ],
  [
    'MultipleInstructionsDisallowed',
    'FROM a:1\nCMD ["a"]\nCMD ["b"]\n',
    'Multiple CMD instructions should not be used in the same stage because only the last one will be used',
    'FROM a:1\nCMD ["a"]\nFROM a:1\nCMD ["b"]\n',
  ],
  [
    'MultipleInstructionsDisallowed',
    'FROM a:1\nHEALTHCHECK NONE\nHEALTHCHECK CMD ["true"]\n',
    'Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used',
    'FROM a:1\nHEALTHCHECK CMD ["true"]\nENTRYPOINT ["x"]\n',
  ],
  [
    'SecretsUsedInArgOrEnv',
    '# check=skip=BL010\nFROM a:1\nARG GITHUB_TOKEN\n',
    'Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")',
    'FROM a:1\nARG TOKEN_FILE\nARG PUBLIC_KEY\n',
  ],
  [
    'SecretsUsedInArgOrEnv',
    '# check=skip=BL010\nFROM a:1\nENV aws_secret=x\n',
    'Do not use ARG or ENV instructions for sensitive data (ENV "aws_secret")',
    'FROM a:1\nENV KEYBOARD=us SECRETARY=x\n',
  ],
  [
    'CopyIgnoredFile',
    '# check=skip=BL018\nFROM a:1\nCOPY ./data/train.csv /d/\n',
    'Attempting to Copy file "data/train.csv" that is excluded by .dockerignore',
    'FROM a:1\nCOPY src /app/\nCOPY --from=b /data/x /y\n',
    { context: ignoring(['data']) },
  ],
  [
    'CopyIgnoredFile',
    '# check=skip=BL018\nFROM a:1\nADD secret.txt /s\n',
    'Attempting to Add file "secret.txt" that is excluded by .dockerignore',
    'FROM a:1\nADD app.txt /s\n',
    { context: ignoring(['secret.txt']) },
  ],
  [
    'WorkdirRelativePath',
    '# check=skip=BL011\nFROM a:1\nWORKDIR app\n',
    'Relative workdir "app" can have unexpected results if the base image changes',
    'FROM a:1\nWORKDIR /srv\nWORKDIR app\n',
  ],
  [
    'JSONArgsRecommended',
    'FROM a:1\n# check=skip=BL013\nENTRYPOINT my-app\n',
    'JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals',
    'FROM a:1\nSHELL ["/bin/bash", "-c"]\nENTRYPOINT my-app\n',
  ],
  [
    'MaintainerDeprecated',
    'FROM a:1\n# check=skip=BL014\nMAINTAINER me\n',
    'Maintainer instruction is deprecated in favor of using label',
    'FROM a:1\nLABEL org.opencontainers.image.authors=me\n',
  ],
  [
    'InvalidBaseImagePlatform',
    'FROM --platform=linux/arm64 busybox:1\n',
    'Base image busybox:1 was pulled with platform "linux/amd64", expected "linux/arm64" for current build',
    'FROM --platform=linux/amd64 busybox:1\nFROM scratch\n',
    { baseImage: async (ref) => (ref === 'busybox:1' ? { env: [], platform: 'linux/amd64' } : undefined) },
  ],
  [
    'InvalidBaseImagePlatform',
    'FROM busybox:1\n',
    'Base image busybox:1 was pulled with platform "linux/amd64", expected "linux/riscv64" for current build',
    'FROM other:1\n',
    { targetPlatform: 'linux/riscv64', baseImage: async (ref) => (ref === 'busybox:1' ? { env: [], platform: 'linux/amd64' } : undefined) },
  ],
  [
    'FromPlatformFlagConstDisallowed',
    'FROM --platform=linux/amd64 a:1 AS build\n# check=skip=BL016\nFROM --platform=linux/arm64 a:1 AS build2\n',
    'FROM --platform flag should not use constant value "linux/arm64"',
    'FROM --platform=linux/amd64 a:1 AS build-amd64\n',
  ],
];

describe('BuildKit check rules: positive and negative cases', () => {
  for (const [rule, bad, message, good, extra] of table) {
    it(`${rule}: ${JSON.stringify(bad).slice(0, 70)}`, async () => {
      const hits = (await findings(bad, extra)).filter((f) => f.ruleId === rule);
      assert.ok(
        hits.some((f) => f.message === message),
        `${rule} should say ${message}; got ${JSON.stringify(hits.map((h) => h.message))}`,
      );
      // Every rule has a page on docs.docker.com but InvalidBaseImagePlatform, as in BuildKit.
      assert.ok(
        hits.every(
          (f) =>
            f.severity === 'warning' &&
            (rule === 'InvalidBaseImagePlatform' ? f.url === undefined : f.url?.startsWith('https://docs.docker.com/go/dockerfile/rule/')),
        ),
      );
      const quiet = (await findings(good, extra)).filter((f) => f.ruleId === rule);
      assert.deepEqual(
        quiet.map((f) => f.message),
        [],
        `${rule} should not fire`,
      );
    });
  }
  it('covers every BuildKit rule', () => assert.deepEqual([...new Set(table.map((r) => r[0]))].sort(), BUILDKIT_RULES.map((r) => r.id).sort()));
});

describe('where BuildKit places a finding', () => {
  it('an empty continuation is reported on the instruction’s last line', async () => {
    const f = (await findings('FROM a:1\nRUN echo a \\\n\n  b\n')).find((x) => x.ruleId === 'NoEmptyContinuation');
    assert.equal(f?.line, 4);
  });
  it('a repeated CMD is reported where the ignored one is', async () => {
    const f = (await findings('FROM a:1\nCMD ["a"]\nRUN x\nCMD ["b"]\n')).find((x) => x.ruleId === 'MultipleInstructionsDisallowed');
    assert.equal(f?.line, 2);
  });
  it('only a stage’s first relative WORKDIR is reported', async () => {
    const f = (await findings('# check=skip=BL011\nFROM a:1\nWORKDIR app\nWORKDIR sub\n')).filter((x) => x.ruleId === 'WorkdirRelativePath');
    assert.deepEqual(
      f.map((x) => x.line),
      [3],
    );
  });
  it('an ENV sees the values before it, not its own', async () => {
    const f = (await findings('FROM scratch\nENV A=1 B=$A\nENV C=$A\n')).filter((x) => x.ruleId === 'UndefinedVar');
    assert.deepEqual(
      f.map((x) => x.line),
      [2],
    );
  });
  it('an unknown base image leaves UndefinedVar quiet (its ENV is not known)', async () => {
    assert.deepEqual(
      (await findings('FROM python:3.12\nENV P=$PYTHON_VERSION\n')).filter((x) => x.ruleId === 'UndefinedVar'),
      [],
    );
  });
  it('a .dockerignore with ! exceptions is not judged statically', async () => {
    const f = await findings('FROM a:1\nCOPY data/x /x\n', { context: ignoring(['data'], true) });
    assert.ok(!f.some((x) => x.ruleId === 'CopyIgnoredFile'));
  });
});

describe('the check directive', () => {
  it('skip= names BuildKit rules; skip=all silences every rule', async () => {
    const src = 'FROM a:1 as b\nMAINTAINER me\n';
    assert.ok(!(await findings(`# check=skip=FromAsCasing\n${src}`)).some((f) => f.ruleId === 'FromAsCasing'));
    assert.ok((await findings(`# check=skip=FromAsCasing\n${src}`)).some((f) => f.ruleId === 'BL014'));
    assert.deepEqual(await findings(`# check=skip=all\n${src}`), []);
  });
  it('skip of a BuildKit rule skips the berth rule that covers it', async () => {
    const f = await findings('# check=skip=MaintainerDeprecated\nFROM a:1\nMAINTAINER me\n');
    assert.ok(!f.some((x) => x.ruleId === 'BL014' || x.ruleId === 'MaintainerDeprecated'));
  });
  it('error=true makes every warning an error; options are separated by ;', async () => {
    const src = '# check=skip=BL001;error=true\nFROM a as b\n';
    assert.deepEqual(checkOptions(loadDockerfile(src)).error, true);
    const f = await findings(src);
    assert.equal(f.find((x) => x.ruleId === 'FromAsCasing')?.severity, 'error');
    assert.ok(!f.some((x) => x.ruleId === 'BL001'));
  });
  it('error=false and a malformed value change nothing', async () => {
    assert.equal(checkOptions(loadDockerfile('# check=error=false\nFROM a:1\n')).error, false);
    assert.equal(checkOptions(loadDockerfile('# check=nonsense\nFROM a:1\n')).error, false);
  });
  it('a # check=skip= comment above an instruction silences it there only', async () => {
    const f = await findings('FROM a:1\n# check=skip=LegacyKeyValueFormat\nENV A b\nENV C d\n');
    assert.deepEqual(
      f.filter((x) => x.ruleId === 'LegacyKeyValueFormat').map((x) => x.line),
      [4],
    );
  });
  it('a berth rule that covers a BuildKit rule speaks for both on that line', async () => {
    const f = await findings('FROM a:1\nUSER a\nMAINTAINER me\n');
    assert.ok(f.some((x) => x.ruleId === 'BL014' && x.severity === 'warning'));
    assert.ok(!f.some((x) => x.ruleId === 'MaintainerDeprecated'));
  });
  it('ADD of a local file is a warning', async () => {
    const f = await findings('FROM a:1\nADD app.py /app/\n');
    assert.equal(f.find((x) => x.ruleId === 'BL009')?.severity, 'warning');
  });
});

describe('hostile input', () => {
  it('a malformed check directive skips nothing and fails nothing', async () => {
    const src = '# check=skip=;error=maybe;x=y;;=\nFROM a:1 as b\n';
    assert.equal(checkOptions(loadDockerfile(src)).error, false);
    assert.ok((await findings(src)).some((f) => f.ruleId === 'FromAsCasing'));
  });
  it('words the shell cannot expand are left to the build, not a crash', async () => {
    const src = 'ARG X=${\nFROM a:${X\nFROM scratch\nENV A=${B\nCOPY ${C /d\nEXPOSE ${P:-80:80\n';
    await assert.doesNotReject(findings(src));
  });
  it('a COPY source that climbs out of the context is judged as cleaned, never read', async () => {
    const seen: string[] = [];
    const context = {
      ...ignoring([]),
      isIgnored: (p: string) => {
        seen.push(p);
        return false;
      },
    } as LintInput['context'];
    await findings('# check=skip=BL018\nFROM a:1\nCOPY ../../etc/passwd /x\nCOPY /abs/./x /y\n', { context });
    assert.ok(
      seen.every((p) => !p.startsWith('/') && !p.split('/').includes('..')),
      JSON.stringify(seen),
    );
  });
  it('control characters and long names in EXPOSE and ARG stay text', async () => {
    const long = 'A'.repeat(5000);
    const f = await findings(`FROM a:1\nEXPOSE 80/T\u0007CP\nARG ${long}_TOKEN\n`);
    assert.ok(f.some((x) => x.ruleId === 'ExposeProtoCasing'));
  });
});
