import type { Engine } from '../engine.ts';
import type { ProgressSink } from '../progress/index.ts';
import type { MountEnv } from './mounts.ts';

/** What every step of one build shares. */
export interface StepContext {
  readonly engine: Engine;
  readonly progress: ProgressSink;
  readonly network: string;
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
  readonly mountEnv: Omit<MountEnv, 'secretDir'>;
  /**
   * Takes work a step started and nothing after it reads (its cleanup): the step goes on
   * without waiting, and the build waits for all of it, failed or not, before it returns.
   * A failure is the work's own to report (the cleanup it stands for was best effort).
   */
  readonly background: (work: Promise<unknown>) => void;
}
