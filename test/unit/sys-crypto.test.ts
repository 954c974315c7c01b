/** src/sys/crypto.ts: the addon's SHA-256 gives node:crypto's digests; random ids look random. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSha256, randomHex, randomInt } from '../../src/sys/crypto.ts';
import { sys } from '../../src/sys/index.ts';

const reference = (parts: ReadonlyArray<Uint8Array | string>) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

const CASES: Array<[string, ReadonlyArray<Uint8Array | string>]> = [
  ['nothing', []],
  ['an empty string', ['']],
  ['abc', ['abc']],
  ['UTF-8 text', ['naïve café ✓ 日本']],
  ['a string past the on-stack copy', ['x'.repeat(5000) + 'é'.repeat(700)]],
  ['a Buffer', [Buffer.from('hello world')]],
  ['a view into a bigger buffer', [Buffer.from('..payload..').subarray(2, 9)]],
  ['a Uint8Array', [new Uint8Array([0, 1, 2, 255])]],
  ['many parts, mixed', ['tar header', Buffer.alloc(512, 7), 'x', Buffer.alloc(3 << 20, 1)]],
];

describe('createSha256', () => {
  it('is the addon when it is built (npm run build makes it)', () => {
    assert.equal(typeof sys()?.sha256New, 'function');
  });

  for (const [name, parts] of CASES) {
    it(`matches node:crypto on ${name}`, () => {
      const h = createSha256();
      for (const p of parts) h.update(p);
      assert.equal(h.digest('hex'), reference(parts));
    });
  }

  it('gives the digest as bytes, once', () => {
    const h = createSha256().update('abc');
    assert.deepEqual(h.digest(), createHash('sha256').update('abc').digest());
    assert.throws(() => h.digest(), /digested/);
    assert.throws(() => h.update('more'), /digested/);
  });

  it('without the addon (BERTH_NO_NATIVE=1) node:crypto gives the same', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/sys/crypto.ts').then((m) => console.log(m.createSha256().update('abc').update(Buffer.from('def')).digest('hex')))",
      ],
      { env: { ...process.env, BERTH_NO_NATIVE: '1' } },
    );
    assert.equal(out.toString().trim(), reference(['abc', 'def']));
  });
});

describe('random ids', () => {
  it('randomHex gives that many bytes, different each time', () => {
    const seen = new Set(Array.from({ length: 200 }, () => randomHex(8)));
    assert.equal(seen.size, 200);
    for (const v of seen) assert.match(v, /^[0-9a-f]{16}$/);
    assert.match(randomHex(32), /^[0-9a-f]{64}$/);
  });

  it('randomInt stays in range and reaches every value', () => {
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[randomInt(7)]!++;
    for (const c of counts) assert.ok(c > 700 && c < 1300, `uneven: ${counts.join(',')}`);
    assert.equal(randomInt(1), 0);
    assert.throws(() => randomInt(0), RangeError);
    assert.throws(() => randomInt(1.5), RangeError);
  });
});
