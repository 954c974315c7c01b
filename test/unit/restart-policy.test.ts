/** Restart policies and health checks, the pure parts: docker's syntax, checks and decisions, table by table. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { alive } from '../../src/container/restart-state.ts';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applyProbeResult,
  formatGoDuration,
  healthFromFlags,
  healthSchedule,
  mergeHealthConfig,
  nextProbeDelay,
  parseGoDuration,
  probeCommand,
  startingHealth,
  validateHealthConfig,
  type HealthState,
} from '../../src/container/health-config.ts';
import { decideRestart, nextDelay, parseRestartFlag, startsAtBoot, validateRestartPolicy, type RestartPolicy } from '../../src/container/restart-policy.ts';

const policy = (spec: string, rm = false): RestartPolicy => validateRestartPolicy(parseRestartFlag(spec), rm);

describe('--restart: syntax and checks in docker words', () => {
  const ok: Array<[string, RestartPolicy]> = [
    ['', { name: 'no', maximumRetryCount: 0 }],
    ['no', { name: 'no', maximumRetryCount: 0 }],
    ['always', { name: 'always', maximumRetryCount: 0 }],
    ['unless-stopped', { name: 'unless-stopped', maximumRetryCount: 0 }],
    ['on-failure', { name: 'on-failure', maximumRetryCount: 0 }],
    ['on-failure:3', { name: 'on-failure', maximumRetryCount: 3 }],
    ['on-failure:', { name: 'on-failure', maximumRetryCount: 0 }],
    ['always:0', { name: 'always', maximumRetryCount: 0 }],
    // An empty name is none, whatever the count, as docker 28.2's CLI and daemon take it.
    [':3', { name: 'no', maximumRetryCount: 0 }],
  ];
  for (const [spec, want] of ok) test(`"${spec}"`, () => assert.deepEqual(policy(spec), want));

  const bad: Array<[string, RegExp, boolean?]> = [
    ['sometimes', /unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/],
    ['ALWAYS', /unknown policy 'ALWAYS'/],
    ['on-failure:-1', /^invalid restart policy: maximum retry count cannot be negative$/],
    ['on-failure:x', /^maximum retry count must be an integer$/],
    ['on-failure:1.5', /maximum retry count must be an integer/],
    ['on-failure:99999999999999999999', /maximum retry count must be an integer/],
    ['always:2:3', /maximum retry count must be an integer/],
    ['always:3', /^invalid restart policy: maximum retry count can only be used with 'on-failure'$/],
    ['no:-2', /can only be used with 'on-failure' and cannot be negative/],
    ['always', /can't create 'AutoRemove' container with restart policy/, true],
  ];
  for (const [spec, message, rm] of bad) {
    test(`refuses "${spec}"${rm ? ' with --rm' : ''}`, () =>
      assert.throws(
        () => policy(spec, rm),
        (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && message.test(e.message),
      ));
  }
  test('--rm with no policy is fine', () => assert.deepEqual(policy('no', true), { name: 'no', maximumRetryCount: 0 }));
  test('an API body with an empty name is none (docker < 25 sent it)', () =>
    assert.equal(validateRestartPolicy({ Name: '', MaximumRetryCount: 5 }).name, 'no'));
});

describe('back-off: 100 ms doubling to a minute, reset after a 10 s run', () => {
  const cases: Array<[number, number, number]> = [
    [0, 0, 100],
    [100, 50, 200],
    [200, 50, 400],
    [51_200, 50, 60_000],
    [60_000, 50, 60_000],
    [6_400, 10_000, 100],
    [6_400, 9_999, 12_800],
  ];
  for (const [last, ran, want] of cases) test(`after ${last} ms, a run of ${ran} ms: ${want} ms`, () => assert.equal(nextDelay(last, ran), want));
});

describe('decideRestart', () => {
  const end = { exitCode: 1, stoppedByUser: false, restartCount: 0, ranMs: 5 };
  const cases: Array<[string, string, Partial<typeof end>, boolean]> = [
    ['no never restarts', 'no', {}, false],
    ['always restarts a clean exit', 'always', { exitCode: 0 }, true],
    ['unless-stopped restarts a failure', 'unless-stopped', {}, true],
    ['on-failure restarts a failure', 'on-failure', {}, true],
    ['on-failure leaves a clean exit', 'on-failure', { exitCode: 0 }, false],
    ['on-failure:3 restarts the third time', 'on-failure:3', { restartCount: 2 }, true],
    ['on-failure:3 stops after three restarts', 'on-failure:3', { restartCount: 3 }, false],
    ['on-failure with no count has no limit', 'on-failure', { restartCount: 1000 }, true],
    ['a stop by the user cancels always', 'always', { stoppedByUser: true }, false],
    ['a stop by the user cancels on-failure', 'on-failure', { stoppedByUser: true, exitCode: 137 }, false],
  ];
  for (const [name, spec, over, want] of cases) {
    test(name, () => assert.equal(decideRestart(policy(spec), { ...end, ...over }, 0).restart, want));
  }
  test('the decision carries the back-off', () => assert.deepEqual(decideRestart(policy('always'), end, 400), { restart: true, delayMs: 800 }));
});

describe('startsAtBoot', () => {
  const f = { stoppedByUser: false, wasLive: true, exitCode: 137, restartCount: 0 };
  const cases: Array<[string, string, Partial<typeof f>, boolean]> = [
    ['always, lost running', 'always', {}, true],
    ['always, even stopped by the user', 'always', { stoppedByUser: true, wasLive: false }, true],
    ['unless-stopped, lost running', 'unless-stopped', {}, true],
    ['unless-stopped, stopped by the user', 'unless-stopped', { stoppedByUser: true, wasLive: false }, false],
    ['on-failure, lost running', 'on-failure', {}, true],
    ['on-failure, done after its retries', 'on-failure:2', { wasLive: false, exitCode: 1, restartCount: 2 }, false],
    ['on-failure, a clean exit', 'on-failure', { wasLive: false, exitCode: 0 }, false],
    ['no', 'no', {}, false],
  ];
  for (const [name, spec, over, want] of cases) test(name, () => assert.equal(startsAtBoot(policy(spec), { ...f, ...over }), want));
});

describe('Go durations', () => {
  const parse: Array<[string, number | undefined]> = [
    ['0', 0],
    ['1s', 1e9],
    ['1.5s', 1.5e9],
    ['300ms', 3e8],
    ['1h30m', 5400e9],
    ['2us', 2000],
    ['-2s', -2e9],
    ['.5s', 5e8],
    ['', undefined],
    ['5', undefined],
    ['abc', undefined],
    ['1x', undefined],
    ['3000000h', undefined],
    ['9999999999999999999s', undefined],
  ];
  for (const [text, want] of parse) test(`parses "${text}"`, () => assert.equal(parseGoDuration(text), want));
  const format: Array<[number, string]> = [
    [30e9, '30s'],
    [1.5e9, '1.5s'],
    [5e8, '500ms'],
    [60e9, '1m0s'],
    [3600e9, '1h0m0s'],
    [90.25e9, '1m30.25s'],
  ];
  for (const [ns, want] of format) test(`formats ${ns} ns as ${want}`, () => assert.equal(formatGoDuration(ns), want));
});

describe('--health-* flags and checks', () => {
  test('no flag: no config (the image decides)', () => assert.equal(healthFromFlags({}), undefined));
  test('--health-cmd is CMD-SHELL with zeros', () =>
    assert.deepEqual(healthFromFlags({ cmd: 'true', interval: '2s' }), {
      Test: ['CMD-SHELL', 'true'],
      Interval: 2e9,
      Timeout: 0,
      StartPeriod: 0,
      StartInterval: 0,
      Retries: 0,
    }));
  test('--no-healthcheck is NONE', () => assert.deepEqual(healthFromFlags({ none: true }), { Test: ['NONE'] }));
  const bad: Array<[Parameters<typeof healthFromFlags>[0], RegExp]> = [
    [{ none: true, cmd: 'true' }, /--no-healthcheck conflicts with --health-\* options$/],
    [{ interval: '-1s' }, /--health-interval cannot be negative$/],
    [{ timeout: 'soon' }, /invalid argument "soon" for "--health-timeout" flag: time: invalid duration "soon"/],
    [{ retries: '-1' }, /--health-retries cannot be negative$/],
    [{ retries: 'x' }, /invalid argument "x" for "--health-retries"/],
    [{ startPeriod: '99999999999h' }, /invalid duration/],
  ];
  for (const [flags, message] of bad) test(`refuses ${JSON.stringify(flags)}`, () => assert.throws(() => healthFromFlags(flags), message));
  test('the daemon refuses an interval under 1ms', () =>
    assert.throws(() => validateHealthConfig({ Interval: 500 }), /Interval in Healthcheck cannot be less than 1ms/));
  test('the daemon refuses an unknown test type', () =>
    assert.throws(() => validateHealthConfig({ Test: ['SHELL', 'x'] }), /unknown Healthcheck type 'SHELL'/));
  test('the image fills what the flags leave unset', () =>
    assert.deepEqual(mergeHealthConfig({ Interval: 2e9, Retries: 0 }, { Test: ['CMD', 'true'], Interval: 30e9, Retries: 5 }), {
      Test: ['CMD', 'true'],
      Interval: 2e9,
      Timeout: undefined,
      StartPeriod: undefined,
      StartInterval: undefined,
      Retries: 5,
    }));
  test('probe commands', () => {
    assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'echo ok'] }), ['/bin/sh', '-c', 'echo ok']);
    assert.deepEqual(probeCommand({ Test: ['CMD', 'cat', '/x'] }), ['cat', '/x']);
    assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
    assert.equal(probeCommand(undefined), undefined);
  });
});

describe('health status from probe results', () => {
  const s = healthSchedule({ Retries: 2, StartPeriod: 10e9 });
  const at = (ms: number, code: number) => ({ Start: new Date(ms).toISOString(), End: new Date(ms).toISOString(), ExitCode: code, Output: '' });
  test('a pass is healthy', () => assert.equal(applyProbeResult(startingHealth(undefined), at(1, 0), s, 0).Status, 'healthy'));
  test('failures in the start period do not count while starting', () => {
    const h = applyProbeResult(startingHealth(undefined), at(5_000, 1), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 1]);
  });
  test('retries failures in a row are unhealthy; a pass resets the streak', () => {
    let h: HealthState = startingHealth(undefined);
    h = applyProbeResult(h, at(20_000, 1), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
    h = applyProbeResult(h, at(21_000, 2), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
    h = applyProbeResult(h, at(22_000, 0), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  });
  test('the log keeps the last five', () => {
    let h: HealthState = startingHealth(undefined);
    for (let i = 0; i < 8; i++) h = applyProbeResult(h, at(20_000 + i, 0), s, 0);
    assert.equal(h.Log.length, 5);
    assert.equal(h.Log[4]!.Start, new Date(20_007).toISOString());
  });
  test('schedule: start interval inside the start period, never past its end', () => {
    const sched = healthSchedule({ Interval: 30e9, StartPeriod: 60e9, StartInterval: 2e9 });
    assert.equal(nextProbeDelay(sched, 'starting', 0), 2_000);
    assert.equal(nextProbeDelay(sched, 'healthy', 0), 30_000);
    assert.equal(nextProbeDelay(sched, 'starting', 50_000), 10_000);
    assert.equal(nextProbeDelay(sched, 'starting', 70_000), 30_000);
  });
  test('defaults: 30s, 30s, 3 retries', () =>
    assert.deepEqual(healthSchedule({}), { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 }));
});

describe('alive: whether a monitor still lives', () => {
  test('is true for a live process and false for none', () => {
    assert.equal(alive(process.pid), true);
    assert.equal(alive(undefined), false);
    assert.equal(alive(2 ** 22 + 1), false);
  });
  test('is false for a zombie (killed, not yet reaped by its parent)', async () => {
    // sh starts `sleep 60` in the background, then becomes `sleep 5`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 60 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const child = Number(await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(d.toString()))));
      assert.equal(alive(child), true);
      process.kill(child, 'SIGKILL');
      for (let i = 0; i < 50 && !readFileSync(`/proc/${child}/stat`, 'utf8').includes(') Z'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(readFileSync(`/proc/${child}/stat`, 'utf8'), /\) Z /, 'the child is a zombie');
      assert.equal(alive(child), false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
