/**
 * The build context's hash cache, two tables: `file_hashes` (a context file's sha256, valid
 * while its stat key is unchanged) and `context_digests` (the digest of a whole selection of
 * files, valid while the signature of all their stat keys is unchanged). A cached build
 * hashes nothing it hashed before.
 */
import type { Database } from './db.ts';

export interface FileHash {
  /** dev:ino:size:mtimeNs:mode; any change means the file must be hashed again. */
  readonly statKey: string;
  /** sha256 hex of the content. */
  readonly digest: string;
}

export class FileHashRecords {
  constructor(private readonly db: Database) {}

  /**
   * The remembered hashes of every file under `dir` (an absolute path), read in one range
   * query: one statement per file costs more than the whole walk of a large context.
   */
  under(dir: string): Map<string, FileHash> {
    // Paths under `dir/` sort between `dir/` and `dir0` ('0' follows '/').
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    const rows = this.db.prepare('SELECT path, stat_key, digest FROM file_hashes WHERE path > ? AND path < ?').all(prefix, `${prefix.slice(0, -1)}0`) as Array<{
      path: string;
      stat_key: string;
      digest: string;
    }>;
    return new Map(rows.map((r) => [r.path, { statKey: r.stat_key, digest: r.digest }]));
  }

  /** Remembers files' hashes, in one transaction. */
  rememberAll(entries: ReadonlyArray<readonly [path: string, hash: FileHash]>): void {
    if (!entries.length) return;
    const put = this.db.prepare('INSERT OR REPLACE INTO file_hashes (path, stat_key, digest) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const [path, h] of entries) put.run(path, h.statKey, h.digest);
    })();
  }

  /** The digest last computed for a selection, and the stat signature it was computed under. */
  selection(selectionId: string): { statSig: string; digest: string } | undefined {
    const r = this.db.prepare('SELECT stat_sig, digest FROM context_digests WHERE selection = ?').get(selectionId) as
      | { stat_sig: string; digest: string }
      | undefined;
    return r && { statSig: r.stat_sig, digest: r.digest };
  }

  rememberSelection(selectionId: string, statSig: string, digest: string): void {
    this.db.prepare('INSERT OR REPLACE INTO context_digests (selection, stat_sig, digest) VALUES (?, ?, ?)').run(selectionId, statSig, digest);
  }

  /** How many context files have a remembered hash: `system df` shows them as one build cache record. */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) n FROM file_hashes').get() as { n: number }).n;
  }

  /** Forgets every remembered hash (`builder prune`): the next build hashes its context again. */
  clear(): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM file_hashes').run();
      this.db.prepare('DELETE FROM context_digests').run();
    })();
  }
}
