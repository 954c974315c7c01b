/**
 * The tar target: small valid layers (USTAR, PAX local and global, GNU long names, base-256
 * numbers, links that point out of the root, devices, whiteouts) whose header fields and
 * PAX records are mutated, checksums recomputed most of the time, not always. Each case
 * runs through the reader alone, then through the applier into a fresh dir beside an
 * `outside` dir, and the canary dir CANARY: after the case, both must be exactly as they
 * were, or the applier wrote outside its root.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../../src/errors/index.ts';
import { applyLayer, readTar, type TarHeader } from '../../src/layer/index.ts';
import { BLOCK, encodeHeader, END_OF_ARCHIVE, padding } from '../../src/layer/tar-format.ts';
import type { Rng } from './mutate.ts';
import { Violation, type Target } from './targets.ts';

/** A fixed absolute path, so that symlinks to it are part of the (reproducible) seeds. */
export const CANARY = '/tmp/berth-fuzz-canary';
const SECRET = 'do not touch\n';

interface Rec {
  header: Buffer;
  body: Buffer;
}

function h(over: Partial<TarHeader> & { name: string }): TarHeader {
  return { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map(), ...over };
}

/** encodeHeader's blocks (PAX header and body, main header) split into records. */
function entry(header: TarHeader, body = Buffer.alloc(0)): Rec[] {
  const bytes = encodeHeader({ ...header, size: header.type === 'file' ? body.length : 0 });
  const out: Rec[] = [];
  let off = 0;
  while (off < bytes.length) {
    const block = bytes.subarray(off, off + BLOCK);
    off += BLOCK;
    if (String.fromCharCode(block[156]!) === 'x') {
      const size = parseInt(block.subarray(124, 135).toString('latin1'), 8);
      out.push({ header: Buffer.from(block), body: Buffer.from(bytes.subarray(off, off + size)) });
      off += size + padding(size);
    } else out.push({ header: Buffer.from(block), body });
  }
  return out;
}

/** A raw metadata record (PAX `x`/`g`, GNU `L`/`K`) with a hand-made body. */
function meta(flag: string, body: string | Buffer, gnu = false): Rec {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const header = encodeHeader(h({ name: flag === 'g' ? 'pax_global_header' : '././@LongLink', size: b.length })).subarray(-BLOCK);
  header[156] = flag.charCodeAt(0);
  if (gnu) header.write('ustar  \0', 257, 8, 'latin1');
  return { header: Buffer.from(header), body: b };
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

function gnuEntry(name: string, linkname: string, type: TarHeader['type'], body = Buffer.alloc(0)): Rec[] {
  const main = entry(h({ name: name.slice(0, 99), type, linkname: linkname.slice(0, 99) }), body);
  for (const r of main) r.header.write('ustar  \0', 257, 8, 'latin1');
  return [...(name.length > 99 ? [meta('L', `${name}\0`, true)] : []), ...(linkname.length > 99 ? [meta('K', `${linkname}\0`, true)] : []), ...main];
}

const file = (name: string, text: string, over: Partial<TarHeader> = {}) => entry(h({ name, ...over }), Buffer.from(text));
const dir = (name: string, over: Partial<TarHeader> = {}) => entry(h({ name, type: 'directory', mode: 0o755, ...over }));
const symlink = (name: string, linkname: string) => entry(h({ name, type: 'symlink', linkname, mode: 0o777 }));
const hardlink = (name: string, linkname: string) => entry(h({ name, type: 'link', linkname }));

function seeds(): Rec[][] {
  const long = `${'d'.repeat(120)}/${'n'.repeat(130)}`;
  return [
    [
      ...dir('etc/'),
      ...file('etc/hostname', 'box\n'),
      ...symlink('etc/link', 'hostname'),
      ...hardlink('etc/hard', 'etc/hostname'),
      ...file('etc/big', 'x'.repeat(3000)),
    ],
    // Every way out of the root a layer can try; each must land inside it.
    [
      ...symlink('up', '../../'),
      ...file('up/escaped', 'x'),
      ...symlink('abs', CANARY),
      ...file('abs/pwned', 'x'),
      ...symlink('out', '../outside'),
      ...file('out/pwned', 'x'),
      ...hardlink('hl', '../outside/secret'),
      ...hardlink('hl2', `${CANARY}/secret`),
      ...symlink('loop', 'loop'),
      ...file('loop/x', 'x'),
    ],
    [...symlink('d', '/'), ...dir('d/tmp/'), ...file('d/tmp/berth-fuzz-canary/new', 'x'), ...file('../outside/secret', 'overwritten')],
    // PAX: long name, long link, xattrs, big uid, a size record.
    [
      ...file(long, 'pax'),
      ...entry(h({ name: 'lnk', type: 'symlink', linkname: `${'t'.repeat(150)}/x` })),
      ...entry(
        h({
          name: 'u',
          uid: 3_000_000,
          xattrs: new Map([
            ['user.a', Buffer.from([0, 1, 255])],
            ['trusted.overlay.opaque', Buffer.from('y')],
          ]),
        }),
        Buffer.from('u'),
      ),
      meta('x', paxRecord('size', '3') + paxRecord('mtime', '1700000000.5') + paxRecord('path', 'paxed')),
      ...file('ignored-name', 'abc'),
    ],
    [meta('g', paxRecord('comment', 'global') + paxRecord('path', 'global-name') + paxRecord('uid', '7')), ...file('a', '1'), ...file('b', '2'), ...dir('c/')],
    // GNU long names and links.
    [
      ...gnuEntry(`g/${'l'.repeat(150)}`, '', 'file', Buffer.from('gnu')),
      ...gnuEntry('glink', `${'../'.repeat(40)}outside/secret`, 'link'),
      ...gnuEntry('gsym', `/${'s'.repeat(120)}`, 'symlink'),
    ],
    // Devices, fifos, whiteouts.
    [
      ...dir('dev/'),
      ...entry(h({ name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 })),
      ...entry(h({ name: 'dev/loop', type: 'block-device', devmajor: 7, devminor: 0 })),
      ...entry(h({ name: 'p', type: 'fifo' })),
      ...file('w/a', 'a'),
      ...file('w/.wh.a', ''),
      ...file('w/.wh..wh..opq', ''),
      ...file('.wh.etc', ''),
      ...file('w/.wh..wh.plnk', ''),
    ],
    // Old-style entries: a dir marked by a trailing slash on a file, a v7 header.
    [...file('olddir/', ''), ...file('v7', 'v7', { mode: 0o4755 })].map((r) => {
      r.header.subarray(257, 265).fill(0);
      checksum(r.header);
      return r;
    }),
  ];
}

let cachedSeeds: Rec[][] | undefined;

const OFFSETS = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  type: [156, 1],
  linkname: [157, 100],
  magic: [257, 8],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;
type Field = keyof typeof OFFSETS;

const PATHS = [
  '..',
  '../',
  '../outside/secret',
  '/',
  CANARY,
  `${CANARY}/secret`,
  '.',
  './',
  '.wh.',
  '.wh..',
  '.wh...',
  '.wh..wh..opq',
  'etc/hostname',
  'a/../../b',
  'up/x',
  'abs/y',
  'x'.repeat(255),
  'y'.repeat(300),
  'z/'.repeat(60),
  '\u00e9',
  'a\0b',
  '\u0000',
];
const NUMBERS = [
  '0000000\0',
  '7777777\0',
  '77777777777\0',
  '       \0',
  '\0\0\0\0\0\0\0\0',
  '9',
  '-1',
  '0x10',
  '1e9',
  ' 1 2 ',
  '12345678901234567',
  '00000000001 ',
];
const TYPES = ['0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'V', 'M', 'D', 'N', '\0', 'A', '\xff'];
const PAX_KEYS = [
  'path',
  'linkpath',
  'size',
  'uid',
  'gid',
  'mtime',
  'atime',
  'uname',
  'GNU.sparse.major',
  'GNU.sparse.size',
  'SCHILY.xattr.user.x',
  'SCHILY.xattr.trusted.overlay.redirect',
  'SCHILY.xattr.security.capability',
  'SCHILY.xattr.',
  'LIBARCHIVE.xattr.user.y',
  '',
];
const PAX_VALUES = [
  '../../x',
  `${CANARY}/p`,
  '-1',
  '1e400',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '99999999999999999999',
  '9007199254740993',
  '',
  '\0',
  'a\nb',
  '   7',
  '0',
  '4096',
  '100000000',
  '\u00e9',
];

function setField(rng: Rng, header: Buffer, field: Field): void {
  const [off, len] = OFFSETS[field];
  const area = header.subarray(off, off + len);
  const numeric = ['mode', 'uid', 'gid', 'size', 'mtime', 'chksum', 'devmajor', 'devminor'].includes(field);
  const choice = rng.int(6);
  if (field === 'type') area[0] = rng.pick(TYPES).charCodeAt(0) & 0xff;
  else if (field === 'magic') area.write(rng.pick(['ustar\x0000', 'ustar  \0', '\0\0\0\0\0\0\0\0', 'ustar\0\0\0', 'USTAR\x0000']), 'latin1');
  else if (numeric && choice < 3) {
    area.fill(0);
    area.write(rng.pick(NUMBERS).slice(0, len), 'latin1');
  } else if (numeric && choice === 3) {
    // base-256: positive, negative, or all ones
    area.fill(rng.chance(0.5) ? 0 : 0xff);
    area[0] = rng.pick([0x80, 0xff, 0xc0]);
    for (let i = len - 1 - rng.int(len); i < len; i++) area[i] = rng.int(256);
  } else if (numeric) {
    area.fill(0);
    area.write((rng.chance(0.5) ? rng.int(4096) : rng.next()).toString(8).slice(0, len - 1), 'latin1');
  } else {
    area.fill(0);
    const v = rng.chance(0.8) ? rng.pick(PATHS) : Buffer.from(Array.from({ length: rng.int(len) }, () => rng.int(256))).toString('latin1');
    area.write(v.slice(0, len), rng.chance(0.2) ? 'latin1' : 'utf8');
  }
}

function mutatePax(rng: Rng, body: Buffer): Buffer {
  const text = body.toString('latin1');
  switch (rng.int(5)) {
    case 0:
      return Buffer.from(text + paxRecord(rng.pick(PAX_KEYS), rng.pick(PAX_VALUES)), 'latin1');
    case 1: // a record whose length lies
      return Buffer.from(
        text.replace(/^\d+/, (n) => String(Number(n) + rng.int(7) - 3)),
        'latin1',
      );
    case 2:
      return Buffer.from(`${rng.pick(['', ' ', 'x', '99999999999999999999 a=b\n', '5 a=\n', '3 =\n', '0 \n'])}${text}`, 'latin1');
    case 3:
      return body.subarray(0, rng.int(body.length + 1));
    default:
      return Buffer.from(paxRecord(rng.pick(PAX_KEYS), rng.pick(PAX_VALUES)), 'latin1');
  }
}

function checksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
}

function generateTar(rng: Rng): Buffer {
  cachedSeeds ??= seeds();
  let recs = rng.pick(cachedSeeds).map((r) => ({ header: Buffer.from(r.header), body: r.body }));
  // Splice records from another seed in.
  if (rng.chance(0.2)) {
    const other = rng.pick(cachedSeeds);
    recs.splice(
      rng.int(recs.length + 1),
      0,
      ...other
        .slice(rng.int(other.length))
        .slice(0, rng.count(4))
        .map((r) => ({ header: Buffer.from(r.header), body: r.body })),
    );
  }
  const fixSize = new Set<Rec>();
  for (let n = rng.count(4); n > 0; n--) {
    const r = rng.pick(recs);
    const op = rng.int(10);
    if (op < 6) setField(rng, r.header, rng.pick(Object.keys(OFFSETS) as Field[]));
    else if (op < 8) {
      const flag = String.fromCharCode(r.header[156]!);
      r.body = 'xgLK'.includes(flag) && rng.chance(0.8) ? mutatePax(rng, r.body) : r.body.subarray(0, rng.int(r.body.length + 1));
      if (rng.chance(0.8)) fixSize.add(r);
    } else if (op === 8) recs.splice(rng.int(recs.length), 1);
    else recs.splice(rng.int(recs.length), 0, { header: Buffer.from(rng.pick(recs).header), body: rng.pick(recs).body });
    if (!recs.length) recs = [{ header: Buffer.from(r.header), body: r.body }];
  }
  const parts: Buffer[] = [];
  const fix = rng.chance(0.75);
  for (const r of recs) {
    if (fixSize.has(r)) r.header.write(`${r.body.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
    if (fix) checksum(r.header);
    parts.push(r.header, r.body, Buffer.alloc(padding(r.body.length)));
  }
  if (rng.chance(0.9)) parts.push(END_OF_ARCHIVE);
  let out = Buffer.concat(parts);
  if (rng.chance(0.1)) out = out.subarray(0, rng.int(out.length)); // truncated
  if (rng.chance(0.1)) {
    out = Buffer.from(out);
    for (let n = rng.count(8); n > 0 && out.length; n--) out[rng.int(out.length)] = rng.int(256);
  }
  return out;
}

/** Chunk size and whiteout mode derived from the bytes, so one Buffer is one whole case. */
function fingerprint(b: Buffer): number {
  let x = b.length;
  for (let i = 0; i < b.length; i += 61) x = (Math.imul(x, 31) + b[i]!) >>> 0;
  return x;
}

function chunks(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < b.length; off += size) out.push(b.subarray(off, off + size));
  return out;
}

function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const st = lstatSync(join(d, name));
      out.push(`${rel}${name} ${st.mode} ${st.nlink} ${st.size} ${st.isFile() ? readFileSync(join(d, name), 'latin1') : ''}`);
      if (st.isDirectory()) walk(join(d, name), `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return out.join('\n');
}

let sandbox: string | undefined;
let canaryState: string | undefined;

function prepareCanary(): void {
  mkdirSync(CANARY, { recursive: true, mode: 0o755 });
  try {
    writeFileSync(`${CANARY}/secret`, SECRET, { flag: 'wx', mode: 0o600 });
  } catch {
    /* made by another worker */
  }
  canaryState = snapshot(CANARY);
}

/** The reader, then the applier into a fresh dir; the canary and `outside` must not change. */
export const tarTarget: Target<Buffer> = {
  name: 'tar',
  generate: generateTar,
  async run(bytes) {
    if (!sandbox) {
      prepareCanary();
      sandbox = mkdtempSync(join(tmpdir(), 'berth-fuzz-tar-'));
      process.once('exit', () => rmSync(sandbox!, { recursive: true, force: true }));
    }
    const fp = fingerprint(bytes);
    const size = [1, 7, 512, 513, 4096, 1 << 20][fp % 6]!;
    // The reader alone, reading every body whole: sizes and names must make sense.
    try {
      for await (const e of readTar(Readable.from(chunks(bytes, size)))) {
        const { size: n, name, mode, uid, gid, mtime } = e.header;
        if (!Number.isSafeInteger(n) || n < 0) throw new Violation(`entry "${name}" has size ${n}`);
        for (const [k, v] of Object.entries({ mode, uid, gid })) if (!Number.isSafeInteger(v) || v < 0) throw new Violation(`entry "${name}" has ${k} ${v}`);
        if (!Number.isFinite(mtime)) throw new Violation(`entry "${name}" has mtime ${mtime}`);
        let got = 0;
        for await (const c of e.body()) got += c.length;
        if (e.header.type === 'file' && got !== n) throw new Violation(`entry "${name}" says ${n} bytes, its body has ${got}`);
      }
    } catch (e) {
      if (!(e instanceof BerthError)) throw e;
    }
    const caseDir = mkdtempSync(join(sandbox, 'c'));
    const root = join(caseDir, 'root');
    mkdirSync(join(caseDir, 'outside'));
    writeFileSync(join(caseDir, 'outside', 'secret'), SECRET);
    const before = snapshot(join(caseDir, 'outside'));
    let label = 'ok';
    try {
      await applyLayer(Readable.from(chunks(bytes, size)), root, { whiteouts: fp % 5 === 0 ? 'overlay' : 'apply' });
    } catch (e) {
      if (!(e instanceof BerthError)) throw e;
      label = e.code;
    } finally {
      const escaped =
        readdirSync(caseDir).sort().join(',') !== 'outside,root' || snapshot(join(caseDir, 'outside')) !== before || snapshot(CANARY) !== canaryState;
      rmSync(caseDir, { recursive: true, force: true });
      // biome-ignore lint/correctness/noUnsafeFinally: a write outside the root outranks whatever the applier returned or threw
      if (escaped) throw new Violation('the applier wrote outside its root');
    }
    return label;
  },
  expected(e) {
    return e instanceof BerthError ? e.code : undefined;
  },
};
