/**
 * The build context: a directory filtered by .dockerignore (or `<Dockerfile>.dockerignore`).
 * It is never copied: COPY asks for the files it needs, and their content digests come from
 * a stat-keyed cache in the store, so an unchanged 500 MB context is not re-read.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors/index.ts';
import { IgnoreMatcher, parseIgnoreFile } from '../dockerfile/index.ts';
import type { Database } from '../store/db.ts';

export interface ContextFile {
  /** Slash path relative to the context root. */
  readonly rel: string;
  readonly abs: string;
  readonly stat: Stats;
}

function statKey(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
}

export class BuildContext {
  private listing?: Promise<ContextFile[]>;

  private constructor(
    readonly dir: string,
    readonly matcher: IgnoreMatcher,
    private readonly db: Database,
  ) {}

  static async open(dir: string, dockerfilePath: string, db: Database): Promise<BuildContext> {
    const specific = await readFile(`${dockerfilePath}.dockerignore`, 'utf8').catch(() => undefined);
    const general = specific ?? (await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => ''));
    return new BuildContext(dir, new IgnoreMatcher(parseIgnoreFile(general)), db);
  }

  /** Every file and dir in the context that .dockerignore keeps, sorted by path. */
  files(): Promise<ContextFile[]> {
    this.listing ??= (async () => {
      const out: ContextFile[] = [];
      const walk = async (rel: string): Promise<void> => {
        const names = (await readdir(join(this.dir, rel))).sort();
        for (const name of names) {
          const childRel = rel ? `${rel}/${name}` : name;
          const abs = join(this.dir, childRel);
          const st = await lstat(abs);
          const excluded = this.matcher.matches(childRel);
          if (st.isDirectory()) {
            if (excluded && this.matcher.canSkipDir(childRel)) continue;
            if (!excluded) out.push({ rel: childRel, abs, stat: st });
            await walk(childRel);
          } else if (!excluded) {
            out.push({ rel: childRel, abs, stat: st });
          }
        }
      };
      await walk('');
      return out;
    })();
    return this.listing;
  }

  /** Files under (or equal to) the sources a COPY names; globs as filepath.Match. */
  async select(source: string): Promise<{ matched: ContextFile[]; roots: ContextFile[] }> {
    const clean = posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
    const all = await this.files();
    if (clean === '' || clean === '.') return { matched: all, roots: [] };
    const hasGlob = /[*?[]/.test(clean);
    const re = hasGlob ? globToRegExp(clean) : undefined;
    const roots = all.filter((f) => (re ? re.test(f.rel) : f.rel === clean));
    if (!roots.length) {
      throw new BerthError('NOT_FOUND', `failed to compute cache key: "/${clean}" not found`, {
        hint: this.matcher.matches(clean) ? `${clean} is excluded by .dockerignore` : 'the path must exist in the build context',
      });
    }
    const matched = all.filter((f) => roots.some((r) => f.rel === r.rel || (r.stat.isDirectory() && f.rel.startsWith(`${r.rel}/`))));
    return { matched, roots };
  }

  /** sha256 of a file's content, from the stat-keyed cache when the file is unchanged. */
  async fileDigest(f: ContextFile): Promise<string> {
    if (!f.stat.isFile()) return '';
    const key = statKey(f.stat);
    const row = this.db.prepare('SELECT stat_key, digest FROM file_hashes WHERE path = ?').get(f.abs) as { stat_key: string; digest: string } | undefined;
    if (row && row.stat_key === key) return row.digest;
    const h = createHash('sha256');
    await pipeline(createReadStream(f.abs, { highWaterMark: 1 << 20 }), h);
    const digest = h.digest('hex');
    this.db.prepare('INSERT OR REPLACE INTO file_hashes (path, stat_key, digest) VALUES (?, ?, ?)').run(f.abs, key, digest);
    return digest;
  }
}

/** filepath.Match-style glob: `*` and `?` stay within one path component. */
export function globToRegExp(glob: string): RegExp {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) src += '\\[';
      else {
        src += `[${glob.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) src += `\\${glob[++i]}`;
    else src += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}
