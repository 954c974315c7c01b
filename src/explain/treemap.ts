/**
 * A squarified treemap (Bruls, Huizing and van Wijk) of the folded final tree: each file
 * (or folded group) is a box whose area is its size, inside its dir's box. Plain rectangles
 * out; the HTML page draws them.
 */
import type { TreeNode } from './report.ts';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly layer: number;
  readonly path: string;
  /** The last component of the path, or a folded group's `(N smaller)`. */
  readonly name: string;
  readonly size: number;
  /** A dir's box is drawn as an outline around its children's. */
  readonly dir: boolean;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function worst(areas: readonly number[], side: number): number {
  const sum = areas.reduce((a, b) => a + b, 0);
  const max = Math.max(...areas);
  const min = Math.min(...areas);
  return Math.max((side * side * max) / (sum * sum), (sum * sum) / (side * side * min));
}

/** Places `items` (sizes, largest first) in `rect`; returns one rect per item, in order. */
function squarify(sizes: readonly number[], rect: Rect): Rect[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const out: Rect[] = [];
  if (total <= 0 || rect.w <= 0 || rect.h <= 0) return sizes.map(() => ({ x: rect.x, y: rect.y, w: 0, h: 0 }));
  const scale = (rect.w * rect.h) / total;
  const free = { ...rect };
  let row: number[] = [];
  const place = () => {
    const sum = row.reduce((a, b) => a + b, 0);
    if (free.w >= free.h) {
      const colW = sum / free.h;
      let y = free.y;
      for (const a of row) {
        out.push({ x: free.x, y, w: colW, h: a / colW });
        y += a / colW;
      }
      free.x += colW;
      free.w -= colW;
    } else {
      const rowH = sum / free.w;
      let x = free.x;
      for (const a of row) {
        out.push({ x, y: free.y, w: a / rowH, h: rowH });
        x += a / rowH;
      }
      free.y += rowH;
      free.h -= rowH;
    }
    row = [];
  };
  for (const s of sizes) {
    const area = s * scale;
    const side = Math.min(free.w, free.h);
    if (row.length === 0 || worst([...row, area], side) <= worst(row, side)) row.push(area);
    else {
      place();
      row.push(area);
    }
  }
  if (row.length) place();
  return out;
}

const PAD = 1.5;

export function layoutTreemap(root: TreeNode, width: number, height: number): Box[] {
  const boxes: Box[] = [];
  const visit = (node: TreeNode, rect: Rect, path: string) => {
    const kids = (node.children ?? []).filter((c) => c.size > 0);
    const roomy = rect.w > 4 * PAD && rect.h > 4 * PAD;
    if (!kids.length || !roomy) {
      boxes.push({ ...rect, layer: node.layer, path, name: node.name, size: node.size, dir: false });
      return;
    }
    boxes.push({ ...rect, layer: node.layer, path, name: node.name, size: node.size, dir: true });
    const inner = { x: rect.x + PAD, y: rect.y + PAD, w: rect.w - 2 * PAD, h: rect.h - 2 * PAD };
    const rects = squarify(
      kids.map((k) => k.size),
      inner,
    );
    for (const [i, k] of kids.entries()) visit(k, rects[i]!, path === '/' ? `/${k.name}` : `${path}/${k.name}`);
  };
  visit(root, { x: 0, y: 0, w: width, h: height }, '/');
  return boxes;
}
