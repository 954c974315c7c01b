import type { Engine } from '../engine.ts';
import type { ProgressSink } from '../progress/index.ts';
import type { LaterWork } from './later.ts';
import type { MountEnv } from './mounts.ts';

/** What every step of one build shares. */
export interface StepContext {
  readonly engine: Engine;
  readonly progress: ProgressSink;
  readonly network: string;
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
  readonly mountEnv: Omit<MountEnv, 'secretDir'>;
  /** Cleanup that need not hold up the next step (see later.ts). */
  readonly later: LaterWork;
}
