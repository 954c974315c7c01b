/**
 * What the fuzzer found (test/fuzz, scripts/fuzz.sh), minimized: each input once crashed,
 * hung or broke an invariant, and must now succeed or fail with a typed error, quickly.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BerthError } from '../../src/errors/index.ts';
import {
  IgnoreMatcher,
  loadDockerfile,
  parseIgnoreFile,
  pathGlob,
  processWord,
  resolveBuild,
  ShellError,
  suggestInstruction,
} from '../../src/dockerfile/index.ts';
import { readTar } from '../../src/layer/index.ts';
import { familiarName, parseReference } from '../../src/reference/index.ts';
import { encodeHeader, END_OF_ARCHIVE } from '../../src/layer/tar-format.ts';

/** Runs `f` and says how it ended: 'ok', the BerthError's code, or 'ShellError'. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof BerthError) return e.code;
    if (e instanceof ShellError) return 'ShellError';
    throw e;
  }
}

function timed<T>(ms: number, f: () => T): T {
  const t0 = performance.now();
  const r = f();
  const took = performance.now() - t0;
  assert.ok(took < ms, `took ${Math.round(took)} ms (limit ${ms})`);
  return r;
}

describe('Dockerfile and word expansion', () => {
  const cases: Array<{ name: string; run: () => unknown; want: string }> = [
    {
      name: '${ nested 10 000 deep: a typed error, not a stack overflow',
      run: () => processWord(`${'${a:-'.repeat(10_000)}x${'}'.repeat(10_000)}`, new Map()),
      want: 'ShellError',
    },
    { name: '${ nested 200 deep still expands', run: () => assert.equal(processWord(`${'${a:-'.repeat(200)}x${'}'.repeat(200)}`, new Map()), 'x'), want: 'ok' },
    {
      name: 'the same nesting in a COPY is a SYNTAX error at its line',
      run: () => resolveBuild(loadDockerfile(`FROM a\nCOPY ${'${a:-'.repeat(5000)}x /\n`)),
      want: 'SYNTAX',
    },
    {
      name: '40 000 comment lines (the comment list was copied per line)',
      run: () => loadDockerfile(`${'# licence\n\n#x\n'.repeat(20_000)}FROM a\n`),
      want: 'ok',
    },
    {
      name: 'a directive-like line of 100 000 spaces (the directive RegExp was quadratic)',
      run: () => loadDockerfile(`#a=${' x'.repeat(50_000)}\nFROM a\n`),
      want: 'ok',
    },
    { name: 'a blank directive value is its last character, as BuildKit reads it', run: () => loadDockerfile('# escape=  \nFROM a\n'), want: 'SYNTAX' },
    { name: '2 000 heredocs on one line', run: () => loadDockerfile(`FROM a\nRUN ${'<<E '.repeat(2000)}\n${'E\n'.repeat(2000)}`), want: 'ok' },
    { name: 'a 100 kB unknown keyword: no suggestion measured against it', run: () => loadDockerfile(`${'A/'.repeat(50_000)} x\n`), want: 'SYNTAX' },
    {
      name: '${A#***…*b} on a long value (was exponential backtracking)',
      run: () => processWord(`\${A#${'*'.repeat(40)}b}`, new Map([['A', 'a'.repeat(5000)]])),
      want: 'ok',
    },
    { name: '${A//*a*a*a*a*a*a*a*a*c/x}', run: () => processWord('${A//*a*a*a*a*a*a*a*a*c/x}', new Map([['A', 'a'.repeat(2000)]])), want: 'ok' },
    {
      name: '${A//[a[[[[…} (each [ scanned the rest of the line for its ])',
      run: () => processWord(`\${A//[a${'['.repeat(50_000)}}`, new Map([['A', 'abc']])),
      want: 'ok',
    },
    { name: '${A%[z-a]}: an inverted range matches nothing', run: () => assert.equal(processWord('${A%[z-a]}', new Map([['A', 'abc']])), 'abc'), want: 'ok' },
  ];
  for (const c of cases)
    it(c.name, () =>
      assert.equal(
        timed(2000, () => outcome(c.run)),
        c.want,
      ),
    );

  it('lint of 10 000 RUNs in a row (the run list was copied per RUN)', async () => {
    const { lint } = await import('../../src/lint/index.ts');
    const df = loadDockerfile(`FROM a\n${'RUN x\n'.repeat(10_000)}`);
    const t0 = performance.now();
    const hits = (await lint({ file: 'Dockerfile', dockerfile: df })).filter((f) => f.ruleId === 'BL008');
    assert.ok(performance.now() - t0 < 3000);
    assert.equal(hits.length, 1);
    assert.match(hits[0]!.message, /^10000 consecutive RUN/);
  });

  it('suggestions still work for near misses', () => {
    assert.equal(suggestInstruction('RUNN'), 'RUN');
    assert.equal(suggestInstruction('x'.repeat(100_000)), undefined);
  });
});

describe('.dockerignore and COPY globs', () => {
  const cases: Array<{ name: string; patterns: string; path: string; want: boolean | string }> = [
    { name: '***…/** (was a hang)', patterns: `${'*'.repeat(200)}/**`, path: `${'a'.repeat(3000)}/b`, want: true },
    { name: '**/**/**… repeated', patterns: `${'**/'.repeat(1300)}x`, path: `${'a/'.repeat(1000)}y`, want: false },
    { name: '*a*a*a… against a long name without the tail', patterns: `${'*a'.repeat(30)}*c`, path: 'a'.repeat(4000), want: false },
    { name: '$$$…', patterns: '$'.repeat(4000), path: '$'.repeat(4000), want: true },
    {
      name: 'a pattern longer than PATH_MAX (was "regular expression too large", or minutes of matching)',
      patterns: `a/${'*txt'.repeat(50_000)}`,
      path: 'a/b',
      want: 'INVALID_ARGUMENT',
    },
    { name: '[z-a] is a class matching nothing (was a SyntaxError)', patterns: '[z-a]', path: 'b', want: false },
    { name: 'many [ and one ] (the unclosed check was quadratic)', patterns: `${'['.repeat(4000)}]`, path: 'x', want: false },
    { name: '[!a] in .dockerignore is the class of ! and a (a Go regexp), as before', patterns: '[!a]x', path: '!x', want: true },
    { name: '[!a] does not negate there', patterns: '[!a]x', path: 'bx', want: false },
    { name: '[^a] negates', patterns: '[^a]x', path: 'bx', want: true },
    { name: 'an unclosed [ is still an error', patterns: 'a[b', path: 'a', want: 'INVALID_ARGUMENT' },
    { name: 'a parent dir match still excludes the tree', patterns: 'docs\n!docs/keep', path: 'docs/a/b', want: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = timed(3000, () => {
        try {
          return new IgnoreMatcher(parseIgnoreFile(c.patterns)).matches(c.path);
        } catch (e) {
          if (e instanceof BerthError) return e.code;
          throw e;
        }
      });
      assert.equal(got, c.want);
    });
  }

  it('COPY source globs with the same shapes', () => {
    timed(2000, () => {
      assert.equal(pathGlob(`${'*a'.repeat(30)}*c`).test('a'.repeat(4000)), false);
      assert.equal(pathGlob('[z-a]').test('m'), false);
      assert.equal(pathGlob('[a-c]*.txt').test('b1.txt'), true);
    });
  });
});

describe('layer tar headers', () => {
  const base = () =>
    encodeHeader({ name: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() });
  const checksum = (b: Buffer) => {
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of b) sum += x;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    return b;
  };
  const field = (off: number, len: number, bytes: number[]) => {
    const b = base();
    b.fill(0, off, off + len);
    Buffer.from(bytes).copy(b, off);
    return checksum(b);
  };
  const pax = (record: string) => {
    const body = Buffer.from(record);
    const h = base();
    h[156] = 'x'.charCodeAt(0);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
    return Buffer.concat([checksum(h), body, Buffer.alloc(512 - body.length), base()]);
  };
  const cases: Array<{ name: string; tar: Buffer; want: string }> = [
    { name: 'a base-256 uid past 2^53 (was -9.3e18)', tar: field(108, 8, [0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), want: 'DATA_CORRUPT' },
    { name: 'a negative base-256 gid', tar: field(116, 8, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]), want: 'DATA_CORRUPT' },
    { name: 'a base-256 size of 2e28', tar: field(124, 12, [0x80, 0, 0x44, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12]), want: 'DATA_CORRUPT' },
    { name: 'a base-256 gid past 2^32 (was a RangeError from fchown)', tar: field(116, 8, [0x80, 0, 0, 0x94, 0x95, 0x6f, 0x29, 0x14]), want: 'DATA_CORRUPT' },
    { name: 'a small base-256 uid is fine', tar: field(108, 8, [0x80, 0, 0, 0, 0, 0, 0x03, 0xe8]), want: 'ok' },
    { name: 'PAX size "1.5"', tar: pax('12 size=1.5\n'), want: 'DATA_CORRUPT' },
    { name: 'PAX uid "0x10"', tar: pax('12 uid=0x10\n'), want: 'DATA_CORRUPT' },
    { name: 'PAX path with a NUL (was a TypeError from fs)', tar: pax('10 path=\0\n'), want: 'DATA_CORRUPT' },
    { name: 'PAX mtime with a fraction is fine', tar: pax('22 mtime=1700000000.5\n'), want: 'ok' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      let got = 'ok';
      try {
        for await (const e of readTar(Readable.from([Buffer.concat([c.tar, END_OF_ARCHIVE])]))) for await (const _ of e.body()) void _;
      } catch (e) {
        if (!(e instanceof BerthError)) throw e;
        got = e.code;
      }
      assert.equal(got, c.want);
    });
  }
});

describe('image references', () => {
  const cases: Array<[string, string]> = [
    // The short form must name the same image: without docker.io/ this is an image on MCR.
    ['index.docker.io/mcr.microsoft.com/devcontainers/python:3.14', 'docker.io/mcr.microsoft.com/devcontainers/python:3.14'],
    ['docker.io/localhost/x', 'docker.io/localhost/x'],
    ['docker.io/library/ubuntu:22.04', 'ubuntu:22.04'],
    ['docker.io/user/app', 'user/app'],
  ];
  for (const [input, familiar] of cases) {
    it(`${input} → ${familiar}, which parses back to it`, () => {
      const r = parseReference(input);
      assert.equal(familiarName(r), familiar);
      assert.deepEqual(parseReference(familiar), r);
    });
  }
});
