/**
 * Multi-platform builds' pure parts and records: the `--platform` list (hostile strings,
 * duplicates, BuildKit's arm64 without a variant), a stage's platform, and the index rows a tag
 * holds, which every way of moving or removing the tag keeps consistent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePlatformList, stagePlatform } from '../../src/builder/multi-platform.ts';
import { isBerthError } from '../../src/errors/index.ts';
import type { Digest } from '../../src/oci/digest.ts';
import type { ImageRecord } from '../../src/store/images.ts';
import { Metadata } from '../../src/store/metadata.ts';

describe('parsePlatformList', () => {
  it('reads one platform or a list, as BuildKit names them', () => {
    assert.deepEqual(parsePlatformList(undefined), []);
    assert.deepEqual(parsePlatformList(''), []);
    assert.deepEqual(parsePlatformList('linux/amd64'), [{ os: 'linux', architecture: 'amd64' }]);
    assert.deepEqual(parsePlatformList('linux/amd64, linux/arm64,linux/arm/v6'), [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
    ]);
    assert.deepEqual(parsePlatformList('linux/aarch64'), [{ os: 'linux', architecture: 'arm64' }]);
    assert.deepEqual(parsePlatformList('LINUX/X86_64'), [{ os: 'linux', architecture: 'amd64' }]);
  });

  const refused: Array<[string, RegExp]> = [
    ['linux/foo', /unknown operating system or architecture/],
    ['beos/amd64', /unknown operating system or architecture/],
    ['linux/amd64/v2/extra', /invalid platform/],
    ['linux//amd64', /invalid platform/],
    ['linux/amd64,', /invalid platform/],
    [',', /invalid platform/],
    ['linux/amd64,linux/amd64', /duplicate platform linux\/amd64/],
    ['linux/arm64,linux/arm64/v8', /duplicate platform linux\/arm64/],
    ['linux/amd64,x86_64', /duplicate platform linux\/amd64/],
    ['../../etc/passwd', /invalid platform|unknown operating system/],
    ['linux/$(id)', /unknown operating system or architecture/],
  ];
  for (const [spec, want] of refused) {
    it(`refuses ${JSON.stringify(spec)}`, () => {
      assert.throws(
        () => parsePlatformList(spec),
        (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && want.test(e.message),
      );
    });
  }

  it("gives a stage FROM --platform's platform, else the one asked for", () => {
    assert.deepEqual(stagePlatform('linux/amd64', { os: 'linux', architecture: 'arm64' }), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(stagePlatform(undefined, { os: 'linux', architecture: 'arm64' }), { os: 'linux', architecture: 'arm64' });
    assert.equal(stagePlatform(undefined, undefined), undefined);
  });
});

describe('ImageRecords: a tag holding an index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-index-rows-'));
  const m = new Metadata(join(dir, 'metadata.db'));
  after(() => {
    m.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const digest = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;
  const image = (c: string, architecture: string): ImageRecord => ({
    id: digest(c),
    manifestDigest: digest(c === 'a' ? 'c' : 'd'),
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 1,
    os: 'linux',
    architecture,
    addedAt: 1,
  });
  const amd = image('a', 'amd64');
  const arm = image('b', 'arm64');
  const index = digest('e');
  const name = "docker.io/library/it's:1";
  const hold = () => {
    m.images.put(amd);
    m.images.put(arm);
    m.images.putIndex(name, index, amd.id, [amd.id, arm.id]);
  };

  it('points the tag at one child and names the index with all of them', () => {
    hold();
    assert.equal(m.images.resolveTag(name), amd.id);
    assert.deepEqual(m.images.indexOf(name), { digest: index, children: [amd.id, arm.id] });
    assert.deepEqual(m.images.indexes(), { digests: new Set([index]), children: new Set([amd.id, arm.id]) });
  });

  it('a tag moved to one image (put, tag) or removed no longer holds the index', () => {
    hold();
    m.images.put(arm, [name]);
    assert.equal(m.images.indexOf(name), undefined);
    hold();
    m.images.tag(name, arm.id);
    assert.equal(m.images.indexOf(name), undefined);
    hold();
    m.images.untag(name);
    assert.equal(m.images.indexOf(name), undefined);
    assert.equal(m.images.resolveTag(name), undefined);
  });

  it('tag copies the index to the new name; deleting a child drops the index it was in', () => {
    hold();
    m.images.tag('docker.io/library/copy:1', amd.id, m.images.indexOf(name));
    assert.deepEqual(m.images.indexOf('docker.io/library/copy:1'), { digest: index, children: [amd.id, arm.id] });
    m.images.delete(arm.id);
    assert.equal(m.images.indexOf(name), undefined);
    assert.equal(m.images.indexOf('docker.io/library/copy:1'), undefined);
    assert.equal(m.images.resolveTag(name), amd.id);
  });
});
