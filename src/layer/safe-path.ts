/**
 * Path resolution confined to a root, as if the root were `/` (chroot semantics): `..`
 * never climbs above the root, and a symlink met on the way — absolute or relative — is
 * followed inside the root. Every path an archive, `cp` or a build step writes to goes
 * through here, so nothing can be written outside the target by a crafted path or link.
 */
import { lstatSync, readlinkSync } from 'node:fs';
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

export interface ResolveResult {
  /** Absolute host path, always under the root. */
  readonly path: string;
  /** Whether a symlink was followed on the way (the result is then not `root/rel`). */
  readonly viaSymlink: boolean;
}

/**
 * The synchronous core of resolveInRoot, which also says whether a symlink was met (the
 * layer applier caches only symlink-free resolutions).
 */
export function resolveInRootSync(root: string, rel: string, opts: { followFinal?: boolean } = {}): ResolveResult {
  let pending = cleanComponents(rel);
  const done: string[] = [];
  let hops = 0;
  while (pending.length) {
    const comp = pending.shift()!;
    const candidate = join(root, ...done, comp);
    if (pending.length === 0 && !opts.followFinal) {
      done.push(comp);
      break;
    }
    let link: string | undefined;
    try {
      if (lstatSync(candidate).isSymbolicLink()) link = readlinkSync(candidate);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw e;
    }
    if (link === undefined) {
      done.push(comp);
      continue;
    }
    if (++hops > MAX_LINKS) throw new BerthError('UNSAFE_PATH', `too many levels of symbolic links resolving "${rel}"`);
    // An absolute target restarts at the root; `..` in it pops resolved components, clamped.
    pending = cleanComponents([...(link.startsWith('/') ? [] : done), link, ...pending].join('/'));
    done.length = 0;
  }
  return { path: join(root, ...done), viaSymlink: hops > 0 };
}

/**
 * Resolves `rel` inside `root`, following symlinks in every component except the last one
 * unless `followFinal`. Missing components are kept as they are. The result always lies
 * under `root`.
 */
export async function resolveInRoot(root: string, rel: string, opts: { followFinal?: boolean } = {}): Promise<string> {
  return resolveInRootSync(root, rel, opts).path;
}

/**
 * The clean relative path of an archive entry. A leading `/` is dropped (the entry is
 * relative to the root, as Docker does); `.` and `..` are resolved lexically, and a name
 * whose `..` would climb above the root is refused: such an entry is hostile, and
 * extracting it elsewhere would only hide that.
 */
export function archiveEntryPath(name: string): string {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..') out.push(c);
    else if (out.pop() === undefined) {
      throw new BerthError('UNSAFE_PATH', `archive entry "${name}" escapes the target with ".."`, {
        hint: 'the archive is malformed or hostile; nothing outside the target was written',
      });
    }
  }
  return out.join('/');
}
