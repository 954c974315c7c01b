/**
 * Small files of a layer created by several workers at once. Creating files is the slow part
 * of extracting a layer of many small files, and the kernel does it in parallel (2-3x here).
 * The extraction stays in tar order for everything else: before any entry that could change
 * the tree a pending file lives in (a dir, link, whiteout, or a path at or above a pending
 * one), the caller drains the pool. A pending file only ever creates its own leaf, with
 * O_EXCL|O_NOFOLLOW, under parents the caller resolved inside the root.
 */
import { constants as fsc } from 'node:fs';
import { open } from 'node:fs/promises';

export interface SmallFile {
  readonly path: string;
  readonly rel: string;
  readonly data: Buffer;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly mtime: number;
}

const FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;

export class WritePool {
  private readonly inflight = new Set<Promise<void>>();
  private readonly pending = new Set<string>();
  private failure: unknown;

  constructor(private readonly limit = 8) {}

  /** Whether `rel` or any of its parents is a file not written yet. */
  touches(rel: string): boolean {
    if (!this.pending.size) return false;
    for (let p = rel; p; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) if (this.pending.has(p)) return true;
    return false;
  }

  async add(f: SmallFile): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    this.pending.add(f.rel);
    const job = write(f)
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.pending.delete(f.rel);
        this.inflight.delete(job);
      });
    this.inflight.add(job);
  }

  /** Waits for every pending file; the first failure is thrown here. */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all(this.inflight);
    if (this.failure) throw this.failure;
  }
}

async function write(f: SmallFile): Promise<void> {
  const fh = await open(f.path, FLAGS, 0o600);
  try {
    if (f.data.length) await fh.write(f.data, 0, f.data.length, 0);
    await fh.chown(f.uid, f.gid);
    await fh.chmod(f.mode); // after chown, which clears set-id bits
    await fh.utimes(f.mtime, f.mtime);
  } finally {
    await fh.close();
  }
}
