/**
 * The target tree as the applier sees it while a layer is being extracted: which dirs are
 * known to be real (symlink-free) dirs, and what is still to be done at the end (dir
 * mtimes, xattrs, overlay whiteouts and opaque marks).
 *
 * Everything here is keyed by the path relative to the root, and every such path was
 * symlink-free when recorded. A path component can only turn into a symlink by being
 * removed first, and every removal goes through `remove`, which forgets whatever lies
 * under it. So a recorded path never leads outside the root when it is used later.
 *
 * Every recorded path is also in a parent → children index, so that forgetting a subtree
 * visits only what was recorded under it: scanning every record per removal made a layer
 * that replaces 20k dirs with files quadratic.
 */
import { lstatSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors/index.ts';
import { resolveInRootSync } from './safe-path.ts';

export class ApplyTree {
  private readonly knownDirs = new Set<string>();
  private readonly times = new Map<string, number>();
  private readonly attrs = new Map<string, ReadonlyMap<string, Buffer>>();
  private readonly whiteoutSet = new Set<string>();
  private readonly opaqueSet = new Set<string>();
  private readonly createdSet = new Set<string>();
  /** Every path recorded above (and its parents), by parent: see the file comment. */
  private readonly children = new Map<string, Set<string>>();
  /**
   * Dirs whose mode this layer set, without the setgid bit: a file created in one gets the
   * process's own gid, so it needs no chown to get that gid.
   */
  private readonly plainDirs = new Set<string>();

  constructor(
    readonly root: string,
    private readonly trackCreated: boolean,
    /** An entry whose kind (dir or not) differs from what is in its way is refused, not replaced. */
    readonly noReplaceDirNonDir = false,
  ) {}

  /** Dirs whose mtime is set last (creating entries in them changes it). */
  get dirTimes(): ReadonlyMap<string, number> {
    return this.times;
  }
  get xattrs(): ReadonlyMap<string, ReadonlyMap<string, Buffer>> {
    return this.attrs;
  }
  get whiteouts(): ReadonlySet<string> {
    return this.whiteoutSet;
  }
  get opaqueDirs(): ReadonlySet<string> {
    return this.opaqueSet;
  }
  /** Entries this layer created (apply mode: an opaque dir keeps them). */
  get created(): ReadonlySet<string> {
    return this.createdSet;
  }

  setDirTime(rel: string, mtime: number): void {
    this.note(rel);
    this.times.set(rel, mtime);
  }

  /** Records the xattrs to set on `rel` at the end; none forgets earlier ones. */
  setXattrs(rel: string, xattrs: ReadonlyMap<string, Buffer> | undefined): void {
    if (!xattrs?.size) {
      this.attrs.delete(rel);
      return;
    }
    this.note(rel);
    this.attrs.set(rel, xattrs);
  }

  addWhiteout(rel: string): void {
    this.note(rel);
    this.whiteoutSet.add(rel);
  }

  markOpaque(rel: string): void {
    this.note(rel);
    this.opaqueSet.add(rel);
  }

  /** Puts `rel` and its parents into the index, up to the first one already there. */
  private note(rel: string): void {
    while (rel !== '') {
      const slash = rel.lastIndexOf('/');
      const parent = slash === -1 ? '' : rel.slice(0, slash);
      const siblings = this.children.get(parent);
      if (siblings?.has(rel)) return;
      if (siblings) siblings.add(rel);
      else this.children.set(parent, new Set([rel]));
      rel = parent;
    }
  }

  abs(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  relOf(abs: string): string {
    return abs === this.root ? '' : abs.slice(this.root.length + 1);
  }

  /**
   * The host path of dir `rel`, created (with missing parents, 0755) if needed. Symlinks on
   * the way are followed inside the root; symlink-free results are cached, which saves the
   * per-component lstat for the thousands of entries sharing a parent.
   */
  ensureDir(rel: string): string {
    if (rel === '' || this.knownDirs.has(rel)) return this.abs(rel);
    const r = resolveInRootSync(this.root, rel, { followFinal: true });
    mkdirSync(r.path, { recursive: true, mode: 0o755 });
    const resolvedRel = this.relOf(r.path);
    if (!r.viaSymlink) this.rememberDir(resolvedRel);
    return r.path;
  }

  /** The host path of existing dir `rel`, or undefined; creates nothing. */
  findDir(rel: string): string | undefined {
    const p = this.knownDirs.has(rel) ? this.abs(rel) : resolveInRootSync(this.root, rel, { followFinal: true }).path;
    try {
      return lstatSync(p).isDirectory() ? p : undefined;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  rememberDir(rel: string): void {
    if (rel === '' || this.knownDirs.has(rel)) return;
    this.note(rel);
    for (let r = rel; r !== '' && !this.knownDirs.has(r); r = r.includes('/') ? r.slice(0, r.lastIndexOf('/')) : '') this.knownDirs.add(r);
  }

  /** Records the mode this layer gave dir `rel` (see plainDirs). */
  setDirMode(rel: string, mode: number): void {
    if (mode & 0o2000) this.plainDirs.delete(rel);
    else {
      this.note(rel);
      this.plainDirs.add(rel);
    }
  }

  /** Whether a file created in dir `rel` gets the creating process's gid. */
  isPlainDir(rel: string): boolean {
    return this.plainDirs.has(rel);
  }

  /** Records that an entry now occupies `rel`: a pending whiteout there is void. */
  claim(rel: string): void {
    this.whiteoutSet.delete(rel);
    if (this.trackCreated) {
      this.note(rel);
      this.createdSet.add(rel);
    }
  }

  /** Removes whatever is at `rel` (recursively) and forgets everything recorded under it. */
  remove(rel: string): boolean {
    const path = this.abs(rel);
    let isDir: boolean;
    try {
      isDir = lstatSync(path).isDirectory();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
    if (isDir) {
      rmSync(path, { recursive: true, force: true });
      this.forgetUnder(rel);
    } else {
      unlinkSync(path);
      this.attrs.delete(rel);
    }
    return true;
  }

  /** Removes a dir's content except what this layer created (an opaque dir, apply mode). */
  emptyDir(rel: string): void {
    const dir = this.abs(rel);
    for (const name of readdirSync(dir)) {
      const child = rel === '' ? name : `${rel}/${name}`;
      if (!this.createdSet.has(child)) this.remove(child);
    }
  }

  /** Forgets `rel` and everything recorded under it, through the index: each record is visited once. */
  private forgetUnder(rel: string): void {
    const slash = rel.lastIndexOf('/');
    this.children.get(slash === -1 ? '' : rel.slice(0, slash))?.delete(rel);
    const stack = [rel];
    for (let k = stack.pop(); k !== undefined; k = stack.pop()) {
      for (const set of [this.knownDirs, this.whiteoutSet, this.opaqueSet, this.createdSet, this.plainDirs]) set.delete(k);
      this.times.delete(k);
      this.attrs.delete(k);
      const kids = this.children.get(k);
      if (kids) {
        this.children.delete(k);
        stack.push(...kids);
      }
    }
  }
}
