/**
 * What a failing build shows, and which progress view a build picks: the failing step marked
 * ERROR, the last lines of its output and the Dockerfile lines around it (BuildKit's `>>>`
 * markers), in plain mode and on a terminal (clipped to its height, times right-aligned,
 * colour when it has it); BUILDKIT_PROGRESS and --progress; `build --check` as docker's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, type BerthResult, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { onTerminal } from '../helpers/pty.ts';

/** Escape characters shown as <ESC>, so that patterns can name them. */
const visible = (s: string) => s.split('\x1b').join('<ESC>');

const t = tempRoot('berth-failview-');
const dirs = mkdtempSync(join(tmpdir(), 'berth-failview-ctx-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.cleanup();
  rmSync(dirs, { recursive: true, force: true });
});

function context(name: string, dockerfile: string, extra: Record<string, string> = {}): string {
  const dir = join(dirs, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  for (const [f, body] of Object.entries(extra)) writeFileSync(join(dir, f), body);
  return dir;
}

// Fifteen numbered lines, then a failure: the block keeps the last ten.
const failing = context('failing', 'FROM bb:1\nUSER 1000\nRUN for i in $(seq 1 15); do echo line$i; done; \\\n    exit 3\nENV AFTER=1\n');

let plainWithEnv: BerthResult;

describe('a failing step in plain mode', () => {
  before(() => {
    plainWithEnv = t.run(['build', '--progress', 'plain', failing], { env: { BUILDKIT_PROGRESS: 'rawjson' } });
  });
  const r = {
    get stderr() {
      return plainWithEnv.stderr;
    },
    get code() {
      return plainWithEnv.code;
    },
  };
  it('exits non-zero and marks the step ERROR with its message', () => {
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /#3 ERROR: process "\/bin\/sh -c .*" did not complete successfully: exit code: 3/);
  });
  it('shows the step and the last ten lines of its output between dashes', () => {
    const block = /------\n > \[stage-0 2\/3\] RUN for i in[^\n]*:\n((?:[\d.]+ [^\n]*\n)*)------\n/.exec(r.stderr);
    assert.ok(block, r.stderr);
    const lines = block[1]!.trimEnd().split('\n');
    assert.equal(lines.length, 10);
    assert.match(lines[0]!, /^\d\.\d{3} line6$/);
    assert.match(lines[9]!, /^\d\.\d{3} line15$/);
  });
  it('shows the Dockerfile lines around the instruction with >>> on its lines, as BuildKit prints them', () => {
    const want = [
      'Dockerfile:3',
      '--------------------',
      '   2 |     USER 1000',
      '   3 | >>> RUN for i in $(seq 1 15); do echo line$i; done; \\',
      '   4 | >>>     exit 3',
      '   5 |     ENV AFTER=1',
      '--------------------',
    ].join('\n');
    assert.ok(r.stderr.includes(want), r.stderr);
  });
});

describe('BUILDKIT_PROGRESS and --progress', () => {
  const ok = context('ok', 'FROM bb:1\nUSER 1000\n');
  it('BUILDKIT_PROGRESS=rawjson gives one JSON event a line, the error with its lines', () => {
    const r = t.run(['build', failing], { env: { BUILDKIT_PROGRESS: 'rawjson' } });
    assert.notEqual(r.code, 0);
    const events = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { kind: string; lines?: { start: number; end: number } });
    const err = events.find((e) => e.kind === 'step-error');
    assert.deepEqual(err?.lines, { start: 3, end: 4 });
    assert.doesNotMatch(r.stderr, /^#\d/m);
  });
  it('--progress wins over BUILDKIT_PROGRESS', () => {
    // The plain-mode build above ran with BUILDKIT_PROGRESS=rawjson in its environment.
    assert.match(plainWithEnv.stderr, /^#3 \[stage-0 2\/3\] RUN for i in/m);
    assert.doesNotMatch(plainWithEnv.stderr, /^\{"kind"/m);
  });
  it('an unknown mode is refused', () => {
    const bad = t.run(['build', '--progress', 'fancy', ok]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid progress mode "fancy"/);
  });
});

describe('on a terminal', () => {
  // Twelve steps and a slow one: the live view has more steps than the terminal has rows.
  const many = context('many', `FROM bb:1\nUSER 1000\n${Array.from({ length: 10 }, (_, i) => `ENV V${i}=${i}`).join('\n')}\nRUN sleep 0.6; echo out; exit 1\n`);
  const size = { rows: 8, columns: 70 };
  let r: { code: number; screen: string };
  let frames: string[];
  before(() => {
    r = onTerminal(
      [BERTH, '--root', t.root, 'build', many],
      [],
      { CI: undefined, TERM: 'xterm-256color', NO_COLOR: undefined, FORCE_COLOR: undefined, BUILDKIT_PROGRESS: undefined },
      size,
    );
    // Each redraw starts with "cursor up N lines, clear to the end"; the last frame is the summary.
    frames = visible(r.screen).split(/<ESC>\[\d+F<ESC>\[J/);
  });
  const plainText = (s: string) => s.replace(/<ESC>\[[0-9;]*m/g, '');
  it('is the tty view by default, with the failing step marked ERROR in red', () => {
    assert.notEqual(r.code, 0);
    assert.match(r.screen, /\[\+\] Building/);
    assert.match(visible(r.screen), /<ESC>\[31m => ERROR \[stage-0 12\/12\] RUN sleep 0\.6; echo out; exit 1 +\d+\.\ds<ESC>\[0m/);
    assert.match(visible(r.screen), /<ESC>\[34m => \[stage-0 1\/12\] USER 1000 +\d+\.\ds<ESC>\[0m/);
  });
  it('clips the live view to the terminal height and keeps every step in the summary', () => {
    assert.ok(frames.length > 2, `expected redraws, got ${frames.length}`);
    for (const f of frames.slice(0, -1)) {
      const lines = f.split('\r\n').filter((l) => l.length);
      assert.ok(lines.length <= size.rows - 1, `a live frame has ${lines.length} lines:\n${plainText(f)}`);
    }
    const summary = plainText(frames.at(-1)!);
    for (let i = 0; i < 10; i++) assert.ok(summary.includes(`ENV V${i}=${i}`), `step ENV V${i} missing from the summary`);
  });
  it('right-aligns each step’s time at the terminal’s last column but one', () => {
    const steps = plainText(frames.at(-1)!)
      .split('\r\n')
      .filter((l) => l.startsWith(' => '));
    assert.ok(steps.length >= 12);
    for (const l of steps) {
      assert.match(l, /\d+\.\ds$/);
      assert.equal(l.length, size.columns - 1, JSON.stringify(l));
    }
  });
  it('then the failing step’s block and the Dockerfile lines', () => {
    const text = plainText(visible(r.screen)).replace(/\r\n/g, '\n');
    assert.match(text, /------\n > \[stage-0 12\/12\] RUN sleep 0\.6; echo out; exit 1:\n\d\.\d{3} out\n------\n/);
    assert.match(text, / {2}13 \| >>> RUN sleep 0\.6; echo out; exit 1\n/);
  });
});

describe('build --check', () => {
  const flagged = context('flagged', 'FROM bb:1 as base\nUSER 1000\nCMD ["sh"]\nCMD ["sh"]\n');
  it('reports as docker build --check does, exits 1 and builds nothing', () => {
    const r = t.run(['build', '--check', '-t', 'checked:1', flagged]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^Check complete, 2 warnings have been found!\n/);
    assert.ok(
      r.stdout.includes(
        [
          '',
          'WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
          "'as' and 'FROM' keywords' casing do not match",
          'Dockerfile:1',
          '--------------------',
          '   1 | >>> FROM bb:1 as base',
          '   2 |     USER 1000',
          '   3 |     CMD ["sh"]',
          '--------------------',
        ].join('\n'),
      ),
      r.stdout,
    );
    assert.match(
      r.stdout,
      /WARNING: MultipleInstructionsDisallowed - .*\nMultiple CMD instructions should not be used in the same stage because only the last one will be used\nDockerfile:3\n/,
    );
    assert.doesNotMatch(r.stderr, /#\d+ \[/, 'no step ran');
    assert.notEqual(t.run(['image', 'inspect', 'checked:1']).code, 0);
  });
  it('exits 0 on a clean Dockerfile, and # check=skip= silences rules', () => {
    const clean = context('clean', '# check=skip=FromAsCasing,MultipleInstructionsDisallowed\nFROM bb:1 as base\nUSER 1000\nCMD ["sh"]\nCMD ["sh"]\n');
    const r = t.run(['build', '--check', clean]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Check complete, no warnings found/);
  });
  it('knows a base image in the store: its platform and its ENV', () => {
    const based = context('based', 'FROM bb:1\nUSER $APP_USR\n');
    const r = t.run(['build', '--check', '--platform', 'linux/riscv64', based]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /\nWARNING: InvalidBaseImagePlatform\nBase image bb:1 was pulled with platform "linux\/[a-z0-9]+", expected "linux\/riscv64" for current build\n/,
    );
    assert.match(r.stdout, /\nUsage of undefined variable '\$APP_USR'\nDockerfile:2\n/);
  });
  it('# check=error=true stops a plain build before any step runs', () => {
    const strict = context('strict', '# check=error=true\nFROM bb:1 as base\nUSER 1000\nRUN echo ran-a-step\n');
    const r = t.run(['build', '--progress', 'plain', strict]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /lint violation found for rules: FromAsCasing/);
    assert.doesNotMatch(r.stderr, /ran-a-step/);
  });
});
