/**
 * A streaming tar parser over an async byte source: USTAR, GNU and v7 headers, PAX
 * (binary-safe values) and GNU long names. A global PAX header is checked and otherwise
 * ignored, as Go's archive/tar (and so Docker) ignores it: its `path=` or `uid=` must not give
 * berth a different tree than docker sees. Each entry's body must be read or
 * left before the next entry is requested; what is left is skipped. The source is always
 * read to its very end, so a hash taken upstream covers the whole stream (the diffID).
 *
 * It never waits on bytes that will not come: the end of the source mid-header or
 * mid-body is a DATA_CORRUPT error, and so is the end in a body's padding unless `endInPadding`.
 */
import { BerthError } from '../errors/index.ts';
import { BLOCK, cString, isZeroBlock, padding, parseNumber, parsePax, verifyChecksum, XATTR_PAX_PREFIX, type EntryType, type TarHeader } from './tar-format.ts';

export interface TarEntry {
  readonly header: TarHeader;
  /**
   * The whole content when it had already arrived with the header (most small files): a
   * consumer can write it without a round trip through body(), which then yields it once.
   */
  readonly data?: Buffer;
  /** The entry's content, in chunks; readable once. */
  body(): AsyncGenerator<Buffer>;
}

const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();
const NO_PAX: ReadonlyMap<string, Buffer> = new Map();

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};
const MAX_META = 16 << 20; // PAX / long-name bodies larger than this are not real headers

class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  offset = 0;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** Bytes already buffered; `take` up to this many needs no waiting. */
  get buffered(): number {
    return this.buf.length;
  }

  /** n buffered bytes (the caller checked `buffered`), as a view. */
  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  private async more(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.buf = r.value; // only called once the buffer is used up
    return true;
  }

  /**
   * Exactly n bytes, or undefined when the source ended before any of them. Bytes that
   * straddle chunks are gathered into a copy of just those n bytes, not of the next chunk.
   */
  async exact(n: number, what: string): Promise<Buffer | undefined> {
    if (this.buf.length >= n) return this.take(n);
    const parts = [this.buf];
    let have = this.buf.length;
    while (have < n) {
      const r = await this.it.next();
      if (r.done) {
        this.buf = Buffer.concat(parts);
        if (have === 0) return undefined;
        throw truncated(what);
      }
      parts.push(r.value);
      have += r.value.length;
    }
    const last = parts.pop()!;
    const need = n - (have - last.length);
    parts.push(last.subarray(0, need));
    this.buf = last.subarray(need);
    this.offset += n;
    return Buffer.concat(parts, n);
  }

  /** n bytes as they arrive, without gathering them. */
  async *chunks(n: number, what: string): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (this.buf.length === 0 && !(await this.more())) throw truncated(what);
      const take = Math.min(n, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.offset += take;
      n -= take;
      yield out;
    }
  }

  async discard(n: number, what: string): Promise<void> {
    if (this.buf.length >= n) {
      this.take(n);
      return;
    }
    for await (const _ of this.chunks(n, what)) void _;
  }

  /** Skips up to n bytes; false when the source ended before all of them. */
  async skipUpTo(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.buf.length === 0 && !(await this.more())) return false;
      const take = Math.min(n, this.buf.length);
      this.take(take);
      n -= take;
    }
    return true;
  }

  /** Reads the source to its end; more than `max` bytes left is an error (the bytes after a tar's end). */
  async drain(max = Infinity): Promise<void> {
    let left = this.buf.length;
    this.buf = Buffer.alloc(0);
    while (left <= max && (await this.more())) {
      left += this.buf.length;
      this.buf = Buffer.alloc(0);
    }
    if (left > max) {
      throw new BerthError('DATA_CORRUPT', `invalid tar header: more than ${max} bytes follow the end of the archive at byte ${this.offset}; it is not a tar`);
    }
  }
}

function truncated(what: string): BerthError {
  return new BerthError('DATA_CORRUPT', `the layer tar ends in the middle of ${what}`, { hint: 'the layer is truncated; fetch it again' });
}

function str(v: Buffer | undefined): string | undefined {
  return v === undefined ? undefined : v.toString('utf8');
}

/** A PAX number: decimal digits (mtime may be negative and have a fraction), exact. */
function num(v: Buffer | undefined, key: string): number | undefined {
  if (v === undefined) return undefined;
  const text = v.toString('latin1');
  const n = Number(text);
  const form = key === 'mtime' ? /^-?[0-9]+(\.[0-9]*)?$/ : /^[0-9]+$/;
  if (!form.test(text) || !(Math.abs(n) <= Number.MAX_SAFE_INTEGER)) throw new BerthError('DATA_CORRUPT', `invalid PAX ${key} "${text}" in the layer tar`);
  return n;
}

/** Ids, modes and device numbers are never negative (a base-256 field can say so). */
function natural(n: number, what: string, at: number): number {
  if (n < 0) throw new BerthError('DATA_CORRUPT', `negative ${what} at byte ${at} of the layer tar`);
  return n;
}

/** A uid or gid: 32 bits, and not (uid_t)-1, which chown(2) reads as "leave it". */
function id(n: number, what: string, at: number): number {
  if (n < 0 || n >= 0xffffffff) throw new BerthError('DATA_CORRUPT', `${what} ${n} at byte ${at} of the layer tar is not a valid id`);
  return n;
}

/**
 * `maxTrailing` bounds what may follow the end-of-archive blocks (tar pads its output to a
 * 10 KiB record; a stream of zeros, /dev/zero, is one endless end marker). Unbounded by
 * default: a layer's size is fixed by its digest.
 */
/**
 * `endInPadding`: the source may end in its last entry's padding, with no end marker. The docker
 * CLI's build context for `build -f -` does (Go's reader, and so dockerd, takes it as the end);
 * only an archive a client sends is read so, never a layer, whose bytes must be a whole tar.
 */
export async function* readTar(source: AsyncIterable<Buffer>, opts: { maxTrailing?: number; endInPadding?: boolean } = {}): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source[Symbol.asyncIterator]());
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const at = r.offset;
    const block = r.buffered >= BLOCK ? r.take(BLOCK) : await r.exact(BLOCK, 'a header');
    if (!block || isZeroBlock(block)) break; // a missing end marker is tolerated, as in Go's reader
    verifyChecksum(block, at);
    const flag = String.fromCharCode(block[156]!);
    const size = parseNumber(block, 124, 12);
    if (size < 0) throw new BerthError('DATA_CORRUPT', `negative entry size at byte ${at} of the layer tar`);

    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META) throw new BerthError('DATA_CORRUPT', `a ${size}-byte tar metadata header at byte ${at} is not plausible`);
      const body = (await r.exact(size, 'a PAX header')) ?? Buffer.alloc(0);
      if (body.length < size) throw truncated('a PAX header');
      await r.discard(padding(size), 'a PAX header');
      if (flag === 'x') pax = new Map([...(pax ?? []), ...parsePax(body)]);
      else if (flag === 'g')
        parsePax(body); // malformed records fail, as in Go; valid ones name nothing
      else if (flag === 'L') longName = cString(body, 0, body.length);
      else longLink = cString(body, 0, body.length);
      continue;
    }
    if (flag === 'S' || pax?.has('GNU.sparse.major') || pax?.has('GNU.sparse.size')) {
      throw new BerthError('UNSUPPORTED', 'the layer tar contains a sparse file, which berth cannot extract', {
        hint: 'rebuild the layer without sparse files (tar --sparse off)',
      });
    }

    const magic = block.subarray(257, 263).toString('latin1');
    let name = cString(block, 0, 100);
    if (magic === 'ustar\0' && block[345] !== 0) name = `${cString(block, 345, 155)}/${name}`;
    let type = TYPES[flag];
    if (flag === '0' || flag === '\0') if (name.endsWith('/')) type = 'directory'; // old tars mark dirs so

    // Most entries have no PAX records at all: no maps are made for them.
    const all = pax ?? NO_PAX;
    let xattrs = NO_XATTRS;
    for (const [k, v] of all) {
      if (!k.startsWith(XATTR_PAX_PREFIX)) continue;
      if (xattrs === NO_XATTRS) xattrs = new Map();
      (xattrs as Map<string, Buffer>).set(k.slice(XATTR_PAX_PREFIX.length), v);
    }
    const header: TarHeader = {
      name: str(all.get('path')) ?? longName ?? name,
      type: type ?? 'file',
      mode: natural(parseNumber(block, 100, 8), 'mode', at),
      uid: id(num(all.get('uid'), 'uid') ?? parseNumber(block, 108, 8), 'uid', at),
      gid: id(num(all.get('gid'), 'gid') ?? parseNumber(block, 116, 8), 'gid', at),
      size: num(all.get('size'), 'size') ?? size,
      mtime: num(all.get('mtime'), 'mtime') ?? parseNumber(block, 136, 12),
      linkname: str(all.get('linkpath')) ?? longLink ?? cString(block, 157, 100),
      devmajor: natural(parseNumber(block, 329, 8), 'device number', at),
      devminor: natural(parseNumber(block, 337, 8), 'device number', at),
      xattrs,
    };
    pax = longName = longLink = undefined;
    // Header-only types carry no body whatever their size field says (as Go's reader does).
    const bodySize = header.type === 'file' ? header.size : 0;
    let consumed = 0;
    const what = `the entry "${header.name}"`;
    if (type === undefined) {
      await r.discard(size + padding(size), what); // unknown entry types carry nothing to extract
      continue;
    }
    const padded = bodySize + padding(bodySize);
    if (r.buffered >= padded) {
      const data = r.take(padded).subarray(0, bodySize);
      let given = false;
      const body = async function* (): AsyncGenerator<Buffer> {
        if (given || bodySize === 0) return;
        given = true;
        yield data;
      };
      yield { header, data, body };
      continue;
    }
    const body = async function* (): AsyncGenerator<Buffer> {
      for await (const c of r.chunks(bodySize - consumed, what)) {
        consumed += c.length;
        yield c;
      }
    };
    yield { header, body };
    await r.discard(bodySize - consumed, what);
    if (!opts.endInPadding) await r.discard(padding(bodySize), what);
    else if (!(await r.skipUpTo(padding(bodySize)))) break;
  }
  await r.drain(opts.maxTrailing);
}
