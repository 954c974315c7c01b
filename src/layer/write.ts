/**
 * Writing a directory as a deterministic layer tar. Entries come in a fixed order (depth
 * first, names sorted bytewise), with numeric ids and no user/group names, mtimes clamped
 * to SOURCE_DATE_EPOCH when given, and no atime/ctime — so the same tree always gives the
 * same bytes, and so the same diffID.
 *
 * In `overlay-upper` mode the tree is an overlayfs upperdir: a 0/0 character device is a
 * deletion (written as `.wh.NAME`) and a dir with trusted.overlay.opaque=y hides the lower
 * dir's content (written as the dir plus `.wh..wh..opq`).
 */
import { execFile } from 'node:child_process';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './apply.ts';

const run = promisify(execFile);
type TarHeader = Partial<tar.Header> & { name: string };

export interface WriteOptions {
  readonly mode: 'plain' | 'overlay-upper';
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
}

/** Dirs (relative paths) marked opaque, found with one getfattr over the whole tree. */
async function opaqueDirs(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    const { stdout } = await run('getfattr', ['-R', '--absolute-names', '-m', 'trusted.overlay.opaque', '-d', root], { maxBuffer: 64 << 20 });
    let current = '';
    for (const line of stdout.split('\n')) {
      if (line.startsWith('# file: ')) current = line.slice(8);
      else if (line.startsWith('trusted.overlay.opaque="y"')) out.add(current === root ? '' : current.slice(root.length + 1));
    }
  } catch {
    /* no getfattr output: no opaque dirs */
  }
  return out;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function writeLayer(dir: string, opts: WriteOptions): Readable {
  const pack = tar.pack();
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const clamp = (d: Date) => (opts.sourceDateEpoch !== undefined && d.getTime() > opts.sourceDateEpoch * 1000 ? new Date(opts.sourceDateEpoch * 1000) : new Date(Math.floor(d.getTime() / 1000) * 1000));
  const seenInodes = new Map<string, string>();

  const header = (name: string, st: Stats, extra: Partial<TarHeader>): TarHeader => ({
    name,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: clamp(st.mtime),
    ...extra,
  });

  const entry = (h: TarHeader, body?: Readable): Promise<void> =>
    new Promise((resolve, reject) => {
      const sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
      if (body) {
        body.on('error', reject);
        body.pipe(sink);
      } else if (h.type === 'file' && (h.size ?? 0) === 0) {
        sink.end(Buffer.alloc(0));
      }
    });

  const walk = async (opaque: Set<string>, rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort(byteOrder);
    for (const name of names) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const childRel = rel ? `${rel}/${name}` : name;
      const abs = join(dir, childRel);
      const st = await lstat(abs);
      if (opts.mode === 'overlay-upper' && st.isCharacterDevice() && st.rdev === 0) {
        await entry({ name: `${rel ? `${rel}/` : ''}${WHITEOUT_PREFIX}${name}`, type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: clamp(st.mtime) });
        continue;
      }
      if (st.isDirectory()) {
        await entry(header(`${childRel}/`, st, { type: 'directory' }));
        if (opts.mode === 'overlay-upper' && opaque.has(childRel)) {
          await entry({ name: `${childRel}/${OPAQUE_WHITEOUT}`, type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: clamp(st.mtime) });
        }
        await walk(opaque, childRel);
      } else if (st.isSymbolicLink()) {
        await entry(header(childRel, st, { type: 'symlink', linkname: await readlink(abs) }));
      } else if (st.isFile()) {
        const inode = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seenInodes.get(inode) : undefined;
        if (first !== undefined) {
          await entry(header(childRel, st, { type: 'link', linkname: first, size: 0 }));
          continue;
        }
        if (st.nlink > 1) seenInodes.set(inode, childRel);
        await entry(header(childRel, st, { type: 'file', size: st.size }), st.size > 0 ? createReadStream(abs, { highWaterMark: 1 << 20 }) : undefined);
      } else if (st.isFIFO()) {
        await entry(header(childRel, st, { type: 'fifo' }));
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const major = Math.floor(st.rdev / 256) & 0xfff;
        const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
        await entry(header(childRel, st, { type: st.isBlockDevice() ? 'block-device' : 'character-device', devmajor: major, devminor: minor }));
      }
      // Sockets are not archived, as in docker.
    }
  };

  (async () => {
    const opaque = opts.mode === 'overlay-upper' ? await opaqueDirs(dir) : new Set<string>();
    await walk(opaque, '');
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e as Error));
  pipeline(pack, out).catch((e: unknown) => out.destroy(e as Error));
  return out;
}
