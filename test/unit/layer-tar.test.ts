/**
 * The tar format both ways (header encoding, the streaming reader) and the path rules that
 * keep extraction inside its root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { archiveEntryPath, readTar, resolveInRootSync, tarCheck, type TarHeader } from '../../src/layer/index.ts';
import { encodeHeader, END_OF_ARCHIVE, padding, parseNumber } from '../../src/layer/tar-format.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-layer-tar-'));
after(() => rmSync(work, { recursive: true, force: true }));

function h(over: Partial<TarHeader> & { name: string }): TarHeader {
  return { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map(), ...over };
}

function tarBytes(entries: Array<{ header: TarHeader; body?: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(encodeHeader({ ...e.header, size: e.body?.length ?? e.header.size }));
    if (e.body) parts.push(e.body, Buffer.alloc(padding(e.body.length)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** One PAX record, "LEN key=value\n", where LEN counts itself. */
function paxRecord(k: string, v: string): string {
  const body = ` ${k}=${v}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

/** A global PAX header ('g') holding `records`, with its padding. */
function globalHeader(records: Buffer): Buffer {
  const g = encodeHeader(h({ name: 'pax_global_header', size: records.length }));
  g[156] = 'g'.charCodeAt(0);
  g.fill(0x20, 148, 156); // the checksum again, after the type flag changed
  let sum = 0;
  for (const b of g.subarray(0, 512)) sum += b;
  g.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([g, records, Buffer.alloc(padding(records.length))]);
}

async function readAll(bytes: Buffer, opts: { endInPadding?: boolean } = {}): Promise<Array<{ header: TarHeader; body: Buffer }>> {
  const out: Array<{ header: TarHeader; body: Buffer }> = [];
  for await (const e of readTar(Readable.from([bytes]), opts)) {
    const chunks: Buffer[] = [];
    for await (const c of e.body()) chunks.push(c);
    out.push({ header: e.header, body: Buffer.concat(chunks) });
  }
  return out;
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('encodeHeader ↔ readTar', () => {
  const cases: Array<{ name: string; header: TarHeader; body?: Buffer; pax: boolean }> = [
    { name: 'short name', header: h({ name: 'etc/hostname' }), body: Buffer.from('box\n'), pax: false },
    { name: '150-char name fits USTAR prefix+name', header: h({ name: `${'p'.repeat(60)}/${'q'.repeat(89)}` }), pax: false },
    { name: '300-char name needs PAX', header: h({ name: `${'d'.repeat(150)}/${'f'.repeat(149)}` }), body: Buffer.from('x'), pax: true },
    { name: 'non-ASCII name needs PAX', header: h({ name: 'caf\u00e9/\u65e5\u672c' }), pax: true },
    { name: 'long symlink target needs PAX', header: h({ name: 'l', type: 'symlink', linkname: 't'.repeat(101) }), pax: true },
    { name: 'uid over 7 octal digits needs PAX', header: h({ name: 'u', uid: 3_000_000, gid: 2_097_151 }), pax: true },
    {
      name: 'binary xattr value survives',
      header: h({
        name: 'cap',
        xattrs: new Map([
          ['security.capability', allBytes],
          ['user.note', Buffer.from('hi')],
        ]),
      }),
      pax: true,
    },
    { name: 'device numbers', header: h({ name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 }), pax: false },
    { name: 'dir, setuid/sticky modes', header: h({ name: 'tmp/', type: 'directory', mode: 0o1777 }), pax: false },
    { name: 'hardlink', header: h({ name: 'b', type: 'link', linkname: 'a', mode: 0o4755 }), pax: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const bytes = tarBytes([{ header: c.header, body: c.body }]);
      assert.equal(bytes.includes('PaxHeaders'), c.pax, 'PAX only when needed');
      const [got] = await readAll(bytes);
      const want = { ...c.header, size: c.header.type === 'file' ? (c.body?.length ?? 0) : 0 };
      assert.deepEqual({ ...got!.header, size: got!.header.type === 'file' ? got!.header.size : 0 }, want);
      assert.ok(got!.body.equals(c.body ?? Buffer.alloc(0)));
      // GNU tar reads the same header (names, ids, PAX) without complaint.
      const listing = execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: bytes }).toString();
      assert.ok(listing.includes(c.header.name.replace(/\/$/, '')), listing);
    });
  }

  it('encodes sizes beyond 8 GiB in PAX', () => {
    const bytes = encodeHeader(h({ name: 'huge', size: 10 * 2 ** 30 }));
    assert.ok(bytes.includes(`size=${10 * 2 ** 30}\n`));
  });
});

describe('readTar', () => {
  it("reads tar-stream's output, PAX included", async () => {
    const pack = tar.pack();
    pack.entry({ name: `${'x'.repeat(200)}/f`, uid: 5, gid: 6, mtime: new Date(1e12) }, 'body');
    pack.entry({ name: 'l', type: 'symlink', linkname: 'f' });
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
    const got = await readAll(Buffer.concat(chunks));
    assert.deepEqual(
      got.map((e) => [e.header.name, e.header.uid, e.header.gid, e.body.toString()]),
      [
        [`${'x'.repeat(200)}/f`, 5, 6, 'body'],
        ['l', 0, 0, ''],
      ],
    );
  });

  it("reads GNU tar's long names (gnu format) and xattrs (posix format)", async () => {
    const dir = join(work, 'gnu');
    const long = `${'n'.repeat(130)}/${'m'.repeat(130)}`;
    mkdirSync(join(dir, long), { recursive: true });
    writeFileSync(join(dir, long, 'f'), 'gnu');
    symlinkSync('z'.repeat(120), join(dir, 'sl'));
    writeFileSync(join(dir, 'cap'), 'c');
    execFileSync('setfattr', ['-n', 'user.k', '-v', '0x00ff10', join(dir, 'cap')]);
    for (const format of ['gnu', 'posix']) {
      const bytes = execFileSync('tar', [`--format=${format}`, '--xattrs', '--xattrs-include=user.*', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 24 });
      const got = await readAll(bytes);
      const byName = new Map(got.map((e) => [e.header.name.replace(/^\.\//, ''), e]));
      assert.equal(byName.get(`${long}/f`)?.body.toString(), 'gnu', format);
      assert.equal(byName.get('sl')?.header.linkname, 'z'.repeat(120), format);
      if (format === 'posix') assert.deepEqual(byName.get('cap')?.header.xattrs.get('user.k'), Buffer.from([0, 0xff, 0x10]));
    }
  });

  // Go's archive/tar hands a global header over as an entry of its own and applies none of
  // it to later entries; Docker's extraction ignores that entry. berth must see the same tree.
  const globalCases: Array<{ records: Array<[string, string]>; check: keyof TarHeader; want: unknown[] }> = [
    { records: [['path', 'etc/passwd']], check: 'name', want: ['a', 'b'] },
    {
      records: [
        ['uid', '4242'],
        ['gid', '4242'],
      ],
      check: 'uid',
      want: [0, 0],
    },
    { records: [['linkpath', '/etc/shadow']], check: 'linkname', want: ['', ''] },
    { records: [['size', '9999']], check: 'size', want: [0, 0] },
    { records: [['SCHILY.xattr.security.capability', 'x']], check: 'xattrs', want: [new Map(), new Map()] },
    { records: [['GNU.sparse.major', '1']], check: 'type', want: ['file', 'file'] },
  ];
  for (const c of globalCases) {
    it(`ignores a global PAX header's ${c.records.map(([k]) => k).join(', ')}, as Go's reader does`, async () => {
      const global = Buffer.from(c.records.map(([k, v]) => paxRecord(k, v)).join(''));
      const bytes = Buffer.concat([globalHeader(global), tarBytes([{ header: h({ name: 'a' }) }, { header: h({ name: 'b' }) }])]);
      const got = await readAll(bytes);
      assert.deepEqual(
        got.map((e) => e.header[c.check]),
        c.want,
      );
    });
  }

  it('rejects a malformed global PAX header, as Go does', async () => {
    const bytes = Buffer.concat([globalHeader(Buffer.from('99 path=x\n')), tarBytes([{ header: h({ name: 'a' }) }])]);
    await assert.rejects(readAll(bytes), /invalid PAX record/);
  });

  it("a client's archive may lack its last entry's padding and end marker (the docker CLI's `build -f -` context); a layer may not", async () => {
    const whole = tarBytes([
      { header: h({ name: 'Dockerfile' }), body: Buffer.from('FROM bb:1\n') },
      { header: h({ name: '.dockerignore' }), body: Buffer.from('.dockerignore\n') },
    ]);
    const cut = whole.subarray(0, 512 + 512 + 512 + '.dockerignore\n'.length);
    await assert.rejects(readAll(cut), /ends in the middle of the entry ".dockerignore"/);
    const got = await readAll(cut, { endInPadding: true });
    assert.deepEqual(
      got.map((e) => [e.header.name, e.body.toString()]),
      [
        ['Dockerfile', 'FROM bb:1\n'],
        ['.dockerignore', '.dockerignore\n'],
      ],
    );
    await assert.rejects(readAll(cut.subarray(0, cut.length - 1), { endInPadding: true }), /ends in the middle of the entry ".dockerignore"/);
  });

  it('skips unread bodies and reads every byte of the source (for the diffID)', async () => {
    const bytes = Buffer.concat([
      tarBytes([
        { header: h({ name: 'a' }), body: Buffer.alloc(3000, 1) },
        { header: h({ name: 'b' }), body: Buffer.from('b') },
      ]),
      Buffer.alloc(10_240),
    ]);
    let consumed = 0;
    const src = Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += 700) {
          consumed += Math.min(700, bytes.length - i);
          yield bytes.subarray(i, i + 700);
        }
      })(),
    );
    const names: string[] = [];
    for await (const e of readTar(src)) names.push(e.header.name);
    assert.deepEqual(names, ['a', 'b']);
    assert.equal(consumed, bytes.length);
  });
});

describe('readTar chunking', () => {
  // Headers, PAX records and bodies that straddle chunks, or arrive whole with their header
  // (then `data` carries the body), must read the same.
  const bytes = tarBytes([
    { header: h({ name: 'small' }), body: Buffer.from('tiny body') },
    { header: h({ name: `${'d'.repeat(150)}/${'f'.repeat(149)}`, uid: 3_000_000 }), body: Buffer.alloc(3000, 7) },
    { header: h({ name: 'empty' }), body: Buffer.alloc(0) },
    { header: h({ name: 'dir/', type: 'directory', mode: 0o755 }) },
    { header: h({ name: 'x', xattrs: new Map([['user.k', Buffer.from([0, 1, 2])]]) }), body: Buffer.alloc(512, 9) },
    { header: h({ name: 'last' }), body: Buffer.alloc(1, 3) },
  ]);
  const read = async (size: number) => {
    const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    const out: Array<{ header: TarHeader; body: string; data: string | undefined }> = [];
    for await (const e of readTar(Readable.from(chunks))) {
      const parts: Buffer[] = [];
      for await (const c of e.body()) parts.push(c);
      out.push({ header: e.header, body: Buffer.concat(parts).toString('hex'), data: e.data?.toString('hex') });
    }
    return out;
  };
  for (const size of [1, 100, 511, 512, 513, 1024, 4096]) {
    it(`${size}-byte chunks read as one buffer does`, async () => {
      const whole = await read(bytes.length);
      assert.equal(whole.length, 6);
      for (const e of whole) assert.equal(e.data, e.header.type === 'file' ? e.body : '', e.header.name);
      const got = await read(size);
      assert.deepEqual(
        got.map(({ header, body }) => ({ header, body })),
        whole.map(({ header, body }) => ({ header, body })),
      );
      for (const e of got) if (e.data !== undefined) assert.equal(e.data, e.body, e.header.name);
    });
  }
});

describe('parseNumber', () => {
  const field = (text: string, len = 8) => Buffer.concat([Buffer.from(text, 'latin1'), Buffer.alloc(Math.max(0, len - text.length))]).subarray(0, len);
  const cases: Array<[string, number | 'throws']> = [
    ['0000644\0', 0o644],
    ['644 \0', 0o644],
    ['644', 0o644],
    ['  644 ', 0o644],
    ['', 0],
    ['7777777', 0o7777777],
    ['12 3', 'throws'],
    ['0008', 'throws'],
    ['64x', 'throws'],
    ['123\0junk', 0o123],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text), () => {
      const buf = field(text.replace('\\0', '\0'));
      if (want === 'throws') assert.throws(() => parseNumber(buf, 0, 8), /invalid number/);
      else assert.equal(parseNumber(buf, 0, 8), want);
    });
  }
  it('reads base-256 numbers', () => {
    const buf = Buffer.alloc(8);
    buf[0] = 0x80;
    buf.writeUInt32BE(0x12345678, 4);
    assert.equal(parseNumber(buf, 0, 8), 0x12345678);
  });
});

describe('archiveEntryPath', () => {
  const cases: Array<[string, string | 'UNSAFE_PATH']> = [
    ['etc/passwd', 'etc/passwd'],
    ['./etc//passwd', 'etc/passwd'],
    ['/etc/passwd', 'etc/passwd'],
    ['a/../b', 'b'],
    ['dir/', 'dir'],
    ['./', ''],
    ['..', 'UNSAFE_PATH'],
    ['../x', 'UNSAFE_PATH'],
    ['a/../../x', 'UNSAFE_PATH'],
    ['/../x', 'UNSAFE_PATH'],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${want || '(root)'}`, () => {
      if (want === 'UNSAFE_PATH') assert.throws(() => archiveEntryPath(input), { code: 'UNSAFE_PATH' });
      else assert.equal(archiveEntryPath(input), want);
    });
  }
});

describe('resolveInRootSync', () => {
  const root = join(work, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('/usr', join(root, 'abs'));
  symlinkSync('../../../../..', join(root, 'up'));
  symlinkSync('/etc', join(root, 'cfg'));
  symlinkSync('loop', join(root, 'loop'));
  const cases: Array<{ rel: string; follow: boolean; want: string; via: boolean }> = [
    { rel: 'usr/lib/x', follow: true, want: 'usr/lib/x', via: false },
    { rel: 'lib/x', follow: true, want: 'usr/lib/x', via: true },
    { rel: 'lib', follow: false, want: 'lib', via: false },
    { rel: 'abs/lib', follow: true, want: 'usr/lib', via: true },
    { rel: 'up/etc/passwd', follow: true, want: 'etc/passwd', via: true },
    { rel: 'cfg/passwd', follow: true, want: 'etc/passwd', via: true },
    { rel: 'up/cfg', follow: false, want: 'cfg', via: true },
    { rel: '../../x', follow: true, want: 'x', via: false },
    { rel: 'missing/a/b', follow: true, want: 'missing/a/b', via: false },
  ];
  for (const c of cases) {
    it(`${c.rel}${c.follow ? '' : ' (final not followed)'} → ${c.want}`, () => {
      const r = resolveInRootSync(root, c.rel, { followFinal: c.follow });
      assert.equal(r.path, join(root, c.want));
      assert.equal(r.viaSymlink, c.via);
    });
  }
  it('refuses a symlink loop', () => {
    assert.throws(() => resolveInRootSync(root, 'loop/x', { followFinal: true }), { code: 'UNSAFE_PATH' });
  });
});

describe('tarCheck (import: bytes pass only as a tar)', () => {
  async function through(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<Buffer> {
    const out: Buffer[] = [];
    const check = tarCheck();
    const done = pipeline(Readable.from(chunks), check, async (src: AsyncIterable<Buffer>) => {
      for await (const c of src) out.push(c);
    });
    await done;
    return Buffer.concat(out);
  }

  it('passes a tar through unchanged, in small chunks or one', async () => {
    const bytes = Buffer.concat([
      tarBytes([{ header: h({ name: 'a' }), body: Buffer.alloc(3000, 7) }, { header: h({ name: 'b/', type: 'directory' }) }]),
      Buffer.alloc(9000),
    ]);
    assert.deepEqual(await through([bytes]), bytes);
    const small = Array.from({ length: Math.ceil(bytes.length / 333) }, (_, i) => bytes.subarray(i * 333, i * 333 + 333));
    assert.deepEqual(await through(small), bytes);
  });

  it('fails at the first header of what is not a tar', async () => {
    await assert.rejects(through([Buffer.alloc(4096, 'x')]), /invalid tar header checksum at byte 0/);
  });

  it('fails on endless zeros past the end marker, without reading them all', async () => {
    let sent = 0;
    const zeros = (function* () {
      for (;;) {
        sent += 65536;
        if (sent > 64 << 20) throw new Error('read far too much');
        yield Buffer.alloc(65536);
      }
    })();
    await assert.rejects(through(zeros), /invalid tar header: more than \d+ bytes follow the end of the archive/);
    assert.ok(sent <= 4 << 20, `${sent} bytes read`);
  });
});
