/** Pull/push progress on a terminal: bars, bytes, rate, and each blob's final word. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/oci/digest.ts';
import { progressLine, transferRenderer } from '../../src/progress/transfer-tty.ts';
import { humanSize } from '../../src/progress/units.ts';

const A = `sha256:${'a'.repeat(64)}` as Digest;
const B = `sha256:${'b'.repeat(64)}` as Digest;

describe('transfer progress', () => {
  // Progress sizes are docker's (go-units HumanSize): four significant digits.
  const sizes: Array<[number, string]> = [
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [12_345_678, '12.35MB'],
    [48_100_000, '48.1MB'],
    [2_500_000_000, '2.5GB'],
  ];
  for (const [n, want] of sizes) it(`humanSize(${n}, 4) is ${want}`, () => assert.equal(humanSize(n, 4), want));

  it('a line has the bar, bytes of the total and the rate', () => {
    assert.equal(
      progressLine({ id: 'abc123def456', size: 1000_000, bytes: 500_000 }, 'Downloading', 1000),
      `abc123def456: Downloading [${'='.repeat(19)}>${' '.repeat(20)}]  500kB/1MB  500kB/s`,
    );
    assert.match(progressLine({ id: 'x', size: 10, bytes: 10 }, 'Pushing', 0), /\[={39}>\] {2}10B\/10B$/);
  });

  it("redraws in place and ends with every blob's final word", () => {
    let out = '';
    let t = 0;
    const r = transferRenderer(
      (s) => (out += s),
      { active: 'Downloading', done: 'Pull complete', exists: 'Already exists' },
      () => t,
    );
    r.onProgress({ kind: 'blob-start', digest: A, size: 2000, label: 'layer' });
    r.onProgress({ kind: 'blob-done', digest: B, skipped: 'exists' });
    t = 1000;
    r.onProgress({ kind: 'blob-progress', digest: A, bytes: 1000, size: 2000 });
    r.finish();
    const first = out;
    assert.match(first, /aaaaaaaaaaaa: Downloading \[=+> +\] {2}1kB\/2kB {2}1kB\/s\n/);
    assert.match(first, /bbbbbbbbbbbb: Already exists\n/);
    r.onProgress({ kind: 'blob-done', digest: A });
    r.finish();
    assert.ok(out.slice(first.length).startsWith('\x1b[2F\x1b[J'), 'the two lines are redrawn in place');
    assert.match(out.slice(first.length), /aaaaaaaaaaaa: Pull complete\n/);
  });
});
