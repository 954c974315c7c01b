/**
 * Which build cache records a prune takes (services/build-cache.ts), as BuildKit's prune
 * chooses: shared ones only with `all`, never one in use, the least recently used first, only
 * until `keepStorage` is met, and docker's filters, a bad one refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import type { CacheRecord } from '../../src/services/build-cache-usage.ts';
import { buildCacheMatcher, selectForPrune } from '../../src/services/build-cache.ts';
import { parseKeepStorage } from '../../src/cli/builder-prune.ts';

const HOUR = 3_600_000;
const now = Date.now();

function rec(id: string, o: Partial<CacheRecord> = {}): CacheRecord {
  return {
    id,
    type: 'regular',
    description: `layer of ${id}`,
    size: 100,
    shared: false,
    inUse: false,
    createdMs: now - 10 * HOUR,
    lastUsedMs: now - HOUR,
    usageCount: 1,
    source: { kind: 'row', key: id },
    ...o,
  };
}

const records = [
  rec('old', { lastUsedMs: now - 48 * HOUR, size: 300 }),
  rec('mid', { lastUsedMs: now - 5 * HOUR, size: 200 }),
  rec('new', { lastUsedMs: now - 60_000, size: 100 }),
  rec('shared', { lastUsedMs: now - 72 * HOUR, shared: true, size: 1000 }),
  rec('busy', { lastUsedMs: now - 96 * HOUR, inUse: true, size: 50 }),
  rec('mount', { type: 'exec.cachemount', description: 'cached mount abc', lastUsedMs: now - 30 * HOUR, size: 400, source: { kind: 'mount', dir: '/x' } }),
];
const ids = (rs: readonly CacheRecord[]) => rs.map((r) => r.id);

describe('selectForPrune', () => {
  it('takes every unshared record not in use, oldest first', () => {
    assert.deepEqual(ids(selectForPrune(records, {})), ['old', 'mount', 'mid', 'new']);
  });

  it('with all, the shared ones too; never one in use', () => {
    assert.deepEqual(ids(selectForPrune(records, { all: true })), ['shared', 'old', 'mount', 'mid', 'new']);
  });

  it('with keepStorage, only until the unshared rest fits', () => {
    // Unshared bytes: 300 + 200 + 100 + 50 + 400 = 1050.
    assert.deepEqual(ids(selectForPrune(records, { keepStorage: 1050 })), []);
    assert.deepEqual(ids(selectForPrune(records, { keepStorage: 750 })), ['old']);
    assert.deepEqual(ids(selectForPrune(records, { keepStorage: 500 })), ['old', 'mount']);
    assert.deepEqual(ids(selectForPrune(records, { keepStorage: 0 })), ['old', 'mount', 'mid', 'new']);
  });

  it('until keeps what was used more recently', () => {
    assert.deepEqual(ids(selectForPrune(records, { filters: new Map([['until', ['24h']]]) })), ['old', 'mount']);
    assert.deepEqual(ids(selectForPrune(records, { filters: new Map([['unused-for', ['40h']]]) })), ['old']);
  });

  it('type, id, description, shared and inuse filters', () => {
    const f = (k: string, v: string) => ({ filters: new Map([[k, [v]]]), all: true });
    assert.deepEqual(ids(selectForPrune(records, f('type', 'exec.cachemount'))), ['mount']);
    assert.deepEqual(ids(selectForPrune(records, f('id', 'mi'))), ['mid']);
    assert.deepEqual(ids(selectForPrune(records, f('description', 'cached mount'))), ['mount']);
    assert.deepEqual(ids(selectForPrune(records, f('shared', 'true'))), ['shared']);
    assert.deepEqual(ids(selectForPrune(records, f('private', 'false'))), ['shared']);
  });
});

describe('bad filters and sizes', () => {
  for (const [key, values, message] of [
    ['colour', ['red'], "invalid filter 'colour'"],
    ['until', ['soon'], 'failed to parse value as time or duration: "soon"'],
    ['until', ['1h', '2h'], 'more than one until filter specified'],
    ['shared', ['maybe'], "invalid filter 'shared=[maybe]'"],
    ['../../etc/passwd', ['x'], "invalid filter '../../etc/passwd'"],
  ] as const) {
    it(`${key}=${values.join(',')} is refused`, () => {
      assert.throws(
        () => buildCacheMatcher(new Map([[key, [...values]]])),
        (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && e.message.includes(message),
      );
    });
  }

  it('until and unused-for together are refused', () => {
    assert.throws(
      () =>
        buildCacheMatcher(
          new Map([
            ['until', ['1h']],
            ['unused-for', ['2h']],
          ]),
        ),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('--keep-storage reads docker sizes in binary units, and nothing else', () => {
    assert.equal(parseKeepStorage('10GB'), 10 * 2 ** 30);
    assert.equal(parseKeepStorage('512m'), 512 * 2 ** 20);
    assert.equal(parseKeepStorage('1.5 GiB'), 1.5 * 2 ** 30);
    assert.equal(parseKeepStorage('0'), 0);
    for (const bad of ['-5', 'lots', '1e9', '10 GBB', '']) assert.throws(() => parseKeepStorage(bad), /invalid size/);
  });
});
