/**
 * `image explain`: why an image is as big as it is. Each layer's tar is read once as a
 * stream into a tree of per-path records (tree.ts), which gives what each layer adds, what a
 * later layer deletes or overwrites, and the final tree's caches; a second, bounded pass
 * hashes only the files whose sizes match across layers, to find duplicates.
 */
import { familiarTag } from '../image/inspect.ts';
import { hasLayerBlob } from '../image/layer-blob.ts';
import { resolveImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import type { Digest } from '../oci/digest.ts';
import { CacheFinder } from './caches.ts';
import { type DockerfileSource, historyLines } from './dockerfile-lines.ts';
import { findDuplicates } from './duplicates.ts';
import { layerEntries } from './layer-entries.ts';
import { LayerStats } from './layer-stats.ts';
import { EXPLAIN_SCHEMA_VERSION, type ExplainReport, type LayerReport, type SourceLine, type TreeNode } from './report.ts';
import { foldTree } from './fold.ts';
import { PathTree } from './tree.ts';

export interface ExplainOptions {
  /**
   * The Dockerfile the image was built from, to name the line behind each layer. Without it,
   * an image berth built names the lines its build kept; another names none.
   */
  readonly dockerfile?: { readonly text: string; readonly file: string };
  /** How many biggest files and dirs per layer. */
  readonly top?: number;
  readonly signal?: AbortSignal;
}

export interface Explained {
  readonly report: ExplainReport;
  /** The final tree, folded to a few thousand nodes, for the treemap. */
  readonly tree: TreeNode;
}

/** The most waste records and caches a report lists (the totals count them all). */
const LIST_LIMIT = 100;

export async function explainImage(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots' | 'lease'>,
  name: string,
  opts: ExplainOptions = {},
): Promise<Explained> {
  const image = await resolveImage(stores, name); // leased: a prune keeps its layers while they are read
  const { config, manifest } = image;
  const diffIds = config.rootfs.diff_ids as Digest[];
  const blobs = manifest.layers.map((l) => l.digest as Digest);
  const top = opts.top ?? 5;

  // The history entries that made layers, in layer order, and their Dockerfile lines.
  const history = config.history ?? [];
  const layerHistory = history.filter((h) => !h.empty_layer);
  const source: DockerfileSource | undefined = opts.dockerfile ?? stores.images.buildSource(image.record.id);
  const lines = source
    ? historyLines(
        history.map((h) => h.created_by ?? ''),
        source,
      )
    : [];
  const layerLines: Array<SourceLine | null> = history.flatMap((h, i) => (h.empty_layer ? [] : [lines[i] ?? null]));

  // A layer built here is read from its dir (by diffID); a pulled one from its stored blob.
  const sources: Digest[] = [];
  for (let i = 0; i < diffIds.length; i++) sources.push((await hasLayerBlob(stores, diffIds[i]!)) || !blobs[i] ? diffIds[i]! : blobs[i]!);
  const tree = new PathTree();
  const stats: LayerStats[] = [];
  for (let i = 0; i < diffIds.length; i++) {
    const s = new LayerStats(top);
    for await (const entry of layerEntries(stores, sources[i]!, opts)) {
      const parts = tree.apply(entry.header, i);
      if (parts) s.addFile(parts, entry.header.size);
    }
    stats.push(s);
  }

  const finalSize = diffIds.map(() => 0);
  const caches = new CacheFinder();
  let totalSize = 0;
  let totalFiles = 0;
  for (const { parts, node } of tree.files()) {
    finalSize[node.layer] = (finalSize[node.layer] ?? 0) + node.size;
    totalSize += node.size;
    totalFiles++;
    caches.offer(parts, node);
  }
  const dups = await findDuplicates(tree, (i) => layerEntries(stores, sources[i]!, opts));

  const layers: LayerReport[] = diffIds.map((diffId, i) => ({
    index: i,
    diffId,
    instruction: layerHistory[i]?.created_by ?? '',
    source: layerLines[i] ?? null,
    size: stats[i]!.size,
    files: stats[i]!.files,
    finalSize: finalSize[i] ?? 0,
    biggestFiles: stats[i]!.biggestFiles(),
    biggestDirs: stats[i]!.biggestDirs(),
  }));
  const wasted = [...tree.wasted].sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  const report: ExplainReport = {
    schemaVersion: EXPLAIN_SCHEMA_VERSION,
    image: { id: image.record.id, names: stores.images.tagsOf(image.record.id).map(familiarTag), os: config.os, architecture: config.architecture },
    dockerfile: source?.file ?? null,
    totalSize,
    totalFiles,
    wastedSize: wasted.reduce((n, w) => n + w.size, 0),
    layers,
    wasted: wasted.slice(0, LIST_LIMIT),
    duplicates: dups.groups.slice(0, LIST_LIMIT),
    duplicatesTruncated: dups.truncated,
    caches: caches.results().slice(0, LIST_LIMIT),
  };
  return { report, tree: foldTree(tree.root, totalSize) };
}
