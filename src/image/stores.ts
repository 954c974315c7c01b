/**
 * The stores image code works on, as roles: each function takes the `Pick` of them it uses,
 * so a caller (a service, the builder, a test) passes only what that function touches. The
 * engine (engine.ts) has all of them and fits any of these shapes.
 */
import type { Snapshotter } from '../snapshot/index.ts';
import type { ContentStore } from '../store/content.ts';
import type { ImageRecords } from '../store/images.ts';
import type { ProcessLease } from '../store/leases.ts';

export interface ImageStores {
  /** Blobs by digest: manifests, configs, compressed layers. */
  readonly content: ContentStore;
  /** Image, tag, repo-digest and layer rows. */
  readonly images: ImageRecords;
  /** Unpacked layers and container snapshots. */
  readonly snapshots: Snapshotter;
  /** This process's lease: what it names is kept from a prune while it runs. */
  readonly lease: ProcessLease;
}
