/**
 * Applying a layer tar to a directory, safely, in one pass that also computes the diffID
 * (sha256 of the uncompressed tar).
 *
 * Safety: every entry name is checked (`..` refused, a leading `/` dropped) and its parent
 * is resolved inside the target with chroot semantics (resolveInRoot), so symlinks in the
 * tree — including ones this same archive planted — cannot lead a write outside. Hardlink
 * targets resolve the same way. Whiteouts are applied (`apply`) or converted to overlayfs's
 * form (`overlay`: 0/0 char devices and the trusted.overlay.opaque xattr).
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readdir, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';
import { BerthError, errnoCode, isBerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { decompressAuto, hashingStream } from './compress.ts';
import { archiveEntryPath, resolveInRoot } from './safe-path.ts';

const run = promisify(execFile);
type TarHeader = Partial<tar.Header> & { name: string };
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

export interface ApplyOptions {
  readonly whiteouts: 'overlay' | 'apply';
  readonly signal?: AbortSignal;
}

async function removeAll(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** Prepares `path` for a new entry: a dir over a dir merges, anything else replaces. */
async function clearFor(path: string, isDir: boolean): Promise<void> {
  try {
    const st = await lstat(path);
    if (isDir && st.isDirectory()) return;
    await removeAll(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

function xattrsOf(h: TarHeader): Array<[string, string]> {
  const pax = (h as { pax?: Record<string, string> }).pax ?? {};
  return Object.entries(pax)
    .filter(([k]) => k.startsWith('SCHILY.xattr.'))
    .map(([k, v]) => [k.slice('SCHILY.xattr.'.length), v]);
}

export async function applyLayer(input: Readable, target: string, opts: ApplyOptions): Promise<{ diffId: Digest; size: number }> {
  const hasher = hashingStream();
  const extract = tar.extract();
  const flow = pipeline(input, decompressAuto(), hasher.stream, extract, { signal: opts.signal });
  // A truncated input fails the pipeline mid-entry: every wait on an entry races
  // `failed`, or it would wait for the missing bytes forever.
  let current: { destroy(e?: Error): void } | undefined;
  flow.catch(() => undefined); // the loop reports the failure
  // tar-stream is a streamx stream: without its own error listener a failure is uncaught.
  const failed = new Promise<never>((_, reject) => extract.on('error', (e: Error) => {
    current?.destroy(e);
    reject(e);
  }));
  failed.catch(() => undefined);
  const dirTimes: Array<[string, Date]> = [];
  const createdHere = new Set<string>();
  const overlayWhiteouts: string[] = [];
  const opaqueDirs: string[] = [];
  const xattrs: Array<[string, string, string]> = [];

  try {
    for await (const entry of extract) {
      current = entry;
      const h = entry.header;
      const rel = archiveEntryPath(h.name);
      if (rel === '') {
        entry.resume();
        continue;
      }
      const base = rel.slice(rel.lastIndexOf('/') + 1);
      const parentRel = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      const parent = await resolveInRoot(target, parentRel, { followFinal: true });

      if (base.startsWith(WHITEOUT_PREFIX)) {
        entry.resume();
        await mkdir(parent, { recursive: true });
        if (base === OPAQUE_WHITEOUT) {
          if (opts.whiteouts === 'overlay') opaqueDirs.push(parent);
          else for (const child of await readdir(parent)) if (!createdHere.has(join(parent, child))) await removeAll(join(parent, child));
        } else {
          const victim = base.slice(WHITEOUT_PREFIX.length);
          if (!victim || victim === '.' || victim === '..' || victim.includes('/')) throw new BerthError('UNSAFE_PATH', `invalid whiteout "${h.name}"`);
          if (opts.whiteouts === 'overlay') overlayWhiteouts.push(join(parent, victim));
          else await removeAll(join(parent, victim));
        }
        continue;
      }

      await mkdir(parent, { recursive: true });
      const path = join(parent, base);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date(0);
      const uid = h.uid ?? 0;
      const gid = h.gid ?? 0;
      switch (h.type) {
        case 'directory':
          await clearFor(path, true);
          await mkdir(path, { recursive: true });
          await chmod(path, mode);
          await lchown(path, uid, gid);
          dirTimes.push([path, mtime]);
          break;
        case 'file':
        case 'contiguous-file':
          await clearFor(path, false);
          await Promise.race([pipeline(entry, createWriteStream(path, { mode, flags: 'wx' })), failed]);
          await lchown(path, uid, gid);
          await chmod(path, mode); // after chown, which clears setuid bits
          await utimes(path, mtime, mtime);
          break;
        case 'symlink':
          await clearFor(path, false);
          await symlink(h.linkname ?? '', path);
          await lchown(path, uid, gid);
          await lutimes(path, mtime, mtime).catch(() => undefined);
          break;
        case 'link': {
          const linkRel = archiveEntryPath(h.linkname ?? '');
          const source = await resolveInRoot(target, linkRel, { followFinal: false });
          const st = await lstat(source).catch(() => undefined);
          if (!st) throw new BerthError('DATA_CORRUPT', `hardlink "${h.name}" points to "${h.linkname}", which the layer does not contain`);
          await clearFor(path, false);
          await link(source, path);
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          await clearFor(path, false);
          const args = h.type === 'fifo' ? [path, 'p'] : [path, h.type === 'block-device' ? 'b' : 'c', String(h.devmajor ?? 0), String(h.devminor ?? 0)];
          await run('mknod', ['-m', mode.toString(8), ...args]);
          await lchown(path, uid, gid);
          break;
        }
        default:
          // pax-global-header and unknown types carry no file.
          break;
      }
      if (h.type !== 'link') for (const [k, v] of xattrsOf(h)) xattrs.push([path, k, v]);
      createdHere.add(path);
      entry.resume();
    }
    await Promise.race([flow, failed]);
  } catch (e) {
    extract.destroy();
    if (isBerthError(e)) throw e;
    const code = errnoCode(e);
    if (code === 'ABORT_ERR') throw new BerthError('CANCELLED', 'layer extraction was cancelled', { cause: e });
    if (code && code.startsWith('E') && code !== 'Z_DATA_ERROR') throw e;
    throw new BerthError('DATA_CORRUPT', `cannot read the layer tar: ${(e as Error).message}`, { cause: e });
  }

  await applyOverlayMarks(target, overlayWhiteouts, opaqueDirs);
  for (const [path, k, v] of xattrs) await run('setfattr', ['-h', '-n', k, '-v', v, path]).catch(() => undefined);
  for (const [path, t] of dirTimes.reverse()) await utimes(path, t, t).catch(() => undefined);
  return { diffId: hasher.digest(), size: hasher.size() };
}

/** Overlay whiteouts need mknod and setfattr, which Node lacks: one batched shell each. */
async function applyOverlayMarks(target: string, whiteouts: readonly string[], opaque: readonly string[]): Promise<void> {
  for (const w of whiteouts) {
    if (relative(target, w).startsWith('..')) throw new BerthError('UNSAFE_PATH', `whiteout ${w} is outside the layer`);
    await removeAll(w);
    await mkdir(dirname(w), { recursive: true });
  }
  for (let i = 0; i < whiteouts.length; i += 500) {
    await run('sh', ['-c', 'for p; do mknod -m 000 "$p" c 0 0 || exit 1; done', 'sh', ...whiteouts.slice(i, i + 500)]);
  }
  for (let i = 0; i < opaque.length; i += 500) {
    await run('sh', ['-c', 'for p; do setfattr -n trusted.overlay.opaque -v y "$p" || exit 1; done', 'sh', ...opaque.slice(i, i + 500)]);
  }
}
