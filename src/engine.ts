/**
 * The composition root: opens the state root once and wires the services every command
 * shares. Commands take what they need from the returned `Engine`; nothing else
 * constructs stores or drivers.
 */
import { join } from 'node:path';
import { BerthError } from './errors/index.ts';
import type { ImagePuller } from './image/ensure.ts';
import { openSnapshotter, type Snapshotter } from './snapshot/index.ts';
import { LocalContentStore, type ContentStore } from './store/content.ts';
import type { BuildCacheRecords } from './store/build-cache.ts';
import type { EventRecords } from './store/events.ts';
import type { FileHashRecords } from './store/file-hashes.ts';
import type { ImageRecords } from './store/images.ts';
import { ProcessLease, type LeaseRecords } from './store/leases.ts';
import { Metadata, type MetadataDatabase } from './store/metadata.ts';
import type { NetworkRecords } from './store/networks.ts';
import { privateDir, tightenStateRoot } from './store/private-root.ts';
import { defaultRunRoot, defaultStateRoot, runBase } from './store/root.ts';
import { VolumeStore } from './volume/index.ts';
import type { ContainerRecords } from './container/records.ts';
import type { ContainerConfigRecord, ContainerState } from './container/types.ts';
import { mark } from './progress/timing.ts';

export interface Engine {
  readonly root: string;
  readonly runRoot: string;
  readonly content: ContentStore;
  /** The metadata database as a whole: its integrity check and its write lock (gc). */
  readonly metadata: MetadataDatabase;
  readonly images: ImageRecords;
  readonly containers: ContainerRecords;
  readonly networks: NetworkRecords;
  readonly buildCache: BuildCacheRecords;
  /** The build context's file and selection hashes. */
  readonly fileHashes: FileHashRecords;
  /** Every process's lease rows: gc reads them, and keeps what a live one covers. */
  readonly leases: LeaseRecords;
  /** The event log every process of this root records into (`docker events`). */
  readonly events: EventRecords;
  readonly snapshots: Snapshotter;
  /** Volumes: their rows and their data dirs. */
  readonly volumes: VolumeStore;
  /** This process's lease: what it makes or names is kept from prune while it runs (store/leases.ts). */
  readonly lease: ProcessLease;
  /** Fetches a missing image (a run's or a build's FROM): the registry client the opener hands in. */
  readonly puller: ImagePuller;
  close(): void;
}

/** For an engine opened without a registry client: pulling says so instead of loading one. */
const noPuller: ImagePuller = {
  pull: async (_stores, name) => {
    throw new BerthError('UNSUPPORTED', `cannot pull ${name}: this engine was opened without a registry client`, {
      hint: 'pass openEngine a puller (registry/index.ts pullImage)',
    });
  },
};

export async function openEngine(opts: { root?: string; puller?: ImagePuller } = {}): Promise<Engine> {
  const root = opts.root ?? defaultStateRoot();
  const runRoot = defaultRunRoot(root);
  // Every command opens the engine: its dirs are made in line, each a few microseconds,
  // rather than through the thread pool, a trip that costs more than the call. Both
  // roots are 0700 (store/private-root.ts); one stat each says so on every later open.
  if (privateDir(root) === 'tightened') tightenStateRoot(root);
  const base = runBase();
  // /run/berth also holds the machine's network state (cni-ipam, dns, ...) beside the run roots.
  if (runRoot.startsWith(`${base}/`)) privateDir(base);
  privateDir(runRoot);
  const content = await new LocalContentStore(join(root, 'content')).init();
  const metadata = new Metadata<ContainerConfigRecord, ContainerState>(join(root, 'metadata.db'));
  const snapshots = await openSnapshotter(join(root, 'snapshots'));
  const lease = new ProcessLease(metadata.leases);
  content.lease = lease;
  snapshots.lease = lease;
  mark('engine open');
  return {
    root,
    runRoot,
    content,
    metadata,
    images: metadata.images,
    containers: metadata.containers,
    networks: metadata.networks,
    buildCache: metadata.buildCache,
    fileHashes: metadata.fileHashes,
    leases: metadata.leases,
    events: metadata.events,
    snapshots,
    volumes: new VolumeStore(root, metadata.volumes, metadata.containers),
    lease,
    puller: opts.puller ?? noPuller,
    close: () => {
      lease.release();
      metadata.close();
    },
  };
}
