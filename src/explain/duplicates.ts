/**
 * Files of the final tree with the same content in different layers. Only files whose size
 * another layer's file shares are hashed, largest first, within a file count and a byte
 * budget; the layers that hold such files are read a second time for it.
 */
import type { TarEntry } from '../layer/index.ts';
import { createSha256 } from '../sys/crypto.ts';
import type { DuplicateGroup } from './report.ts';
import { displayPath, entryComponents, type PathTree } from './tree.ts';

/** Smaller files are not worth a line: their copies cost less than a tar header each. */
const MIN_SIZE = 1024;
const MAX_FILES = 20_000;
const MAX_BYTES = 2 * 1024 ** 3;

interface Candidate {
  readonly path: string;
  readonly size: number;
  readonly layer: number;
}

export async function findDuplicates(
  tree: PathTree,
  readLayer: (index: number) => AsyncIterable<TarEntry>,
): Promise<{ groups: DuplicateGroup[]; truncated: boolean }> {
  // Sizes first: one record per size, with the layers its files are in.
  const layersBySize = new Map<number, number | 'many'>();
  for (const { node } of tree.files()) {
    if (node.size < MIN_SIZE) continue;
    const seen = layersBySize.get(node.size);
    if (seen === undefined) layersBySize.set(node.size, node.layer);
    else if (seen !== 'many' && seen !== node.layer) layersBySize.set(node.size, 'many');
  }
  const all: Candidate[] = [];
  for (const { parts, node } of tree.files()) {
    if (layersBySize.get(node.size) === 'many') all.push({ path: parts.join('/'), size: node.size, layer: node.layer });
  }
  layersBySize.clear();
  all.sort((a, b) => b.size - a.size);
  const picked: Candidate[] = [];
  let bytes = 0;
  let truncated = false;
  for (const c of all) {
    if (picked.length >= MAX_FILES || bytes + c.size > MAX_BYTES) {
      truncated = true;
      break;
    }
    picked.push(c);
    bytes += c.size;
  }

  const byLayer = new Map<number, Map<string, Candidate>>();
  for (const c of picked) {
    const m = byLayer.get(c.layer) ?? new Map<string, Candidate>();
    m.set(c.path, c);
    byLayer.set(c.layer, m);
  }
  const byDigest = new Map<string, Candidate[]>();
  for (const [layer, wanted] of [...byLayer].sort((a, b) => a[0] - b[0])) {
    let left = wanted.size;
    for await (const entry of readLayer(layer)) {
      if (entry.header.type !== 'file') continue;
      const key = entryComponents(entry.header.name)?.join('/');
      const c = key === undefined ? undefined : wanted.get(key);
      if (!c || c.size !== entry.header.size) continue;
      const h = createSha256();
      for await (const chunk of entry.body()) h.update(chunk);
      const digest = `sha256:${h.digest('hex')}`;
      byDigest.set(digest, [...(byDigest.get(digest) ?? []), c]);
      if (--left === 0) break;
    }
  }

  const groups: DuplicateGroup[] = [];
  for (const [digest, copies] of byDigest) {
    if (new Set(copies.map((c) => c.layer)).size < 2) continue;
    const size = copies[0]!.size;
    groups.push({
      digest,
      size,
      wasted: size * (copies.length - 1),
      copies: copies.map((c) => ({ path: displayPath(c.path.split('/')), layer: c.layer })).sort((a, b) => a.layer - b.layer || a.path.localeCompare(b.path)),
    });
  }
  groups.sort((a, b) => b.wasted - a.wasted || a.digest.localeCompare(b.digest));
  return { groups, truncated };
}
