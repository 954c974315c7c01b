/**
 * The typed repositories of store/, one per table, against a real SQLite file in a temp dir:
 * create, get, list, update, remove, not found, taken names. Names and paths are hostile on
 * purpose (quotes, `%`, `_`, backslashes, very long strings): they are values, never SQL or
 * patterns.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { createNetworkRecord } from '../../src/network/records.ts';
import type { Digest } from '../../src/oci/digest.ts';
import type { StoredContainer } from '../../src/store/containers.ts';
import { MAX_SOURCE_TEXT } from '../../src/store/images.ts';
import { Metadata } from '../../src/store/metadata.ts';
import type { NetworkRecord } from '../../src/store/networks.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-repos-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let dbs = 0;
/** A fresh database per suite, so the suites do not see each other's rows. */
function open(): Metadata<{ volumes?: readonly string[]; note?: string }, { status: string; pid?: number }> {
  const m = new Metadata<{ volumes?: readonly string[]; note?: string }, { status: string; pid?: number }>(join(dir, `metadata-${dbs++}.db`));
  after(() => m.close());
  return m;
}

const digest = (c: string): Digest => `sha256:${c.repeat(64).slice(0, 64)}` as Digest;
const LONG = 'x'.repeat(100_000);
const HOSTILE = [`it's`, '"quoted"', '50%', 'a_b', '%', '_', 'back\\slash', "'; DROP TABLE containers; --", LONG];

describe('ContainerRecords', () => {
  const m = open();
  type C = StoredContainer<{ volumes?: readonly string[]; note?: string }, { status: string; pid?: number }>;
  const container = (id: string, name: string, over: Partial<C> = {}): C => ({
    id,
    name,
    imageId: digest('a'),
    imageRef: 'bb:1',
    created: new Date(Date.UTC(2026, 0, 1, 0, 0, dbs++)).toISOString(),
    config: { volumes: [] },
    state: { status: 'created' },
    ...over,
  });

  it('inserts a container and reads it back by id, name, /name and unique id prefix', () => {
    const c = container('abc123'.padEnd(64, '0'), 'web', { config: { volumes: ['data'], note: 'a "note"' } });
    m.containers.insert(c);
    assert.deepEqual(m.containers.get(c.id), c);
    for (const key of [c.id, 'web', '/web', 'abc1', 'abc123']) assert.equal(m.containers.find(key)?.id, c.id, key);
    assert.equal(m.containers.require('web').name, 'web');
  });

  const missing: Array<[string, string]> = [
    ['an unknown name', 'nope'],
    ['an unknown id prefix', 'fff'],
    ['a prefix with pattern characters', 'ab%'],
    ['an underscore', 'abc_'],
    ['a very long key', LONG],
  ];
  for (const [what, key] of missing) {
    it(`finds nothing for ${what}, and require says NOT_FOUND`, () => {
      assert.equal(m.containers.find(key), undefined);
      assert.throws(
        () => m.containers.require(key),
        (e) => isBerthError(e, 'NOT_FOUND'),
      );
    });
  }

  it('refuses a taken name with CONFLICT, naming the holder, and a taken id with CONFLICT', () => {
    const holder = m.containers.require('web');
    assert.throws(
      () => m.containers.insert(container('b'.repeat(64), 'web')),
      (e) => isBerthError(e, 'CONFLICT') && e.message.includes(`"/web" is already in use by container "${holder.id}"`),
    );
    assert.throws(
      () => m.containers.insert(container(holder.id, 'other')),
      (e) => isBerthError(e, 'CONFLICT'),
    );
  });

  it('says INVALID_ARGUMENT for an ambiguous id prefix', () => {
    m.containers.insert(container('abd'.padEnd(64, '0'), 'web2'));
    assert.throws(
      () => m.containers.find('ab'),
      (e) => isBerthError(e, 'INVALID_ARGUMENT'),
    );
  });

  for (const name of HOSTILE) {
    it(`keeps a hostile name as a value: ${JSON.stringify(name.slice(0, 40))}`, () => {
      const id = `${(dbs++).toString(16)}`.padStart(64, 'c');
      m.containers.insert(container(id, name, { config: { volumes: [name] } }));
      assert.equal(m.containers.find(name)?.id, id);
      assert.deepEqual(m.containers.idsUsingVolume(name), [id]);
      m.containers.delete(id);
      assert.equal(m.containers.get(id), undefined);
    });
  }

  it('updates the state atomically, and says NOT_FOUND for a container that is not there', () => {
    const next = m.containers.updateState(m.containers.require('web').id, (s) => ({ ...s, status: 'running', pid: 42 }));
    assert.deepEqual(next, { status: 'running', pid: 42 });
    assert.deepEqual(m.containers.require('web').state, next);
    assert.throws(
      () => m.containers.updateState('0'.repeat(64), (s) => s),
      (e) => isBerthError(e, 'NOT_FOUND'),
    );
  });

  it('answers the questions other modules ask: volumes held, images used, counts by status', () => {
    assert.deepEqual(m.containers.idsUsingVolume('data'), [m.containers.require('web').id]);
    assert.deepEqual(m.containers.idsUsingVolume('dat'), [], 'no partial match');
    assert.deepEqual(m.containers.idsUsingVolume('%'), []);
    assert.deepEqual(m.containers.idsUsingImage(digest('a')).sort(), m.containers.ids().sort());
    assert.deepEqual([...m.containers.imageIds()], [digest('a')]);
    assert.deepEqual(Object.fromEntries(m.containers.countByStatus()), { running: 1, created: 1 });
    assert.equal(m.containers.count(), 2);
  });

  it('lists newest first, and removes (a second remove is no error)', () => {
    assert.deepEqual(
      m.containers.list().map((c) => c.name),
      ['web2', 'web'],
    );
    const id = m.containers.require('web2').id;
    m.containers.delete(id);
    m.containers.delete(id);
    assert.deepEqual(
      m.containers.list().map((c) => c.name),
      ['web'],
    );
  });
});

describe('NetworkRecords', () => {
  const m = open();
  const net = (id: string, name: string): NetworkRecord => ({
    id,
    name,
    bridge: `br-${id.slice(0, 12)}`,
    subnet: '10.89.0.0/24',
    gateway: '10.89.0.1',
    labels: { 'a"b': `c'd` },
    created: '2026-01-01T00:00:00.000Z',
  });

  it('inserts a network and reads it back by name, id and unique id prefix', () => {
    const n = net('12ab'.padEnd(64, '0'), 'front');
    m.networks.insert(n);
    for (const key of ['front', n.id, '1', '12a']) assert.deepEqual(m.networks.find(key), n, key);
    assert.deepEqual(m.networks.list(), [n]);
  });

  it('matches an id prefix exactly: `_` and `%` are characters, not wildcards', () => {
    m.networks.insert(net('12cd'.padEnd(64, '0'), 'back'));
    assert.throws(
      () => m.networks.find('12'),
      (e) => isBerthError(e, 'INVALID_ARGUMENT'),
    );
    for (const key of ['1_a', '1%', '%', '_', '12A', LONG]) {
      assert.equal(m.networks.find(key), undefined, key);
      assert.throws(
        () => m.networks.require(key),
        (e) => isBerthError(e, 'NOT_FOUND'),
      );
    }
  });

  for (const name of HOSTILE) {
    it(`keeps a hostile name as a value: ${JSON.stringify(name.slice(0, 40))}`, () => {
      const id = `${(dbs++).toString(16)}`.padStart(64, 'e');
      m.networks.insert(net(id, name));
      assert.equal(m.networks.find(name)?.id, id);
      m.networks.delete(id);
      assert.equal(m.networks.find(name), undefined);
    });
  }

  it('refuses a taken name or id with CONFLICT', () => {
    assert.throws(
      () => m.networks.insert(net('f'.repeat(64), 'front')),
      (e) => isBerthError(e, 'CONFLICT'),
    );
    assert.throws(
      () => m.networks.insert(net(m.networks.require('front').id, 'new')),
      (e) => isBerthError(e, 'CONFLICT'),
    );
  });

  it('createNetworkRecord checks the name and picks a free subnet over the repository', () => {
    const rec = createNetworkRecord(m.networks, 'made', { hostRoutes: ['10.89.1.0/24'] });
    assert.equal(rec.subnet, '10.89.2.0/24', 'skips the subnet of front/back and a host route');
    assert.deepEqual(m.networks.require('made'), rec);
    assert.throws(
      () => createNetworkRecord(m.networks, 'made', { hostRoutes: [] }),
      (e) => isBerthError(e, 'CONFLICT'),
    );
    for (const bad of ['50%', 'a b', `it's`, '_x'])
      assert.throws(
        () => createNetworkRecord(m.networks, bad, { hostRoutes: [] }),
        (e) => isBerthError(e, 'INVALID_ARGUMENT'),
        bad,
      );
  });
});

describe('VolumeRecords', () => {
  const m = open();

  it('adds a volume once: a second add of the name keeps the first', () => {
    assert.equal(m.volumes.insertIfAbsent({ name: 'data', created: 'c1', labels: { k: 'v' }, anonymous: false }), true);
    assert.equal(m.volumes.insertIfAbsent({ name: 'data', created: 'c2', labels: {}, anonymous: true }), false);
    assert.deepEqual(m.volumes.get('data'), { name: 'data', created: 'c1', labels: { k: 'v' }, anonymous: false });
  });

  for (const name of HOSTILE) {
    it(`keeps a hostile name as a value: ${JSON.stringify(name.slice(0, 40))}`, () => {
      assert.equal(m.volumes.insertIfAbsent({ name, created: 'c', labels: {}, anonymous: true }), true);
      assert.equal(m.volumes.get(name)?.name, name);
      assert.equal(m.volumes.delete(name), true);
      assert.equal(m.volumes.get(name), undefined);
    });
  }

  it('lists by name, counts, and says whether a remove removed anything', () => {
    m.volumes.insertIfAbsent({ name: 'a', created: 'c', labels: {}, anonymous: true });
    assert.deepEqual(
      m.volumes.list().map((v) => v.name),
      ['a', 'data'],
    );
    assert.equal(m.volumes.count(), 2);
    assert.equal(m.volumes.delete('a'), true);
    assert.equal(m.volumes.delete('a'), false);
    assert.equal(m.volumes.get('a'), undefined);
  });
});

describe('BuildCacheRecords', () => {
  const m = open();

  it("keeps a step's layer and a build's image config apart, under their keys", () => {
    m.buildCache.putLayer('step', digest('1'), 123, 1000);
    m.buildCache.putConfig('image', digest('2'), 1000);
    assert.deepEqual(m.buildCache.layerOf('step'), { diffId: digest('1'), size: 123, lastUsed: 1000 });
    assert.equal(m.buildCache.configOf('image'), digest('2'));
    assert.equal(m.buildCache.layerOf('image'), undefined, 'a build entry has no layer');
    assert.equal(m.buildCache.configOf('step'), undefined, 'a step entry has no config');
  });

  const missing = ['nope', '%', '_', `'`, LONG];
  for (const key of missing) it(`misses ${JSON.stringify(key.slice(0, 20))}`, () => assert.equal(m.buildCache.layerOf(key), undefined));

  it('records a hit, replaces an entry, names what gc keeps, counts and removes', () => {
    assert.equal(m.buildCache.entryTimes('step')?.usageCount, 1, 'its making is its first use');
    m.buildCache.recordHit('step', 5000);
    m.buildCache.recordHit('image', 5000);
    m.buildCache.recordHit('image', 5000);
    assert.equal(m.buildCache.layerOf('step')?.lastUsed, 5000);
    assert.deepEqual(
      m.buildCache.steps().map((s) => [s.key, s.usageCount]),
      [['step', 2]],
    );
    assert.equal(m.buildCache.entryTimes('image')?.usageCount, 3);
    m.buildCache.recordHit('nope', 5000);
    assert.equal(m.buildCache.count(), 2, 'a hit on no entry makes none');
    m.buildCache.putLayer('step', digest('3'), 7, 6000);
    assert.deepEqual(m.buildCache.layerOf('step'), { diffId: digest('3'), size: 7, lastUsed: 6000 });
    assert.equal(m.buildCache.entryTimes('step')?.usageCount, 1, 'a replaced entry starts again');
    assert.deepEqual(m.buildCache.references(), { layers: [digest('3')], configs: [digest('2')] });
    assert.equal(m.buildCache.count(), 2);
    assert.equal(m.buildCache.delete('step'), true);
    assert.equal(m.buildCache.delete('step'), false);
    assert.equal(m.buildCache.count(), 1);
  });
});

describe('FileHashRecords', () => {
  const m = open();
  const h = (d: string) => ({ statKey: `1:2:${d}`, digest: d.repeat(64).slice(0, 64) });

  it('gives back the hashes of the files under a dir, and only those', () => {
    m.fileHashes.rememberAll([
      ['/ctx/a', h('a')],
      ['/ctx/sub/b', h('b')],
      ['/ctx0/c', h('c')],
      ['/ctx-x/d', h('d')],
      ['/ctx', h('e')],
      ['/ct/f', h('f')],
      [`/ctx/it's 50%_\\`, h('1')],
    ]);
    const under = m.fileHashes.under('/ctx');
    assert.deepEqual([...under.keys()].sort(), ['/ctx/a', `/ctx/it's 50%_\\`, '/ctx/sub/b']);
    assert.deepEqual(under.get('/ctx/a'), h('a'));
    assert.deepEqual([...m.fileHashes.under('/ctx/').keys()].sort(), [...under.keys()].sort(), 'a trailing slash is the same dir');
    assert.equal(m.fileHashes.under('/nowhere').size, 0);
  });

  it("replaces a changed file's hash; an empty batch writes nothing", () => {
    m.fileHashes.rememberAll([['/ctx/a', h('2')]]);
    m.fileHashes.rememberAll([]);
    assert.deepEqual(m.fileHashes.under('/ctx').get('/ctx/a'), h('2'));
  });

  it("remembers a selection's digest with the stat signature it was computed under", () => {
    assert.equal(m.fileHashes.selection('sel'), undefined);
    m.fileHashes.rememberSelection('sel', 'sig1', 'd1');
    m.fileHashes.rememberSelection('sel', 'sig2', 'd2');
    assert.deepEqual(m.fileHashes.selection('sel'), { statSig: 'sig2', digest: 'd2' });
    m.fileHashes.rememberSelection(LONG, 's', 'd');
    assert.deepEqual(m.fileHashes.selection(LONG), { statSig: 's', digest: 'd' });
  });
});

describe('ImageRecords', () => {
  const m = open();
  const img = {
    id: digest('9'),
    manifestDigest: digest('8'),
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 10,
    os: 'linux',
    architecture: 'amd64',
    addedAt: 1,
  };

  it('records an image with tags, resolves them, untags and deletes', () => {
    m.images.put(img, ['docker.io/library/bb:1', `x/it's:50%`]);
    assert.equal(m.images.resolveTag(`x/it's:50%`), img.id);
    assert.equal(m.images.resolveTag('x/it_s:50%'), undefined);
    assert.deepEqual(
      m.images.byIdPrefix('99').map((i) => i.id),
      [img.id],
    );
    assert.deepEqual(m.images.byIdPrefix('9%'), []);
    assert.equal(m.images.untag(`x/it's:50%`), true);
    assert.equal(m.images.untag(`x/it's:50%`), false);
    m.images.delete(img.id);
    assert.equal(m.images.get(img.id), undefined);
    assert.equal(m.images.resolveTag('docker.io/library/bb:1'), undefined);
  });

  it('keeps what an image was built from, its text bounded, and forgets it with the image', () => {
    m.images.put(img);
    const lines = [null, [2, 2], [3, 5]] as const;
    m.images.putBuildSource(img.id, { file: `it's "a".Dockerfile`, text: 'FROM x\n', lines });
    assert.deepEqual(m.images.buildSource(img.id), { file: `it's "a".Dockerfile`, text: 'FROM x\n', lines });
    // A longer Dockerfile keeps its lines, not its text; a second build of the same image replaces the first's.
    m.images.putBuildSource(img.id, { file: 'Dockerfile', text: `#${'x'.repeat(MAX_SOURCE_TEXT)}`, lines: [[1, 1]] });
    assert.deepEqual(m.images.buildSource(img.id), { file: 'Dockerfile', lines: [[1, 1]] });
    assert.equal(m.images.buildSource(digest('7')), undefined);
    assert.throws(() => m.images.putBuildSource(digest('7'), { file: 'Dockerfile', lines: [] }), /FOREIGN KEY/, 'only a recorded image keeps one');
    m.images.delete(img.id);
    assert.equal(m.images.buildSource(img.id), undefined);
  });
});

describe('Metadata', () => {
  const m = open();

  it('commits what a write-locked function did, and rolls it back when the function throws', async () => {
    await m.writeLocked(async () => {
      m.volumes.insertIfAbsent({ name: 'kept', created: 'c', labels: {}, anonymous: false });
    });
    await assert.rejects(
      m.writeLocked(async () => {
        m.volumes.insertIfAbsent({ name: 'dropped', created: 'c', labels: {}, anonymous: false });
        await new Promise((r) => setImmediate(r));
        throw new Error('stop');
      }),
      /stop/,
    );
    assert.deepEqual(
      m.volumes.list().map((v) => v.name),
      ['kept'],
    );
  });

  it('finds a sound database sound', () => assert.deepEqual(m.integrityProblems(), []));
});
