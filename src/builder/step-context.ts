import type { ImagePuller } from '../image/ensure.ts';
import type { ImageStores } from '../image/stores.ts';
import type { ProgressSink } from '../progress/index.ts';
import type { BuildCacheRecords } from '../store/build-cache.ts';
import type { FileHashRecords } from '../store/file-hashes.ts';
import type { LocalLayer } from '../image/commit.ts';
import type { BuildDevices } from './devices.ts';
import type { MountEnv } from './mounts.ts';
import type { RemoteCache } from './remote-cache/types.ts';

/**
 * What the builder uses: the image stores (and the puller a FROM of a missing image needs),
 * the build cache, the context's hash cache, and the state and run roots its temp and step
 * dirs live under.
 */
export interface BuilderDeps extends ImageStores {
  readonly puller: ImagePuller;
  readonly buildCache: BuildCacheRecords;
  readonly fileHashes: FileHashRecords;
  readonly root: string;
  readonly runRoot: string;
}

/** `build --add-host`, `--shm-size`, `--ulimit`: the host side of every RUN step's container. */
export interface StepHost {
  readonly extraHosts?: ReadonlyArray<{ readonly name: string; readonly ip: string }>;
  readonly shmSize?: number;
  /** NAME=SOFT[:HARD], as runtime/ulimits.ts reads them. */
  readonly ulimits?: readonly string[];
}

/** What every step of one build shares. */
export interface StepContext {
  readonly engine: BuilderDeps;
  readonly progress: ProgressSink;
  /** Steps this command has run or is running, by cache key (a multi-platform build's platforms share them). */
  readonly sharedSteps?: Map<string, Promise<LocalLayer>>;
  readonly network: string;
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
  readonly mountEnv: Omit<MountEnv, 'secretDir'>;
  /** The devices the command line granted or gave (devices.ts). */
  readonly devices?: BuildDevices;
  /** Imported and exported caches (--cache-from, --cache-to), when the build has any. */
  readonly remoteCache?: RemoteCache;
  readonly host?: StepHost;
  /**
   * Takes work a step started and nothing after it reads (its cleanup): the step goes on
   * without waiting, and the build waits for all of it, failed or not, before it returns.
   * A failure is the work's own to report (the cleanup it stands for was best effort).
   */
  readonly background: (work: Promise<unknown>) => void;
}
