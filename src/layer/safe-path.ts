/**
 * Path resolution confined to a root, as if the root were `/` (chroot semantics): `..`
 * never climbs above the root, and a symlink met on the way — absolute or relative — is
 * followed inside the root. Every path an archive, `cp` or a build step writes to goes
 * through here, so nothing can be written outside the target by a crafted path or link.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';

const MAX_LINKS = 40;

/** Splits a path into clean components; `..` pops (clamped at the root), `.` and empty drop. */
export function cleanComponents(p: string): string[] {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

/**
 * Resolves `rel` inside `root`, following symlinks in every component except the last one
 * unless `followFinal`. Missing components are kept as they are. The result always lies
 * under `root`.
 */
export async function resolveInRoot(root: string, rel: string, opts: { followFinal?: boolean } = {}): Promise<string> {
  let pending = cleanComponents(rel);
  const done: string[] = [];
  let hops = 0;
  while (pending.length) {
    const comp = pending.shift()!;
    const isFinal = pending.length === 0;
    const candidate = join(root, ...done, comp);
    if (isFinal && !opts.followFinal) {
      done.push(comp);
      break;
    }
    let link: string | undefined;
    try {
      const st = await lstat(candidate);
      if (st.isSymbolicLink()) link = await readlink(candidate);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw e;
    }
    if (link === undefined) {
      done.push(comp);
      continue;
    }
    if (++hops > MAX_LINKS) throw new BerthError('UNSAFE_PATH', `too many levels of symbolic links resolving "${rel}"`);
    const target = link.split('/');
    if (link.startsWith('/')) done.length = 0;
    pending = [...target, ...pending];
    // Re-clean so `..` from the link pops resolved components, clamped at the root.
    const merged = cleanComponents([...done, ...pending].join('/'));
    done.length = 0;
    pending = merged;
  }
  return join(root, ...done);
}

/** Rejects archive names that try to leave the root with `..`; strips a leading `/`. */
export function archiveEntryPath(name: string): string {
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) {
    throw new BerthError('UNSAFE_PATH', `archive entry "${name}" escapes the target with ".."`, {
      hint: 'the archive is malformed or hostile; nothing outside the target was written',
    });
  }
  return parts.join('/');
}
