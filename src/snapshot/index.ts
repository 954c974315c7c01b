export type { ActiveSnapshot, CommittedLayer, Mount, Snapshotter } from './types.ts';
export { OverlaySnapshotter } from './overlay.ts';
