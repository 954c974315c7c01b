/**
 * What one layer adds: its byte and file counts, its biggest files, and the dirs that hold
 * most of its bytes. Memory is a fixed top list plus one number per dir (down to a depth).
 */
import { displayPath } from './tree.ts';

/** Dirs deeper than this are counted in their ancestor at this depth. */
const DIR_DEPTH = 6;

export interface TopEntry {
  readonly path: string;
  readonly size: number;
}

/** Keeps the `limit` largest entries offered. */
export class TopList {
  private readonly items: TopEntry[] = [];
  constructor(private readonly limit: number) {}

  offer(size: number, path: () => string): void {
    if (this.items.length >= this.limit && size <= this.items[this.items.length - 1]!.size) return;
    const item = { path: path(), size };
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.size < size) i--;
    this.items.splice(i, 0, item);
    if (this.items.length > this.limit) this.items.pop();
  }

  list(): TopEntry[] {
    return [...this.items];
  }
}

export class LayerStats {
  size = 0;
  files = 0;
  private readonly biggest: TopList;
  private readonly dirBytes = new Map<string, number>();

  constructor(private readonly top: number) {
    this.biggest = new TopList(top);
  }

  addFile(parts: readonly string[], size: number): void {
    this.size += size;
    this.files++;
    this.biggest.offer(size, () => displayPath(parts));
    const depth = Math.min(parts.length - 1, DIR_DEPTH);
    let key = '';
    for (let i = 0; i < depth; i++) {
      key += `/${parts[i]}`;
      this.dirBytes.set(key, (this.dirBytes.get(key) ?? 0) + size);
    }
  }

  biggestFiles(): TopEntry[] {
    return this.biggest.list().filter((f) => f.size > 0);
  }

  /**
   * The dirs that hold the layer's bytes, each as deep as it can be: a dir whose one subdir
   * holds nine tenths of its bytes is left out for that subdir, so `/usr` does not hide
   * `/usr/lib/python3/dist-packages/torch`.
   */
  biggestDirs(): TopEntry[] {
    const biggestChild = new Map<string, number>();
    for (const [dir, size] of this.dirBytes) {
      const parent = dir.slice(0, dir.lastIndexOf('/'));
      if (parent) biggestChild.set(parent, Math.max(biggestChild.get(parent) ?? 0, size));
    }
    const top = new TopList(this.top);
    for (const [dir, size] of this.dirBytes) {
      if (size > 0 && (biggestChild.get(dir) ?? 0) < 0.9 * size) top.offer(size, () => dir);
    }
    return top.list();
  }
}
