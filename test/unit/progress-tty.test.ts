/** The build's views as data: BuildKit's source snippet, the failing step's block, the tty view's layout, and which view a build picks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressMode, progressRenderer } from '../../src/progress/index.ts';
import { failureRecorder, logTime } from '../../src/progress/failure.ts';
import { sourceSnippet } from '../../src/progress/source.ts';
import { ttyRenderer } from '../../src/progress/tty.ts';

/** Escape characters shown as <ESC>, so that patterns can name them. */
const visible = (s: string) => s.split('\x1b').join('<ESC>');

const SRC = 'FROM a\nRUN one\nRUN two \\\n  three\nENV X=1\nUSER u\nCMD ["x"]\n';

describe('sourceSnippet', () => {
  // [start, end, the lines shown (number and marker)]
  const table: Array<[number, number, string[]]> = [
    [2, 2, ['   1 |     FROM a', '   2 | >>> RUN one', '   3 |     RUN two \\', '   4 |       three']],
    [1, 1, ['   1 | >>> FROM a', '   2 |     RUN one', '   3 |     RUN two \\']],
    [3, 4, ['   2 |     RUN one', '   3 | >>> RUN two \\', '   4 | >>>   three', '   5 |     ENV X=1']],
    [7, 7, ['   5 |     ENV X=1', '   6 |     USER u', '   7 | >>> CMD ["x"]', '   8 |     ']],
  ];
  for (const [start, end, lines] of table) {
    it(`lines ${start}-${end}`, () => {
      assert.equal(
        sourceSnippet('Dockerfile', SRC, start, end),
        [`Dockerfile:${start}`, '--------------------', ...lines, '--------------------', ''].join('\n'),
      );
    });
  }
  it('a line outside the file gives nothing', () => {
    assert.equal(sourceSnippet('Dockerfile', SRC, 0), '');
    assert.equal(sourceSnippet('Dockerfile', SRC, 99), '');
  });
});

describe('failureRecorder', () => {
  it('keeps the last ten lines of a failing step, with their times, and the lines around it', () => {
    let clock = 1000;
    const seen: string[] = [];
    const rec = failureRecorder({ emit: (ev) => seen.push(ev.kind) }, () => clock);
    rec.emit({ kind: 'step-start', step: 1, name: '[stage-0 1/2] RUN one' });
    rec.emit({ kind: 'step-done', step: 1, seconds: 0 });
    rec.emit({ kind: 'step-start', step: 2, name: '[stage-0 2/2] RUN two' });
    clock += 1500;
    rec.emit({ kind: 'step-log', step: 2, stream: 'stdout', text: Array.from({ length: 12 }, (_, i) => `l${i}`).join('\n') });
    rec.emit({ kind: 'step-error', step: 2, message: 'exit code: 1', lines: { start: 3, end: 4 } });
    const report = rec.report({ name: 'Dockerfile', content: SRC });
    assert.ok(report.startsWith('------\n > [stage-0 2/2] RUN two:\n1.500 l2\n'), report);
    assert.ok(report.includes('1.500 l11\n------\nDockerfile:3\n'), report);
    assert.ok(!report.includes('l1\n'));
    assert.deepEqual(seen, ['step-start', 'step-done', 'step-start', 'step-log', 'step-error']);
  });
  it('reports nothing when no step failed', () => {
    const rec = failureRecorder({ emit: () => undefined });
    rec.emit({ kind: 'step-start', step: 1, name: 'x' });
    assert.equal(rec.report(), '');
  });
  it('gives log times BuildKit’s precision', () => {
    assert.deepEqual([logTime(0.1234), logTime(12.345), logTime(123.45)], ['0.123', '12.35', '123.5']);
  });
});

describe('ttyRenderer', () => {
  function view(opts: { rows: number; columns: number; color: boolean }) {
    let clock = 0;
    let screen = '';
    const r = ttyRenderer((s) => void (screen += s), { size: { rows: () => opts.rows, columns: () => opts.columns }, color: opts.color, now: () => clock });
    return { r, tick: (ms: number) => void (clock += ms), screen: () => screen };
  }
  it('the summary lists every step with its time right-aligned and ERROR before the failed one', () => {
    const v = view({ rows: 5, columns: 50, color: false });
    for (let i = 1; i <= 6; i++) {
      v.r.emit({ kind: 'step-start', step: i, name: `[stage-0 ${i}/6] ENV A=${i}` });
      v.tick(1200);
      v.r.emit(i === 6 ? { kind: 'step-error', step: i, message: 'boom' } : { kind: i === 1 ? 'step-cached' : 'step-done', step: i, seconds: 1.2 });
    }
    v.r.finish();
    const lines = v
      .screen()
      .split('\n')
      .filter((l) => l.startsWith(' => '));
    assert.equal(lines.length, 6);
    for (const l of lines) assert.equal(l.length, 49, JSON.stringify(l));
    assert.match(lines[0]!, /^ => CACHED \[stage-0 1\/6\] ENV A=1 +0\.0s$/);
    assert.match(lines[1]!, /^ => \[stage-0 2\/6\] ENV A=2 +1\.2s$/);
    assert.match(lines[5]!, /^ => ERROR \[stage-0 6\/6\] ENV A=6 +1\.2s$/);
    assert.match(v.screen(), /\[\+\] Building 7\.2s \(6\/6\) FINISHED\n/);
    assert.doesNotMatch(visible(v.screen()), /<ESC>\[3\dm/);
    v.r.finish();
    assert.equal(v.screen().split('FINISHED').length, 2, 'finish twice draws once');
  });
  it('colours finished steps blue, a failed one red and output faint, when the terminal has colour', async () => {
    const v = view({ rows: 20, columns: 60, color: true });
    v.r.emit({ kind: 'step-start', step: 1, name: 'RUN a' });
    v.r.emit({ kind: 'step-done', step: 1, seconds: 0 });
    v.r.emit({ kind: 'step-start', step: 2, name: 'RUN b' });
    v.r.emit({ kind: 'step-log', step: 2, stream: 'stdout', text: 'working\n' });
    await new Promise((res) => setTimeout(res, 150));
    assert.match(visible(v.screen()), /<ESC>\[2m => => # working<ESC>\[0m/);
    v.r.emit({ kind: 'step-error', step: 2, message: 'x' });
    v.r.finish();
    assert.match(visible(v.screen()), /<ESC>\[34m => RUN a +0\.0s<ESC>\[0m/);
    assert.match(visible(v.screen()), /<ESC>\[31m => ERROR RUN b +0\.0s<ESC>\[0m/);
  });
  it('the live view fits the terminal: finished steps scroll off, running ones stay', async () => {
    const v = view({ rows: 6, columns: 40, color: false });
    v.r.emit({ kind: 'step-start', step: 1, name: 'RUN slow' });
    for (let i = 2; i <= 10; i++) {
      v.r.emit({ kind: 'step-start', step: i, name: `ENV N=${i}` });
      v.r.emit({ kind: 'step-done', step: i, seconds: 0 });
    }
    await new Promise((res) => setTimeout(res, 150));
    const frame = v.screen().trimEnd().split('\n');
    assert.ok(frame.length <= 5, frame.join('\n'));
    assert.ok(
      frame.some((l) => l.includes('RUN slow')),
      'the running step stays in view',
    );
    assert.ok(frame.some((l) => l.includes('ENV N=10')));
    assert.ok(!frame.some((l) => l.includes('ENV N=2 ')));
    v.r.emit({ kind: 'step-done', step: 1, seconds: 1 });
    v.r.finish();
  });
});

describe('progressMode', () => {
  // [--progress, BUILDKIT_PROGRESS, on a terminal, the mode]
  const table: Array<[string, string | undefined, boolean, string]> = [
    ['auto', undefined, true, 'tty'],
    ['auto', undefined, false, 'plain'],
    ['auto', 'plain', true, 'plain'],
    ['auto', 'RAWJSON', true, 'rawjson'],
    ['auto', 'tty', false, 'tty'],
    ['auto', 'auto', false, 'plain'],
    ['auto', '', true, 'tty'],
    ['plain', 'rawjson', true, 'plain'],
    ['quiet', 'tty', true, 'quiet'],
  ];
  for (const [flag, env, terminal, want] of table)
    it(`--progress ${flag}, BUILDKIT_PROGRESS=${env}, terminal ${terminal}: ${want}`, () => assert.equal(progressMode(flag, env, terminal), want));
  it('refuses an unknown mode, from either', () => {
    assert.throws(() => progressMode('fancy', undefined, true), /invalid progress mode "fancy"/);
    assert.throws(() => progressMode('auto', 'x\n', true), /invalid BUILDKIT_PROGRESS/);
  });
  it('plain prints a failing step as #N ERROR', () => {
    let out = '';
    const p = progressRenderer('plain', (s) => void (out += s));
    p.emit({ kind: 'step-start', step: 4, name: '[stage-0 1/1] RUN x' });
    p.emit({ kind: 'step-error', step: 4, message: 'exit code: 2' });
    assert.equal(out, '#4 [stage-0 1/1] RUN x\n#4 ERROR: exit code: 2\n');
  });
});
