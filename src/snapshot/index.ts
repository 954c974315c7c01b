export type {
  ActiveSnapshot,
  CleanupOptions,
  CommitOptions,
  CommittedLayer,
  Mount,
  PrepareOptions,
  SnapshotInfo,
  SnapshotListing,
  Snapshotter,
  UnpackOptions,
} from './types.ts';
export { OverlaySnapshotter } from './overlay.ts';
export { NativeSnapshotter } from './native.ts';
export { openSnapshotter, overlayWorks } from './select.ts';
