/**
 * Writing a directory as a deterministic layer tar: the same tree gives the same bytes, so
 * the same diffID. Entries come depth first with the names in each dir in bytewise order
 * (a full-path sort in which `/` sorts first, so parents precede children); ids are
 * numeric with no user/group names; mtimes are whole seconds, clamped to sourceDateEpoch
 * when given; there is no atime or ctime; a PAX header appears only when a field does not
 * fit USTAR or an xattr (security.capability) is carried. Files with several links in the
 * tree become one file and hardlink entries. Sockets are skipped, as Docker does.
 *
 * In `overlay-upper` mode the tree is an overlayfs upperdir: a 0/0 character device is a
 * deletion (written as `.wh.NAME`) and a dir with trusted.overlay.opaque=y hides the lower
 * dir's content (written as the dir plus `.wh..wh..opq`). The xattrs come from sys/xattr.ts.
 */
import { closeSync, constants as fsc, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { cancelled, changed, readLarge, type FileFill } from './file-chunks.ts';
import { createSha256, digestOfHash } from '../sys/crypto.ts';
import { treeXattrs } from '../sys/xattr.ts';
import { overlayXattr } from '../sys/rootless.ts';
import { encodeHeader, END_OF_ARCHIVE, OPAQUE_WHITEOUT, padding, WHITEOUT_PREFIX, type TarHeader } from './tar-format.ts';

export interface WriteOptions {
  readonly mode: 'plain' | 'overlay-upper';
  /** Clamp mtimes to this (seconds since the epoch), as SOURCE_DATE_EPOCH asks. */
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
  /** Leaves out a path (relative, `/`-separated, no leading `/`) and, for a dir, all below it. */
  readonly exclude?: (relPath: string) => boolean;
  /**
   * Files of the tree that a COPY is still copying, by path: each is archived as its fill
   * says and read back once its copy has ended (file-chunks.ts).
   */
  readonly fills?: ReadonlyMap<string, FileFill>;
}

const OUTPUT_BATCH = 256 << 10; // small entries are gathered up to this before being pushed
const SMALL_FILE = 256 << 10; // files up to this are read in one synchronous call
const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();

export function writeLayer(dir: string, opts: WriteOptions): Readable {
  return Readable.from(generateLayer(resolvePath(dir), opts), { objectMode: false, highWaterMark: 1 << 20 });
}

/**
 * The diffID and size of the tar writeLayer would give, hashed as it is made: no stream in
 * between, whose setup and hops cost a tiny layer's commit more than its hashing.
 */
export async function hashLayer(dir: string, opts: WriteOptions): Promise<{ diffId: Digest; size: number }> {
  const h = createSha256();
  let size = 0;
  for await (const chunk of generateLayer(resolvePath(dir), opts)) {
    h.update(chunk);
    size += chunk.length;
  }
  return { diffId: digestOfHash(h), size };
}

interface Child {
  readonly name: string;
  /** The name written to the tar (`.wh.NAME` for a whiteout). */
  readonly tarName: string;
  readonly st: Stats;
  readonly whiteout: boolean;
}

const byBytes = (a: Child, b: Child) => Buffer.compare(Buffer.from(a.tarName), Buffer.from(b.tarName));

async function* generateLayer(root: string, opts: WriteOptions): AsyncGenerator<Buffer> {
  const overlay = opts.mode === 'overlay-upper';
  const xattrsOf = await xattrReader(root, overlay, opts.signal);
  xattrsOf('', root);
  const firstLinkOf = new Map<string, string>();
  const clamp = (st: Pick<Stats, 'mtimeMs'>) => {
    const s = Math.floor(st.mtimeMs / 1000);
    return opts.sourceDateEpoch !== undefined && s > opts.sourceDateEpoch ? opts.sourceDateEpoch : s;
  };
  const header = (name: string, st: Stats, extra: Partial<TarHeader>): TarHeader => ({
    name,
    type: 'file',
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: 0,
    mtime: clamp(st),
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: NO_XATTRS,
    ...extra,
  });

  let batch: Buffer[] = [];
  let batched = 0;
  const add = (b: Buffer) => {
    batch.push(b);
    batched += b.length;
  };
  const take = () => {
    const out = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
    batch = [];
    batched = 0;
    return out;
  };

  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const abs = rel === '' ? root : join(root, rel);
    const children: Child[] = [];
    for (const name of readdirSync(abs)) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (opts.exclude?.(childRel)) continue;
      const st = lstatSync(join(abs, name));
      const whiteout = overlay && st.isCharacterDevice() && st.rdev === 0;
      children.push({ name, tarName: whiteout ? WHITEOUT_PREFIX + name : name, st, whiteout });
    }
    children.sort(byBytes);
    for (const { name, tarName, st, whiteout } of children) {
      if (opts.signal?.aborted) throw cancelled();
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const tarPath = rel === '' ? tarName : `${rel}/${tarName}`;
      const all = whiteout ? undefined : xattrsOf(childRel, join(abs, name));
      const attrs = capabilityOf(all);
      if (whiteout) {
        add(encodeHeader(header(tarPath, st, { mode: 0 })));
      } else if (st.isDirectory()) {
        add(encodeHeader(header(`${tarPath}/`, st, { type: 'directory', xattrs: attrs })));
        if (overlay && all?.get(overlayXattr('opaque'))?.toString() === 'y') {
          add(encodeHeader(header(`${tarPath}/${OPAQUE_WHITEOUT}`, st, { mode: 0 })));
        }
        yield* walk(childRel);
      } else if (st.isSymbolicLink()) {
        add(encodeHeader(header(tarPath, st, { type: 'symlink', linkname: readlinkSync(join(abs, name)), xattrs: attrs })));
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? firstLinkOf.get(key) : undefined;
        if (first !== undefined) {
          add(encodeHeader(header(tarPath, st, { type: 'link', linkname: first })));
        } else {
          if (st.nlink > 1) firstLinkOf.set(key, tarPath);
          // A fill's file may be being copied now: its size, mode and mtime are the fill's
          // (the copy sets the source's mode before the fill's, and the times last).
          const fill = opts.fills?.get(childRel);
          const size = fill?.size ?? st.size;
          const mode = (fill?.mode ?? st.mode) & 0o7777;
          add(encodeHeader(header(tarPath, st, { size, mode, mtime: clamp(fill ?? st), xattrs: attrs })));
          if (!fill && size <= SMALL_FILE) add(readSmall(join(abs, name), size, tarPath));
          else {
            yield take();
            if (fill) await fill.copying;
            yield* readLarge(join(abs, name), size, tarPath, opts.signal);
          }
          add(END_OF_ARCHIVE.subarray(0, padding(size)));
        }
      } else if (st.isFIFO()) {
        add(encodeHeader(header(tarPath, st, { type: 'fifo' })));
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const [devmajor, devminor] = deviceNumbers(st.rdev);
        add(encodeHeader(header(tarPath, st, { type: st.isBlockDevice() ? 'block-device' : 'character-device', devmajor, devminor })));
      }
      if (batched >= OUTPUT_BATCH) yield take();
    }
  }

  yield* walk('');
  add(END_OF_ARCHIVE);
  yield take();
}

/** In a user namespace the overlay's marks are user.overlay.* (sys/rootless.ts). */
const OVERLAY_XATTRS = /^((trusted|user)\.overlay\.(opaque|redirect|metacopy)|security\.capability)$/;
const PLAIN_XATTRS = /^security\.capability$/;

/**
 * The xattrs a layer carries of each entry (by path relative to the root, and absolute):
 * security.capability, and in an upperdir the overlay's own.
 */
async function xattrReader(
  root: string,
  overlay: boolean,
  signal: AbortSignal | undefined,
): Promise<(rel: string, abs: string) => Map<string, Buffer> | undefined> {
  const wanted = overlay ? OVERLAY_XATTRS : PLAIN_XATTRS;
  const check = (rel: string, attrs: Map<string, Buffer> | undefined) => {
    // A redirected dir or a metadata-only copy-up keeps its content in a lower layer: the
    // upperdir alone would make a layer that silently lacks it.
    if (attrs && (attrs.has(overlayXattr('redirect')) || attrs.has(overlayXattr('metacopy')))) {
      throw new BerthError('UNSUPPORTED', `cannot write "${rel}" of an overlay upperdir that uses redirect_dir or metacopy`, {
        hint: 'mount the overlay with redirect_dir=off,metacopy=off',
      });
    }
    return attrs;
  };
  // A plain copy can do without xattrs where they cannot be read; an upperdir cannot.
  const lookup = await treeXattrs(root, wanted, { optional: !overlay, signal });
  return (rel, abs) => check(rel, lookup(rel, abs));
}

function capabilityOf(attrs: Map<string, Buffer> | undefined): ReadonlyMap<string, Buffer> {
  const cap = attrs?.get('security.capability');
  return cap ? new Map([['security.capability', cap]]) : NO_XATTRS;
}

/** Linux's dev_t split (major: bits 8–19 and 32+, minor: bits 0–7 and 20–31). */
function deviceNumbers(rdev: number): [number, number] {
  const r = BigInt(rdev);
  return [Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn)), Number((r & 0xffn) | ((r >> 12n) & ~0xffn))];
}

function readSmall(path: string, size: number, name: string): Buffer {
  const buf = Buffer.allocUnsafe(size);
  if (size === 0) return buf;
  const fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  try {
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) throw changed(name);
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}
