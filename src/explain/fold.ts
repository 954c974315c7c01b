/**
 * The final tree cut down for a treemap: a file or dir smaller than a share of the whole is
 * folded, with its small siblings, into one `(N smaller)` box, so a tree of a million files
 * draws as a few thousand boxes and no box is too small to see.
 */
import type { TreeNode } from './report.ts';
import type { PathNode } from './tree.ts';

/** Boxes below this share of the image are folded (at most about this many boxes in all). */
const MIN_SHARE = 1 / 3000;

interface Folded {
  readonly node: TreeNode;
  /** Bytes by layer, for the dominant layer of a folded box. */
  readonly layerBytes: Map<number, number>;
}

function dominant(layerBytes: Map<number, number>, fallback: number): number {
  let best = fallback;
  let most = -1;
  for (const [layer, bytes] of layerBytes) {
    if (bytes > most) {
      most = bytes;
      best = layer;
    }
  }
  return best;
}

function add(into: Map<number, number>, from: Map<number, number>): void {
  for (const [l, b] of from) into.set(l, (into.get(l) ?? 0) + b);
}

function fold(name: string, node: PathNode, minSize: number): Folded {
  if (node.kind !== 'dir') return { node: { name, size: node.size, layer: node.layer }, layerBytes: new Map([[node.layer, node.size]]) };
  const kept: TreeNode[] = [];
  const layerBytes = new Map<number, number>();
  const small = { size: 0, count: 0, layerBytes: new Map<number, number>() };
  let size = 0;
  for (const [childName, child] of node.children ?? []) {
    const f = fold(childName, child, minSize);
    size += f.node.size;
    add(layerBytes, f.layerBytes);
    if (f.node.size >= minSize) kept.push(f.node);
    else if (f.node.size > 0) {
      small.size += f.node.size;
      small.count++;
      add(small.layerBytes, f.layerBytes);
    }
  }
  const layer = dominant(layerBytes, node.layer);
  if (size < minSize) return { node: { name, size, layer }, layerBytes }; // folded by the caller; no children kept
  // A dir whose entries are all small is one box under its own name.
  if (!kept.length) return { node: { name, size, layer }, layerBytes };
  if (small.count) kept.push({ name: `(${small.count} smaller)`, size: small.size, layer: dominant(small.layerBytes, layer) });
  kept.sort((a, b) => b.size - a.size);
  return { node: { name, size, layer, children: kept }, layerBytes };
}

export function foldTree(root: PathNode, totalSize: number): TreeNode {
  return fold('/', root, Math.max(1, totalSize * MIN_SHARE)).node;
}
