/**
 * The image's tree as its layers build it, one tar entry at a time, keeping one small record
 * per path and never a byte of content. Whiteouts and overwrites are applied as overlayfs
 * applies them, and each removal of bytes a lower layer wrote is recorded as waste.
 */
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, type TarHeader } from '../layer/index.ts';
import type { WastedBytes } from './report.ts';

export interface PathNode {
  kind: 'file' | 'dir' | 'other';
  /** Content bytes (files only). */
  size: number;
  /** The layer that last wrote this path. */
  layer: number;
  children?: Map<string, PathNode>;
}

/** The components of a tar entry name, or undefined for a name that leaves the root. */
export function entryComponents(name: string): string[] | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return parts.includes('..') ? undefined : parts;
}

/** A path for people: `/usr/lib/x`. */
export function displayPath(parts: readonly string[]): string {
  return `/${parts.join('/')}`;
}

export class PathTree {
  readonly root: PathNode = { kind: 'dir', size: 0, layer: 0, children: new Map() };
  readonly wasted: WastedBytes[] = [];

  /**
   * Applies one entry of layer `layer`. Returns the path's components when the entry is a
   * file whose content now stands in the tree (for the caller's per-layer statistics).
   */
  apply(header: TarHeader, layer: number): string[] | undefined {
    const parts = entryComponents(header.name);
    if (!parts || parts.length === 0) return undefined;
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);
    if (base === OPAQUE_WHITEOUT) {
      const dir = this.dirAt(parentParts, layer);
      this.dropLower(dir, parentParts, layer);
      return undefined;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = base.slice(WHITEOUT_PREFIX.length);
      const dir = this.dirAt(parentParts, layer);
      const gone = dir.children!.get(target);
      if (gone) {
        dir.children!.delete(target);
        this.recordRemoval('deleted', [...parentParts, target], gone, layer);
      }
      return undefined;
    }
    const dir = this.dirAt(parentParts, layer);
    const old = dir.children!.get(base);
    const kind = header.type === 'directory' ? 'dir' : header.type === 'file' ? 'file' : 'other';
    if (old && kind === 'dir' && old.kind === 'dir') {
      old.layer = layer; // a dir's metadata changed; its content stays
      return undefined;
    }
    if (old && old.layer < layer) this.recordRemoval('overwritten', parts, old, layer);
    const node: PathNode = { kind, size: kind === 'file' ? header.size : 0, layer };
    if (kind === 'dir') node.children = new Map();
    dir.children!.set(base, node);
    return kind === 'file' ? parts : undefined;
  }

  /** The dir at `parts`, made (as a dir of `layer`) where missing; a non-dir in the way is replaced. */
  private dirAt(parts: readonly string[], layer: number): PathNode {
    let node = this.root;
    for (let i = 0; i < parts.length; i++) {
      let next = node.children!.get(parts[i]!);
      if (next?.kind !== 'dir') {
        if (next && next.layer < layer) this.recordRemoval('overwritten', parts.slice(0, i + 1), next, layer);
        next = { kind: 'dir', size: 0, layer, children: new Map() };
        node.children!.set(parts[i]!, next);
      }
      node = next;
    }
    return node;
  }

  /** An opaque dir: what lower layers put in it goes; what this layer already put stays. */
  private dropLower(dir: PathNode, parts: readonly string[], layer: number): void {
    for (const [name, child] of [...dir.children!]) {
      if (child.kind === 'dir' && child.layer === layer) {
        this.dropLower(child, [...parts, name], layer);
      } else if (child.layer < layer) {
        dir.children!.delete(name);
        this.recordRemoval('deleted', [...parts, name], child, layer);
      }
    }
  }

  /** Records the bytes a removed subtree held, one record per layer that wrote them. */
  private recordRemoval(kind: WastedBytes['kind'], parts: readonly string[], node: PathNode, removedIn: number): void {
    const byLayer = new Map<number, { size: number; files: number }>();
    const stack: PathNode[] = [node];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.kind === 'file' && n.layer < removedIn) {
        const t = byLayer.get(n.layer) ?? { size: 0, files: 0 };
        t.size += n.size;
        t.files++;
        byLayer.set(n.layer, t);
      }
      if (n.children) stack.push(...n.children.values());
    }
    for (const [addedIn, t] of byLayer) this.wasted.push({ kind, path: displayPath(parts), size: t.size, files: t.files, addedIn, removedIn });
  }

  /** Every file of the final tree, depth first, with its path components. */
  *files(): Generator<{ parts: string[]; node: PathNode }> {
    const stack: Array<{ parts: string[]; node: PathNode }> = [{ parts: [], node: this.root }];
    while (stack.length) {
      const { parts, node } = stack.pop()!;
      if (node.kind === 'file') yield { parts, node };
      if (node.children) for (const [name, child] of node.children) stack.push({ parts: [...parts, name], node: child });
    }
  }
}
