/**
 * The build context: a directory filtered by .dockerignore (or `<Dockerfile>.dockerignore`).
 * It is never copied: COPY asks for the files it needs, and their content digests come from
 * a stat-keyed cache in the store, so an unchanged 500 MB context is not re-read.
 */
import { createHash } from 'node:crypto';
import { constants as fsc, createReadStream, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors/index.ts';
import { IgnoreMatcher, parseIgnoreFile, pathGlob } from '../dockerfile/index.ts';
import type { Database } from '../store/db.ts';

/**
 * What a build needs of a context entry's lstat. Kept small on purpose: holding 20k full
 * Stats objects cost the cached build of the bench context ~90 ms of garbage collection.
 */
export class EntryStat {
  readonly mode: number;
  readonly size: number;
  /** Changes when the file may have changed: device, inode, size, mtime, mode. */
  readonly key: string;
  constructor(st: Stats) {
    this.mode = st.mode;
    this.size = st.size;
    this.key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
  }
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

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Files up to this size are hashed from one synchronous read: a stream per file costs more than its bytes. */
const SMALL_FILE = 1 << 20;

export class BuildContext {
  private listing?: Promise<ContextFile[]>;
  private known?: Map<string, { stat_key: string; digest: string }>;
  private readonly remember: { run(...args: unknown[]): unknown };

  private constructor(
    readonly dir: string,
    readonly matcher: IgnoreMatcher,
    private readonly db: Database,
  ) {
    this.remember = db.prepare('INSERT OR REPLACE INTO file_hashes (path, stat_key, digest) VALUES (?, ?, ?)');
  }

  static async open(dir: string, dockerfilePath: string, db: Database): Promise<BuildContext> {
    const specific = await readFile(`${dockerfilePath}.dockerignore`, 'utf8').catch(() => undefined);
    const general = specific ?? (await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => ''));
    return new BuildContext(dir, new IgnoreMatcher(parseIgnoreFile(general)), db);
  }

  /**
   * Every file and dir in the context that .dockerignore keeps, sorted by path. Synchronous
   * calls on purpose: for 20k small files a thread-pool round trip per lstat costs more
   * than the lstat.
   */
  files(): Promise<ContextFile[]> {
    this.listing ??= Promise.resolve().then(() => {
      const out: ContextFile[] = [];
      // Concatenated, not join()ed: normalizing 20k paths that are already normal shows up.
      const root = resolve(this.dir).replace(/\/$/, ''); // '' for a context of /
      const walk = (rel: string): void => {
        const names = readdirSync(rel ? `${root}/${rel}` : root || '/').sort();
        for (const name of names) {
          const childRel = rel ? `${rel}/${name}` : name;
          const abs = `${root}/${childRel}`;
          const st = new EntryStat(lstatSync(abs));
          const excluded = this.matcher.matches(childRel);
          if (st.isDirectory()) {
            if (excluded && this.matcher.canSkipDir(childRel)) continue;
            if (!excluded) out.push({ rel: childRel, abs, stat: st });
            walk(childRel);
          } else if (!excluded) {
            out.push({ rel: childRel, abs, stat: st });
          }
        }
      };
      walk('');
      return out;
    });
    return this.listing;
  }

  /** Files under (or equal to) the sources a COPY names; globs as filepath.Match. */
  async select(source: string): Promise<{ matched: ContextFile[]; roots: ContextFile[] }> {
    const clean = posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
    const all = await this.files();
    if (clean === '' || clean === '.') return { matched: all, roots: [] };
    const hasGlob = /[*?[]/.test(clean);
    const re = hasGlob ? pathGlob(clean) : undefined;
    const roots = all.filter((f) => (re ? re.test(f.rel) : f.rel === clean));
    if (!roots.length) {
      throw new BerthError('NOT_FOUND', `failed to compute cache key: "/${clean}" not found`, {
        hint: this.matcher.matches(clean) ? `${clean} is excluded by .dockerignore` : 'the path must exist in the build context',
      });
    }
    const matched = all.filter((f) => roots.some((r) => f.rel === r.rel || (r.stat.isDirectory() && f.rel.startsWith(`${r.rel}/`))));
    return { matched, roots };
  }

  /** Bytes of the regular files the context keeps: what a build would send, for lint's BL019. */
  async sizeBytes(): Promise<number> {
    return (await this.files()).reduce((n, f) => n + (f.stat.isFile() ? f.stat.size : 0), 0);
  }

  /**
   * The remembered hashes of every file under the context dir, read in one range query: one
   * statement per file costs more than the whole walk for a 20k-file context.
   */
  private knownHashes(): Map<string, { stat_key: string; digest: string }> {
    if (!this.known) {
      // Paths under `dir/` sort between `dir/` and `dir0` ('0' follows '/').
      const prefix = this.dir.endsWith('/') ? this.dir : `${this.dir}/`;
      const rows = this.db.prepare('SELECT path, stat_key, digest FROM file_hashes WHERE path > ? AND path < ?').all(prefix, `${prefix.slice(0, -1)}0`) as Array<{ path: string; stat_key: string; digest: string }>;
      this.known = new Map(rows.map((r) => [r.path, r]));
    }
    return this.known;
  }

  /** sha256 of a file's content, from the stat-keyed cache when the file is unchanged. */
  async fileDigest(f: ContextFile, pending?: Array<[string, string, string]>): Promise<string> {
    if (!f.stat.isFile()) return '';
    const key = f.stat.key;
    const row = this.knownHashes().get(f.abs);
    if (row && row.stat_key === key) return row.digest;
    let digest: string;
    if (f.stat.size <= SMALL_FILE) digest = createHash('sha256').update(readFileSync(f.abs)).digest('hex');
    else {
      const h = createHash('sha256');
      await pipeline(createReadStream(f.abs, { highWaterMark: 1 << 20 }), h);
      digest = h.digest('hex');
    }
    this.knownHashes().set(f.abs, { stat_key: key, digest });
    if (pending) pending.push([f.abs, key, digest]);
    else this.remember.run(f.abs, key, digest);
    return digest;
  }

  /**
   * The content digest of a set of context files (paths relative to `base`, modes, sizes,
   * link targets, contents), from the listing's stats: no second walk. New file hashes are
   * recorded in one transaction.
   */
  async digestOf(files: readonly ContextFile[], base: string): Promise<string> {
    // Fast path: the same selection with every stat key unchanged has the digest it had. For
    // a 20k-file context this replaces 20k cache lookups with one.
    const selectionId = sha256Hex(`${this.dir}\0${base}\0${files.map((f) => f.rel).join('\n')}`);
    const statSig = sha256Hex(files.map((f) => f.stat.key).join('\n'));
    const seen = this.db.prepare('SELECT stat_sig, digest FROM context_digests WHERE selection = ?').get(selectionId) as { stat_sig: string; digest: string } | undefined;
    if (seen?.stat_sig === statSig) return seen.digest;
    const digest = await this.digestOfFiles(files, base);
    this.db.prepare('INSERT OR REPLACE INTO context_digests (selection, stat_sig, digest) VALUES (?, ?, ?)').run(selectionId, statSig, digest);
    return digest;
  }

  private async digestOfFiles(files: readonly ContextFile[], base: string): Promise<string> {
    const h = createHash('sha256');
    const pending: Array<[string, string, string]> = [];
    for (const f of files) {
      const rel = base ? f.rel.slice(base.length).replace(/^\//, '') : f.rel;
      h.update(`${rel}\0${f.stat.mode}\0${f.stat.isDirectory() ? 0 : f.stat.size}\0`);
      if (f.stat.isSymbolicLink()) h.update(await readlink(f.abs));
      else if (f.stat.isFile()) h.update(await this.fileDigest(f, pending));
    }
    if (pending.length) this.db.transaction(() => pending.forEach((p) => this.remember.run(...p)))();
    return h.digest('hex');
  }
}
