/**
 * What the builder asks of an imported or exported cache (--cache-from, --cache-to): a layer
 * for a step its own cache lacks, the steps it made (to export), and a cache mount's contents
 * before its first use. The builder knows nothing of registries or formats; session.ts does.
 */
import type { LocalLayer } from '../../image/commit.ts';
import type { History, ImageConfig } from '../../oci/schema.ts';
import type { ImageStores } from '../../image/stores.ts';
import type { LlbNode } from './buildkit-keys.ts';

/** A step that makes a layer: its chained cache key, the layers under it, the history with its own entry last. */
export interface LayerStep {
  readonly key: string;
  readonly kind: 'run' | 'copy' | 'add' | 'workdir';
  readonly parents: readonly LocalLayer[];
  readonly history: readonly History[];
}

export interface RemoteCache {
  /** The step's layer from an imported cache, verified and unpacked; undefined on a miss. */
  lookup(step: LayerStep): Promise<LocalLayer | undefined>;
  /** A step's result (run, cached or imported), kept for the export. */
  record(step: LayerStep, layer: LocalLayer): void;
  /** Called before a `RUN --mount=type=cache` dir is mounted: restores it, and notes it for the export. */
  cacheMount(id: string, dir: string, sharing: 'shared' | 'private' | 'locked'): Promise<void>;
  /**
   * The final image's config with what an inline cache adds (`--cache-to type=inline`):
   * berth's records, and BuildKit's from `llb`, the record of the final stage's last step
   * keyed (kept for the other exports too).
   */
  finishConfig(config: ImageConfig, layers: readonly LocalLayer[], llb?: LlbNode): ImageConfig;
}

/** The stores an imported or exported cache reads and writes. */
export type RemoteCacheStores = Pick<ImageStores, 'content' | 'images' | 'snapshots' | 'lease'>;
