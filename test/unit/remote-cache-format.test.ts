/** --cache-to/--cache-from specs, and BuildKit's cache config as berth reads and writes it, with hostile input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/oci/digest.ts';
import { buildCacheConfig, cacheChains, inlineRecords } from '../../src/builder/remote-cache/format.ts';
import { historyMatch } from '../../src/builder/remote-cache/imports.ts';
import { parseCacheFrom, parseCacheTo } from '../../src/builder/remote-cache/options.ts';

const D = (c: string) => `sha256:${c.repeat(64)}` as Digest;

describe('cache specs', () => {
  it('reads the forms buildx takes', () => {
    assert.deepEqual(parseCacheTo('type=registry,ref=r.io/c:1,mode=max,mounts=true'), { type: 'registry', ref: 'r.io/c:1', mode: 'max', mounts: true });
    assert.deepEqual(parseCacheTo('type=local,dest=/tmp/c'), { type: 'local', dest: '/tmp/c', tag: 'latest', mode: 'min', mounts: false });
    assert.deepEqual(parseCacheTo('type=inline'), { type: 'inline' });
    assert.deepEqual(parseCacheFrom('r.io/c:1'), { type: 'registry', ref: 'r.io/c:1' });
    assert.deepEqual(parseCacheFrom('type=local,src=/tmp/c,tag=v1'), { type: 'local', src: '/tmp/c', tag: 'v1', digest: undefined });
    // Keys buildx takes that change nothing here are accepted.
    assert.equal(parseCacheTo('type=registry,ref=r.io/c:1,compression=zstd,oci-mediatypes=true').type, 'registry');
  });

  it('refuses bad specs with the reason', () => {
    for (const [spec, want] of [
      ['type=s3,ref=x', /unsupported cache type "s3"/],
      ['type=registry', /ref is required/],
      ['type=registry,ref=UPPER/Case', /not a valid reference/],
      ['type=registry,ref=r.io/c:1,mode=most', /mode is min or max/],
      ['type=registry,ref=r.io/c:1,mounts=yes', /mounts is true or false/],
      ['type=registry,ref=r.io/c:1,bogus=1', /unknown key "bogus"/],
      ['type=local', /dest is required/],
      ['type=local,dest=/tmp/x,tag=../../etc', /not a valid tag/],
      ['type=inline,mode=max', /mode=min/],
      ['novalue', /is not key=value/],
      ['type=registry,ref=r.io/c:1,ref=r.io/c:2', /given twice/],
      [`type=local,dest=${'x'.repeat(5000)}`, /longer than/],
    ] as const)
      assert.throws(() => parseCacheTo(spec), want, spec);
    assert.throws(() => parseCacheFrom('type=local,src=/tmp/x,digest=sha256:abc'), /digest is sha256/);
    assert.throws(() => parseCacheFrom('type=local'), /src is required/);
    assert.throws(() => parseCacheFrom('type=gha'), /unsupported cache type "gha"/);
  });
});

describe('cache config', () => {
  const chain = (keys: string[]) =>
    keys.map((k) => ({ blob: D(k), diffId: D(k.toUpperCase() === k ? k : String.fromCharCode(k.charCodeAt(0) + 1)), mediaType: 'm', size: 1 }));

  it('round-trips records into layer chains, sharing common layers', () => {
    const cfg = buildCacheConfig(
      [
        { key: 'k1', chain: chain(['a']) },
        { key: 'k2', parentKey: 'k1', chain: chain(['a', 'c']) },
        { key: 'k3', chain: chain(['a', 'e']) },
      ],
      '2024-01-01T00:00:00Z',
    );
    assert.equal(cfg.layers!.length, 3, 'layer a listed once');
    // A root's parent is written as -1: BuildKit (Go's omitempty) reads an absent parent as 0.
    assert.equal((JSON.parse(JSON.stringify(cfg)) as { layers: { parent?: number }[] }).layers[0]!.parent, -1);
    assert.deepEqual(cfg.records![1]!.inputs, [[{ selector: '', link: 0 }]]);
    const chains = cacheChains(JSON.parse(JSON.stringify(cfg)));
    assert.deepEqual(
      chains.get('k2')!.map((l) => l.blob),
      [D('a'), D('c')],
    );
  });

  it('refuses loops, bad indexes, bad digests and oversized lists', () => {
    assert.throws(() => cacheChains([]), /not a JSON object/);
    assert.throws(() => cacheChains({ layers: [{ blob: 'sha256:zz' }] }), /no valid blob digest/);
    assert.throws(() => cacheChains({ layers: [{ blob: D('a'), parent: 5 }] }), /invalid parent/);
    assert.throws(
      () =>
        cacheChains({
          layers: [
            { blob: D('a'), parent: 1 },
            { blob: D('b'), parent: 0 },
          ],
          records: [{ digest: 'k', layers: [{ layer: 0 }] }],
        }),
      /looping/,
    );
    assert.throws(() => cacheChains({ layers: [{ blob: D('a') }], records: [{ digest: 'k', layers: [{ layer: 0 }] }] }), /looping/, 'an absent parent is 0');
    assert.throws(() => cacheChains({ layers: [], records: [{ digest: 'k', layers: [{ layer: 3 }] }] }), /invalid layer index/);
    assert.throws(() => cacheChains({ records: [{ digest: 'k', inputs: [[]] }] }), /empty input/);
    assert.throws(() => cacheChains({ records: [{ digest: 'k', inputs: [[{ link: 9 }]] }] }), /missing record/);
    assert.throws(() => cacheChains({ records: [{ digest: 'k', chains: [{ layers: [-1] }] }] }), /invalid layer index/);
    assert.throws(() => cacheChains({ layers: [{ blob: D('a'), annotations: { diffID: '../x' } }] }), /invalid diffID/);
    assert.throws(() => cacheChains({ records: new Array(100_001).fill({ digest: 'k' }) }), /more than/);
  });

  it('inline records name only chains of the image, by layer index', () => {
    const recs = inlineRecords(
      [
        { key: 'k1', diffIds: [D('1')] },
        { key: 'k2', parentKey: 'k1', diffIds: [D('1'), D('2')] },
        { key: 'other', diffIds: [D('9')] },
      ],
      [D('1'), D('2')],
      '2024-01-01T00:00:00Z',
    );
    assert.deepEqual(
      recs.map((r) => [r.digest, r.layers![0]!.layer]),
      [
        ['k1', 0],
        ['k2', 1],
      ],
    );
  });
});

describe('history match for images built elsewhere', () => {
  const image = {
    diffIds: [D('1'), D('2'), D('3'), D('4')],
    layers: [],
    history: [
      { created_by: 'import' },
      { created_by: 'ENV A=1', empty_layer: true },
      { created_by: 'RUN /bin/sh -c one # buildkit' },
      { created_by: 'COPY x /x # buildkit' },
      { created_by: 'RUN /bin/sh -c two # buildkit' },
    ],
  };
  it("matches a RUN whose layers and history so far are the image's", () => {
    assert.equal(historyMatch(image, [D('1')], image.history.slice(0, 3)), 1);
  });
  it('matches past a COPY whose layer is the same; not a different command or env, nor other parents', () => {
    assert.equal(historyMatch(image, [D('1'), D('2'), D('3')], image.history), 3);
    assert.equal(historyMatch(image, [D('1')], [image.history[0]!, { created_by: 'ENV A=2', empty_layer: true }, image.history[2]!]), undefined);
    assert.equal(historyMatch(image, [D('1')], [image.history[0]!, image.history[1]!, { created_by: 'RUN /bin/sh -c other # buildkit' }]), undefined);
    assert.equal(historyMatch(image, [D('9')], image.history.slice(0, 3)), undefined);
  });
});
