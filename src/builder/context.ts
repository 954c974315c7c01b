/**
 * The build context: a directory filtered by .dockerignore (or `<Dockerfile>.dockerignore`).
 * It is never copied: COPY asks for the files it needs, and their content digests come from
 * a stat-keyed cache in the store, so an unchanged 500 MB context is not re-read.
 */
import { constants as fsc, createReadStream, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { IgnoreMatcher, parseIgnoreFile, pathGlob } from '../dockerfile/index.ts';
import type { FileHash, FileHashRecords } from '../store/file-hashes.ts';
import { createSha256 } from '../sys/crypto.ts';
import { readTextOr } from '../sys/quiet-fs.ts';

/** A typed array's bytes, as the hash takes them. */
const bytesOf = (a: Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The lstat fields a context entry keeps, in this order, in `Listing.stats`. */
const DEV = 0;
const INO = 1;
const SIZE = 2;
const MTIME = 3;
const MODE = 4;
const FIELDS = 5;

/** What a build needs of a context entry's lstat: the same fields as `Listing.stats`. */
export class EntryStat {
  constructor(
    readonly mode: number,
    readonly size: number,
    /** Changes when the file may have changed: device, inode, size, mtime, mode. */
    readonly key: string,
  ) {}
  isDirectory(): boolean {
    return (this.mode & fsc.S_IFMT) === fsc.S_IFDIR;
  }
  isFile(): boolean {
    return (this.mode & fsc.S_IFMT) === fsc.S_IFREG;
  }
  isSymbolicLink(): boolean {
    return (this.mode & fsc.S_IFMT) === fsc.S_IFLNK;
  }
}

export interface ContextFile {
  /** Slash path relative to the context root. */
  readonly rel: string;
  readonly abs: string;
  readonly stat: EntryStat;
}

/** Entries of the listing a COPY source selects, as indexes in walk order. */
export type ContextSelection = readonly number[];

/**
 * The context's entries in walk order (depth first, names sorted), as a path array beside one
 * Float64Array of lstat numbers. No object or string per entry beyond its path: over tens of
 * thousands of entries, a Stats-derived object and a "dev:ino:…" key string each make the
 * cached build's walk much slower, most of it in garbage collection (docs/benchmarks.md).
 */
class Listing {
  readonly rels: string[] = [];
  private stats = new Float64Array(FIELDS * 1024);

  constructor(private readonly root: string) {}

  get count(): number {
    return this.rels.length;
  }

  push(rel: string, st: Stats): void {
    const o = FIELDS * this.rels.length;
    if (o + FIELDS > this.stats.length) {
      const grown = new Float64Array(this.stats.length * 2);
      grown.set(this.stats);
      this.stats = grown;
    }
    this.stats[o + DEV] = st.dev;
    this.stats[o + INO] = st.ino;
    this.stats[o + SIZE] = st.size;
    this.stats[o + MTIME] = st.mtimeMs;
    this.stats[o + MODE] = st.mode;
    this.rels.push(rel);
  }

  mode(i: number): number {
    return this.stats[FIELDS * i + MODE]!;
  }

  size(i: number): number {
    return this.stats[FIELDS * i + SIZE]!;
  }

  isDirectory(i: number): boolean {
    return (this.mode(i) & fsc.S_IFMT) === fsc.S_IFDIR;
  }

  abs(i: number): string {
    return `${this.root}/${this.rels[i]}`;
  }

  /** The file-hash cache's key: the format stored rows were written with. */
  key(i: number): string {
    const o = FIELDS * i;
    const s = this.stats;
    return `${s[o + DEV]}:${s[o + INO]}:${s[o + SIZE]}:${s[o + MTIME]}:${s[o + MODE]}`;
  }

  entry(i: number): ContextFile {
    return { rel: this.rels[i]!, abs: this.abs(i), stat: new EntryStat(this.mode(i), this.size(i), this.key(i)) };
  }

  /** The lstat numbers of a selection, to hash: one view when it is the whole listing. */
  statBytes(sel: ContextSelection): Float64Array {
    if (sel.length === this.count && sel.every((v, i) => v === i)) return this.stats.subarray(0, FIELDS * this.count);
    const out = new Float64Array(FIELDS * sel.length);
    for (let i = 0; i < sel.length; i++) out.set(this.stats.subarray(FIELDS * sel[i]!, FIELDS * sel[i]! + FIELDS), FIELDS * i);
    return out;
  }
}

/** What a context entry that is neither file, dir nor symlink is, for the warning. */
export function specialKind(st: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean }): string {
  return st.isFIFO() ? 'FIFO' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character device' : 'block device';
}

function sha256Hex(text: string): string {
  return createSha256().update(text).digest('hex');
}

/** Files up to this size are hashed from one synchronous read: a stream per file costs more than its bytes. */
const SMALL_FILE = 1 << 20;

export class BuildContext {
  private listing?: Promise<Listing>;
  private known?: Map<string, FileHash>;

  private constructor(
    readonly dir: string,
    readonly matcher: IgnoreMatcher,
    private readonly hashes: FileHashRecords,
    private readonly warn: (text: string) => void,
  ) {}

  /** `warn` hears of each entry the context leaves out for its type (a FIFO, socket or device). */
  static async open(dir: string, dockerfilePath: string, hashes: FileHashRecords, opts: { warn?: (text: string) => void } = {}): Promise<BuildContext> {
    // In line: two small files (usually absent), quicker than two trips through the thread pool.
    const general = readTextOr(`${dockerfilePath}.dockerignore`, undefined) ?? readTextOr(join(dir, '.dockerignore'), '');
    return new BuildContext(dir, new IgnoreMatcher(parseIgnoreFile(general)), hashes, opts.warn ?? (() => undefined));
  }

  /**
   * Every file and dir in the context that .dockerignore keeps. Synchronous calls on purpose:
   * for 20k small files a thread-pool round trip per lstat costs more than the lstat.
   */
  private files(): Promise<Listing> {
    this.listing ??= Promise.resolve().then(() => {
      // Concatenated, not join()ed: normalizing 20k paths that are already normal shows up.
      const root = resolve(this.dir).replace(/\/$/, ''); // '' for a context of /
      const out = new Listing(root);
      const walk = (rel: string): void => {
        const names = readdirSync(rel ? `${root}/${rel}` : root || '/').sort();
        for (const name of names) {
          const childRel = rel ? `${rel}/${name}` : name;
          const st = lstatSync(`${root}/${childRel}`);
          const excluded = this.matcher.matches(childRel);
          if (st.isDirectory()) {
            if (excluded && this.matcher.canSkipDir(childRel)) continue;
            if (!excluded) out.push(childRel, st);
            walk(childRel);
          } else if (excluded) {
          } else if (st.isFile() || st.isSymbolicLink()) {
            out.push(childRel, st);
          } else {
            // Docker sends no socket (and BuildKit no FIFO): opening a FIFO blocks for good,
            // and a device's bytes are not the context's to read.
            this.warn(`skipping ${specialKind(st)} ${JSON.stringify(childRel)} in the build context: only files, directories and symlinks are sent`);
          }
        }
      };
      walk('');
      return out;
    });
    return this.listing;
  }

  /** Entries under (or equal to) the sources a COPY names; globs as filepath.Match. */
  async select(source: string): Promise<{ matched: ContextSelection; roots: ContextFile[] }> {
    const clean = posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
    const all = await this.files();
    const { rels } = all;
    if (clean === '' || clean === '.') return { matched: rels.map((_, i) => i), roots: [] };
    const re = /[*?[]/.test(clean) ? pathGlob(clean) : undefined;
    const rootIdx = rels.flatMap((rel, i) => ((re ? re.test(rel) : rel === clean) ? [i] : []));
    if (!rootIdx.length) {
      throw new BerthError('NOT_FOUND', `failed to compute cache key: "/${clean}" not found`, {
        hint: this.matcher.matches(clean) ? `${clean} is excluded by .dockerignore` : 'the path must exist in the build context',
      });
    }
    const dirs = rootIdx.filter((i) => all.isDirectory(i)).map((i) => `${rels[i]}/`);
    const roots = new Set(rootIdx);
    const matched = rels.flatMap((rel, i) => (roots.has(i) || dirs.some((d) => rel.startsWith(d)) ? [i] : []));
    return { matched, roots: rootIdx.map((i) => all.entry(i)) };
  }

  /** Bytes of the regular files the context keeps: what a build would send, for lint's BL019. */
  async sizeBytes(): Promise<number> {
    const all = await this.files();
    let n = 0;
    for (let i = 0; i < all.count; i++) if ((all.mode(i) & fsc.S_IFMT) === fsc.S_IFREG) n += all.size(i);
    return n;
  }

  /**
   * The remembered hashes of every file under the context dir, read in one range query: one
   * statement per file costs more than the whole walk for a 20k-file context.
   */
  private knownHashes(): Map<string, FileHash> {
    this.known ??= this.hashes.under(this.dir);
    return this.known;
  }

  /** sha256 of a file's content, from the stat-keyed cache when the file is unchanged. */
  private async fileDigest(f: ContextFile, pending: Array<[string, FileHash]>): Promise<string> {
    const key = f.stat.key;
    const row = this.knownHashes().get(f.abs);
    if (row && row.statKey === key) return row.digest;
    let digest: string;
    if (f.stat.size <= SMALL_FILE) digest = createSha256().update(readFileSync(f.abs)).digest('hex');
    else {
      const h = createSha256();
      for await (const chunk of createReadStream(f.abs, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
      digest = h.digest('hex');
    }
    const hash = { statKey: key, digest };
    this.knownHashes().set(f.abs, hash);
    pending.push([f.abs, hash]);
    return digest;
  }

  /**
   * The content digest of a selection (paths relative to `base`, modes, sizes, link targets,
   * contents), from the listing's stats: no second walk. New file hashes are recorded in one
   * transaction.
   */
  async digestOf(selection: ContextSelection, base: string): Promise<string> {
    const all = await this.files();
    // Fast path: the same selection with every lstat unchanged has the digest it had. For a
    // 20k-file context this replaces 20k cache lookups with one.
    const selectionId = sha256Hex(`${this.dir}\0${base}\0${selection.map((i) => all.rels[i]).join('\n')}`);
    const statSig = createSha256()
      .update(bytesOf(all.statBytes(selection)))
      .digest('hex');
    const seen = this.hashes.selection(selectionId);
    if (seen?.statSig === statSig) return seen.digest;
    const digest = await this.digestOfFiles(
      selection.map((i) => all.entry(i)),
      base,
    );
    this.hashes.rememberSelection(selectionId, statSig, digest);
    return digest;
  }

  private async digestOfFiles(files: readonly ContextFile[], base: string): Promise<string> {
    const h = createSha256();
    const pending: Array<[string, FileHash]> = [];
    for (const f of files) {
      const rel = base ? f.rel.slice(base.length).replace(/^\//, '') : f.rel;
      h.update(`${rel}\0${f.stat.mode}\0${f.stat.isDirectory() ? 0 : f.stat.size}\0`);
      if (f.stat.isSymbolicLink()) h.update(await readlink(f.abs));
      else if (f.stat.isFile()) h.update(await this.fileDigest(f, pending));
    }
    this.hashes.rememberAll(pending);
    return h.digest('hex');
  }
}
