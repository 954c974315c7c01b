/** The run flags' own checks (container/run-config.ts), log times (log-time.ts) and json-file rotation (logs.ts), table-driven. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { detailsPrefix, parseGoDuration, parseLogTimestamp } from '../../src/container/log-time.ts';
import { JsonLogWriter, logFiles } from '../../src/container/logs.ts';
import { checkDnsSearch, checkExtraHost, checkIpAddress, checkLogConfig, checkSignal, expandExpose, jsonFileLimits } from '../../src/container/run-config.ts';
import { subnetGateway } from '../../src/network/files.ts';

describe('--add-host', () => {
  const good: Array<[string, string]> = [
    ['a:1.2.3.4', 'a:1.2.3.4'],
    ['a=1.2.3.4', 'a:1.2.3.4'],
    ['six:2001:db8::1', 'six:2001:db8::1'],
    ['six=[2001:db8::1]', 'six:2001:db8::1'],
    ['gw:host-gateway', 'gw:host-gateway'],
  ];
  for (const [v, want] of good) test(`takes ${v}`, () => assert.equal(checkExtraHost(v), want));
  const bad: Array<[string, RegExp]> = [
    ['bad', /bad format for add-host: "bad"/],
    [':1.2.3.4', /bad format/],
    ['a:', /invalid IP address in add-host: ""/],
    ['a:1.2.3', /invalid IP address/],
    ['a:1.2.3.4 b', /invalid IP address/],
    ['a:host-gateway2', /invalid IP address/],
  ];
  for (const [v, message] of bad) test(`refuses ${JSON.stringify(v)}`, () => assert.throws(() => checkExtraHost(v), message));
});

describe('--dns and --dns-search', () => {
  test('an IPv4 or IPv6 address', () => {
    assert.equal(checkIpAddress('9.9.9.9'), '9.9.9.9');
    assert.equal(checkIpAddress('::1'), '::1');
    assert.throws(() => checkIpAddress('dns.example'), /dns.example is not an ip address/);
  });
  test('a domain, or "."', () => {
    for (const d of ['example.com', 'a', 'corp.example.', '.']) assert.equal(checkDnsSearch(d), d);
    for (const d of ['-bad.example', 'a..b', `${'a'.repeat(250)}.example`, 'a b']) assert.throws(() => checkDnsSearch(d), /is not a valid domain/);
  });
});

describe('--expose', () => {
  const cases: Array<[string, string[] | RegExp]> = [
    ['80', ['80/tcp']],
    ['53/udp', ['53/udp']],
    ['7000-7002', ['7000/tcp', '7001/tcp', '7002/tcp']],
    ['80:80', /invalid port format for --expose/],
    ['90-80', /invalid range format/],
    ['99999', /invalid range format/],
    ['80/ip', /invalid proto: ip/],
  ];
  for (const [v, want] of cases) {
    test(v, () => (Array.isArray(want) ? assert.deepEqual(expandExpose(v), want) : assert.throws(() => expandExpose(v), want)));
  }
});

describe('--log-driver and --log-opt', () => {
  test('json-file limits as docker reads them (decimal sizes)', () => {
    assert.deepEqual(jsonFileLimits({ 'max-size': '10k', 'max-file': '3', labels: 'a,b' }), {
      maxSize: 10_000,
      maxFile: 3,
      labels: ['a', 'b'],
      env: [],
      labelsRegex: undefined,
      envRegex: undefined,
      compress: false,
    });
    assert.equal(jsonFileLimits({ 'max-size': '1.5m' }).maxSize, 1_500_000);
    assert.equal(jsonFileLimits({}).maxSize, undefined);
  });
  const bad: Array<[string | undefined, Record<string, string>, RegExp]> = [
    [undefined, { 'max-file': '0' }, /max-file cannot be less than 1/],
    [undefined, { 'max-file': '-3' }, /max-file cannot be less than 1/],
    [undefined, { 'max-file': '2x' }, /invalid syntax/],
    [undefined, { 'max-size': 'big' }, /invalid size/],
    [undefined, { 'max-size': '-1k' }, /invalid size/],
    [undefined, { 'max-size': '1k', 'max-file': '100000' }, /more than berth keeps/],
    [undefined, { 'max-buffer-size': '4m' }, /logger: max-buffer-size option is only supported with 'mode=non-blocking'$/],
    [undefined, { mode: 'non-blocking', 'max-buffer-size': 'x' }, /error parsing option max-buffer-size: invalid size: 'x'$/],
    [undefined, { mode: 'bogus' }, /logger: logging mode not supported: bogus$/],
    [undefined, { compress: 'maybe' }, /failed to initialize logging driver: strconv.ParseBool: parsing "maybe": invalid syntax$/],
    [undefined, { compress: 'true', 'max-file': '3' }, /compress cannot be true when max-file is less than 2 or max-size is not set/],
    [undefined, { 'labels-regex': '[' }, /failed to initialize logging driver: error parsing regexp: /],
    [undefined, { 'env-regex': 'a'.repeat(513) }, /error parsing regexp: expression longer than 512/],
    [undefined, { bogus: '1' }, /unknown log opt 'bogus' for json-file log driver$/],
    ['local', { tag: 'x' }, /unknown log opt 'tag' for log driver local$/],
    ['local', { 'max-size': 'abc' }, /invalid value for max-size: abc: invalid size: 'abc'$/],
    ['local', { 'max-file': '1' }, /compression cannot be enabled when max file count is 1$/],
    ['local', { compress: 'x' }, /error reading compress log option: strconv.ParseBool: parsing "x": invalid syntax$/],
    ['none', { 'max-size': '1k' }, /invalid logging opts for driver none$/],
    ['journald', {}, /not supported by berth yet/],
    ['nope', {}, /no log driver named 'nope'/],
  ];
  const good: Array<[string | undefined, Record<string, string>]> = [
    [undefined, { mode: 'non-blocking', 'max-buffer-size': '4m' }],
    [undefined, { tag: '{{.Name}}', compress: 'true', 'max-size': '1k', 'max-file': '2' }],
    [undefined, { 'labels-regex': '^team', 'env-regex': '^A' }],
    ['local', {}],
    ['local', { 'max-file': '1', compress: 'false', mode: 'blocking' }],
  ];
  for (const [driver, opts] of good)
    test(`takes ${driver ?? 'json-file'} ${JSON.stringify(opts)}`, () => assert.doesNotThrow(() => checkLogConfig(driver, opts)));
  test("local keeps docker's defaults: 20 MiB files, 5 of them", () => {
    const l = jsonFileLimits({}, 'local');
    assert.equal(l.maxSize, 20 * 1024 * 1024);
    assert.equal(l.maxFile, 5);
  });
  for (const [driver, opts, message] of bad)
    test(`refuses ${driver ?? 'json-file'} ${JSON.stringify(opts)}`, () => assert.throws(() => checkLogConfig(driver, opts), message));
});

describe('signals', () => {
  for (const s of ['SIGTERM', 'term', 'USR1', '9', 'SIGRTMIN']) test(`takes ${s}`, () => assert.equal(checkSignal(s), s));
  for (const s of ['0', 'SIGNOPE', '', 'SIG']) test(`refuses ${JSON.stringify(s)}`, () => assert.throws(() => checkSignal(s), /Invalid signal/));
});

describe('logs --since/--until', () => {
  const now = Date.parse('2026-01-02T03:04:05Z');
  const cases: Array<[string, number]> = [
    ['10m', now - 600_000],
    ['1h30m', now - 5_400_000],
    ['1.5s', now - 1500],
    ['1700000000', 1_700_000_000_000],
    ['1700000000.5', 1_700_000_000_500],
    ['2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:00Z')],
    ['2026-01-01T00:00:00+02:00', Date.parse('2025-12-31T22:00:00Z')],
    ['2026-01-01T10:20:30.123456789Z', Date.parse('2026-01-01T10:20:30.123Z')],
  ];
  for (const [v, want] of cases) test(v, () => assert.equal(parseLogTimestamp(v, 'since', now), want));
  test('a date alone and a time without a zone are local', () => {
    assert.equal(parseLogTimestamp('2026-01-01', 'since', now), new Date('2026-01-01T00:00:00').getTime());
    assert.equal(parseLogTimestamp('2026-01-01T10:20', 'until', now), new Date('2026-01-01T10:20:00').getTime());
  });
  test('anything else is docker error', () => {
    assert.throws(() => parseLogTimestamp('yesterday', 'since', now), /invalid value for "since": failed to parse value as time or duration: "yesterday"/);
    assert.throws(() => parseLogTimestamp('2026-13-45', 'until', now), /invalid value for "until"/);
  });
  test('Go durations', () => {
    assert.equal(parseGoDuration('300ms'), 300);
    assert.equal(parseGoDuration('-2m'), -120_000);
    assert.equal(parseGoDuration('10'), undefined);
    assert.equal(parseGoDuration('m'), undefined);
  });
  test('--details prefix: sorted, query-escaped, then a space', () => {
    assert.equal(detailsPrefix({ team: 'ml', MODEL: 'bert base', x: 'a&b' }), 'MODEL=bert+base,team=ml,x=a%26b ');
    assert.equal(detailsPrefix(undefined), ' ');
  });
});

describe('json-file rotation', () => {
  test('keeps max-file files of about max-size, newest last, each line whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-logrot-'));
    try {
      const path = join(dir, 'c-json.log');
      const w = new JsonLogWriter(path, { maxSize: 300, maxFile: 3 });
      for (let i = 1; i <= 50; i++) w.write(i % 2 ? 'stdout' : 'stderr', `line${i}\n`);
      await w.close();
      assert.deepEqual(readdirSync(dir).sort(), ['c-json.log', 'c-json.log.1', 'c-json.log.2']);
      const lines = logFiles(path).flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { log: string }).log.trim()),
      );
      const first = Number(lines[0]!.slice(4));
      assert.deepEqual(
        lines,
        Array.from({ length: 51 - first }, (_, i) => `line${first + i}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('max-file 1 truncates the one file; attrs are written into each line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-logrot-'));
    try {
      const path = join(dir, 'c-json.log');
      const w = new JsonLogWriter(path, { maxSize: 200, maxFile: 1, attrs: { team: 'ml' } });
      for (let i = 1; i <= 20; i++) w.write('stdout', `l${i}\n`);
      await w.close();
      assert.deepEqual(readdirSync(dir), ['c-json.log']);
      const last = readFileSync(path, 'utf8').trim().split('\n').at(-1)!;
      assert.deepEqual(Object.keys(JSON.parse(last) as object), ['log', 'stream', 'attrs', 'time']);
      assert.ok(readFileSync(path).length < 400);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('host-gateway is the first address of the bridge subnet', () => {
    assert.equal(subnetGateway('10.87.0.0/16'), '10.87.0.1');
    assert.equal(subnetGateway('192.168.5.128/25'), '192.168.5.129');
  });
});
