/**
 * The tar header format, both ways, byte for byte: USTAR headers, with a PAX extended header
 * only when a field does not fit (long or non-ASCII names, big ids or sizes) or carries
 * xattrs. berth encodes headers itself rather than through tar-stream because PAX xattr
 * values are binary (security.capability) and the writer must control every byte for
 * reproducible diffIDs.
 */
import { BerthError } from '../errors/index.ts';

export const BLOCK = 512;
export const XATTR_PAX_PREFIX = 'SCHILY.xattr.';
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

export type EntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (whole seconds when written). */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: ReadonlyMap<string, Buffer>;
}

const TYPEFLAGS: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

function writeString(buf: Buffer, s: string, off: number, len: number): void {
  buf.write(s, off, len, 'utf8');
}

function writeOctal(buf: Buffer, n: number, off: number, len: number): void {
  writeString(buf, n.toString(8).padStart(len - 1, '0'), off, len - 1);
}

/** Splits a name into USTAR (prefix, name) if it fits, ASCII only. */
function splitUstarName(name: string): [string, string] | undefined {
  if (!/^[\x20-\x7e]*$/.test(name)) return undefined;
  if (name.length <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1 && i <= 155; i = name.indexOf('/', i + 1)) {
    if (name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustarBlock(h: TarHeader, prefix: string, name: string, linkname: string, typeflag: string, size: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  writeString(buf, name, 0, 100);
  writeOctal(buf, h.mode & 0o7777, 100, 8);
  writeOctal(buf, Math.min(h.uid, MAX_OCTAL_7), 108, 8);
  writeOctal(buf, Math.min(h.gid, MAX_OCTAL_7), 116, 8);
  writeOctal(buf, Math.min(size, MAX_OCTAL_11), 124, 12);
  writeOctal(buf, Math.min(Math.max(0, Math.floor(h.mtime)), MAX_OCTAL_11), 136, 12);
  buf.fill(0x20, 148, 156);
  writeString(buf, typeflag, 156, 1);
  writeString(buf, linkname, 157, 100);
  buf.write('ustar\x0000', 257, 8, 'latin1');
  writeOctal(buf, Math.min(h.devmajor, MAX_OCTAL_7), 329, 8);
  writeOctal(buf, Math.min(h.devminor, MAX_OCTAL_7), 337, 8);
  writeString(buf, prefix, 345, 155);
  let sum = 0;
  for (const b of buf) sum += b;
  writeString(buf, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return buf;
}

/** Encodes one entry's header block(s): an optional PAX header, then the USTAR header. */
export function encodeHeader(h: TarHeader): Buffer {
  const pax: Buffer[] = [];
  const split = splitUstarName(h.name);
  const linkFits = /^[\x20-\x7e]*$/.test(h.linkname) && h.linkname.length <= 100;
  if (!split) pax.push(paxRecord('path', Buffer.from(h.name)));
  if (!linkFits) pax.push(paxRecord('linkpath', Buffer.from(h.linkname)));
  if (h.uid > MAX_OCTAL_7) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > MAX_OCTAL_7) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (h.size > MAX_OCTAL_11) pax.push(paxRecord('size', Buffer.from(String(h.size))));
  for (const [k, v] of [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) pax.push(paxRecord(XATTR_PAX_PREFIX + k, v));
  const [prefix, name] = split ?? ['', h.name.slice(-100).replace(/[^\x20-\x7e]/g, '_')];
  const linkname = linkFits ? h.linkname : h.linkname.slice(0, 100).replace(/[^\x20-\x7e]/g, '_');
  const main = ustarBlock(h, prefix, name, linkname, TYPEFLAGS[h.type], h.size);
  if (!pax.length) return main;
  const body = Buffer.concat(pax);
  const paxName = `PaxHeaders/${name}`.slice(0, 100);
  const paxHeader = ustarBlock({ ...h, mode: 0o644 }, '', paxName, '', 'x', body.length);
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), main]);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

// ---- decoding ----

function corrupt(message: string): BerthError {
  return new BerthError('DATA_CORRUPT', message, { hint: 'the layer is truncated or not a tar; fetch it again' });
}

/** Reads a numeric field: octal text, or base-256 when the high bit of the first byte is set. */
export function parseNumber(buf: Buffer, off: number, len: number): number {
  const field = buf.subarray(off, off + len);
  if (field[0]! & 0x80) {
    const negative = field[0] === 0xff;
    let n = 0;
    for (let i = 0; i < len; i++) {
      const byte = i === 0 ? field[0]! & 0x7f : field[i]!;
      n = n * 256 + (negative ? 0xff - byte : byte);
    }
    // Beyond 2^53 a number is no longer exact; no real id, size or time is that big.
    if (n > Number.MAX_SAFE_INTEGER) throw corrupt('a base-256 number in a tar header is too large');
    return negative ? -(n + 1) : n;
  }
  // The common field: octal digits, then NUL or space padding. Anything else takes the
  // general path below, which also says what is wrong.
  let n = 0;
  let i = off;
  const end = off + len;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x37) n = n * 8 + (buf[i++]! - 0x30);
  if (i > off && (i === end || buf[i] === 0 || buf[i] === 0x20)) {
    let j = i;
    while (j < end && buf[j] === 0x20) j++;
    if (j === end || buf[j] === 0) return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(`invalid number "${text}" in a tar header`);
  return parseInt(text, 8);
}

export function isZeroBlock(buf: Buffer): boolean {
  for (const b of buf) if (b !== 0) return false;
  return true;
}

export function verifyChecksum(buf: Buffer, offset: number): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : buf[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  let stored: number | undefined;
  try {
    stored = parseNumber(buf, 148, 8);
  } catch {
    /* not even a number: reported as a bad checksum below */
  }
  if (stored !== unsigned && stored !== signed) throw corrupt(`invalid tar header checksum at byte ${offset}; the layer is corrupt or not a tar`);
}

export function cString(buf: Buffer, off: number, len: number): string {
  const field = buf.subarray(off, off + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

const PAX_TEXT = new Set(['path', 'linkpath', 'uname', 'gname']);

/** Parses PAX records ("LEN key=value\n"); values stay bytes, as xattr values are binary. */
export function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < body.length) {
    const space = body.indexOf(0x20, off);
    if (space === -1) break;
    const lenText = body.subarray(off, space).toString('latin1');
    if (!/^[0-9]+$/.test(lenText)) throw corrupt('invalid PAX record length in the layer tar');
    const len = Number(lenText);
    const end = off + len;
    if (len <= space - off + 1 || end > body.length || body[end - 1] !== 0x0a) throw corrupt('invalid PAX record in the layer tar');
    const record = body.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw corrupt('invalid PAX record (no "=") in the layer tar');
    const key = record.subarray(0, eq).toString('utf8');
    const value = Buffer.from(record.subarray(eq + 1));
    // As Go's reader: no NUL in a key, nor in a name (only xattr values are binary).
    if (key.includes('\0') || (PAX_TEXT.has(key) && value.includes(0))) throw corrupt(`invalid PAX record "${key.replace(/\0/g, '\\0')}": NUL byte`);
    out.set(key, value);
    off = end;
  }
  return out;
}
