/**
 * The event log's parsing and matching, as tables: `since`/`until` in each form docker
 * takes, Go durations, filters in the API's and the CLI's shapes, docker's rules per filter
 * key, the JSON of an event; then the log itself on a real SQLite file: ids that only grow,
 * trimming, and a follower that sees rows another writer adds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { eventJson, eventMatches, followEvents, parseEventFilters, parseEventTime, parseGoDuration } from '../../src/services/events.ts';
import { type EventRow, KEEP_ROWS, recordEvent } from '../../src/store/events.ts';
import { Metadata } from '../../src/store/metadata.ts';

const S = 1_000_000_000n;
const NOW = 1_800_000_000n * S + 500_000_000n;

describe('parseEventTime', () => {
  const cases: Array<[string, bigint]> = [
    ['1700000000', 1_700_000_000n * S],
    ['1700000000.5', 1_700_000_000n * S + 500_000_000n],
    ['1700000000.000000001', 1_700_000_000n * S + 1n],
    ['1700000000.123456789', 1_700_000_000n * S + 123_456_789n],
    ['0', 0n], // docker reads "0" as the epoch, not as a zero duration
    ['10m', NOW - 600n * S],
    ['1h30m', NOW - 5400n * S],
    ['1.5s', NOW - 1_500_000_000n],
    ['500ms', NOW - 500_000_000n],
    ['-2m', NOW + 120n * S], // a negative duration counts forward, as docker's GetTimestamp
    ['0s', NOW],
    ['2026-12-07T18:00:00Z', BigInt(Date.parse('2026-12-07T18:00:00Z')) * 1_000_000n],
    ['2026-12-07T18:00:00.25Z', BigInt(Date.parse('2026-12-07T18:00:00Z')) * 1_000_000n + 250_000_000n],
    ['2026-12-07T18:00:00+01:00', BigInt(Date.parse('2026-12-07T17:00:00Z')) * 1_000_000n],
    ['2026-12-07T18:00', BigInt(Date.parse('2026-12-07T18:00:00Z')) * 1_000_000n],
    ['2026-12-07', BigInt(Date.parse('2026-12-07T00:00:00Z')) * 1_000_000n],
    [' 1700000000 ', 1_700_000_000n * S],
  ];
  for (const [text, want] of cases) it(`${JSON.stringify(text)}`, () => assert.equal(parseEventTime(text, NOW), want));

  for (const bad of ['', 'yesterday', '10', '10x', '1e9', '2026-13-45T99:00:00Z', '1700000000.1234567890', '--5m', 'm']) {
    if (bad === '10') continue; // a bare number is Unix seconds
    it(`refuses ${JSON.stringify(bad)} with a 400`, () => {
      assert.throws(
        () => parseEventTime(bad, NOW),
        (e) => isBerthError(e, 'INVALID_ARGUMENT'),
      );
    });
  }
});

describe('parseGoDuration', () => {
  const cases: Array<[string, bigint | undefined]> = [
    ['1ns', 1n],
    ['2us', 2000n],
    ['3\u00b5s', 3000n],
    ['1h2m3s', 3723n * S],
    ['.5s', 500_000_000n],
    ['+1m', 60n * S],
    ['-1m', -60n * S],
    ['5', undefined],
    ['5d', undefined],
    ['', undefined],
    ['m5', undefined],
  ];
  for (const [text, want] of cases) it(`${JSON.stringify(text)}`, () => assert.equal(parseGoDuration(text), want));
});

describe('parseEventFilters', () => {
  it('takes the API list form, the old map form and the CLI flags alike', () => {
    const want = new Map([
      ['type', ['container']],
      ['event', ['start', 'die']],
    ]);
    assert.deepEqual(parseEventFilters({ type: ['container'], event: ['start', 'die'] }), want);
    assert.deepEqual(parseEventFilters({ type: { container: true }, event: { start: true, die: true, stop: false } }), want);
    assert.deepEqual(parseEventFilters(['type=container', 'event=start', 'event=die']), want);
    assert.deepEqual(parseEventFilters(undefined), new Map());
  });

  const bad: Array<[string, Record<string, unknown> | string[]]> = [
    ['an unknown key', { colour: ['red'] }],
    ['a value that is not a list', { type: 'container' }],
    ['a flag without =', ['type']],
    ['a flag with an empty key', ['=x']],
    ['an unknown flag key', ['bogus=1']],
  ];
  for (const [what, input] of bad) {
    it(`refuses ${what} with a 400`, () =>
      assert.throws(
        () => parseEventFilters(input),
        (e) => isBerthError(e, 'INVALID_ARGUMENT'),
      ));
  }
});

const ev = (over: Partial<EventRow>): EventRow => ({
  id: 1,
  timeNano: NOW,
  type: 'container',
  action: 'start',
  actorId: 'abcdef0123456789',
  attributes: { image: 'bb:1', name: 'c1', 'com.x': 'y' },
  ...over,
});

describe('eventMatches', () => {
  const cases: Array<[string, Record<string, string[]>, EventRow, boolean]> = [
    ['no filter', {}, ev({}), true],
    ['type', { type: ['container'] }, ev({}), true],
    ['another type', { type: ['image'] }, ev({}), false],
    ['one of two types', { type: ['image', 'container'] }, ev({}), true],
    ['event', { event: ['start'] }, ev({}), true],
    ['another event', { event: ['die'] }, ev({}), false],
    ['exec_start: by its verb', { event: ['exec_start'] }, ev({ action: 'exec_start: sh -c x' }), true],
    ['container by name', { container: ['c1'] }, ev({}), true],
    ['container by id prefix', { container: ['abcdef'] }, ev({}), true],
    ['another container', { container: ['c2'] }, ev({}), false],
    ['container filter on a volume event', { container: ['c1'] }, ev({ type: 'volume', actorId: 'v1', attributes: {} }), false],
    ['image of a container event', { image: ['bb:1'] }, ev({}), true],
    ['image without its tag', { image: ['bb'] }, ev({}), true],
    ['another image', { image: ['alpine'] }, ev({}), false],
    ['image event by name', { image: ['bb:2'] }, ev({ type: 'image', action: 'tag', actorId: 'sha256:1', attributes: { name: 'bb:2' } }), true],
    ['label key', { label: ['com.x'] }, ev({}), true],
    ['label key=value', { label: ['com.x=y'] }, ev({}), true],
    ['label with another value', { label: ['com.x=z'] }, ev({}), false],
    ['every label must hold', { label: ['com.x=y', 'missing'] }, ev({}), false],
    ['volume by name', { volume: ['vol1'] }, ev({ type: 'volume', actorId: 'vol1', attributes: { driver: 'local' } }), true],
    ['volume filter on a container', { volume: ['vol1'] }, ev({}), false],
    ['network by name', { network: ['net1'] }, ev({ type: 'network', actorId: 'f00d', attributes: { name: 'net1' } }), true],
    ['network by id prefix', { network: ['f0'] }, ev({ type: 'network', actorId: 'f00d', attributes: { name: 'net1' } }), true],
    ['keys all apply', { type: ['container'], event: ['die'] }, ev({}), false],
    ['scope local', { scope: ['local'] }, ev({}), true],
    ['scope swarm', { scope: ['swarm'] }, ev({}), false],
  ];
  for (const [what, filters, event, want] of cases) {
    it(what, () => assert.equal(eventMatches(event, parseEventFilters(filters)), want));
  }
});

describe('eventJson', () => {
  it('is docker JSON: status/id/from for containers, timeNano exact', () => {
    const j = eventJson(ev({ timeNano: 1_796_669_429_264_077_056n }));
    assert.match(j, /"timeNano":1796669429264077056}$/);
    const o = JSON.parse(j);
    assert.equal(o.status, 'start');
    assert.equal(o.id, 'abcdef0123456789');
    assert.equal(o.from, 'bb:1');
    assert.equal(o.Type, 'container');
    assert.equal(o.Action, 'start');
    assert.equal(o.Actor.Attributes.name, 'c1');
    assert.equal(o.scope, 'local');
    assert.equal(o.time, 1796669429);
  });
  it('has no status/id/from for other types', () => {
    const o = JSON.parse(eventJson(ev({ type: 'volume', action: 'create', actorId: 'v', attributes: { driver: 'local' } })));
    assert.equal(o.status, undefined);
    assert.equal(o.id, undefined);
    assert.equal(o.Actor.ID, 'v');
  });
});

describe('the event log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records through recordEvent into the root this process opened, with growing ids', () => {
    const m = new Metadata(join(dir, 'a.db'));
    try {
      recordEvent('volume', 'create', 'v1', { driver: 'local' });
      recordEvent('volume', 'destroy', 'v1', { driver: 'local' });
      const rows = m.events.list();
      assert.deepEqual(
        rows.map((r) => r.action),
        ['create', 'destroy'],
      );
      assert.ok(rows[1]!.id > rows[0]!.id);
      assert.ok(rows[1]!.timeNano >= rows[0]!.timeNano);
    } finally {
      m.close();
    }
    // Closed, the log is no one's: recording is a no-op, not an error.
    recordEvent('volume', 'create', 'v2');
  });

  it('keeps at most the last KEEP_ROWS rows and nothing older than a day', () => {
    const m = new Metadata(join(dir, 'b.db'));
    try {
      const old = NOW - 25n * 3600n * S;
      m.events.insert({ type: 'image', action: 'pull', actorId: 'ancient', timeNano: old });
      for (let i = 0; i < KEEP_ROWS + 200; i++) m.events.insert({ type: 'container', action: 'start', actorId: String(i), timeNano: NOW });
      assert.ok(m.events.count() <= KEEP_ROWS + 64, `${m.events.count()} rows`);
      assert.ok(m.events.count() >= KEEP_ROWS);
      assert.equal(
        m.events.list().find((r) => r.actorId === 'ancient'),
        undefined,
      );
      // Ids are never reused after a trim.
      const last = m.events.lastId();
      m.events.insert({ type: 'container', action: 'die', actorId: 'x', timeNano: NOW });
      assert.equal(m.events.lastId(), last + 1);
    } finally {
      m.close();
    }
  });

  it('replays from since, follows rows another connection adds, and ends at until', async () => {
    const path = join(dir, 'c.db');
    const reader = new Metadata(path);
    const writer = new Metadata(path);
    try {
      const t0 = BigInt(Date.now()) * 1_000_000n;
      writer.events.insert({ type: 'container', action: 'create', actorId: 'c1' });
      const until = t0 + 3n * S;
      const ac = new AbortController();
      const seen: string[] = [];
      const done = (async () => {
        for await (const e of followEvents(reader.events, {
          since: t0,
          until,
          filters: parseEventFilters({ type: ['container'] }),
          signal: ac.signal,
          pollMs: 20,
        })) {
          seen.push(e.action);
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      writer.events.insert({ type: 'volume', action: 'create', actorId: 'v' });
      writer.events.insert({ type: 'container', action: 'start', actorId: 'c1' });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(seen, ['create', 'start']);
      // An event after until is not shown, and the follower ends by itself.
      writer.events.insert({ type: 'container', action: 'die', actorId: 'c1', timeNano: until + 1n });
      await done;
      assert.deepEqual(seen, ['create', 'start']);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('refuses since after until before anything is read', async () => {
    const m = new Metadata(join(dir, 'd.db'));
    try {
      await assert.rejects(followEvents(m.events, { since: NOW, until: NOW - S }).next(), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
    } finally {
      m.close();
    }
  });
});
