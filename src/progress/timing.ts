/**
 * Opt-in timing of a command's boundaries: with BERTH_TIMING=1 each `mark` prints
 * `berth-timing <ms> <boundary>` to stderr, the time since the process started (Node's own
 * start included). The boundaries are a closed list, so that marks stay at the edges of a
 * command (start and end, engine open, build steps, a container's life, work handed to a
 * worker thread) and never narrate the work inside them. bench/ reads these lines.
 */
import { settings } from '../config/index.ts';
import type { BuildEvent, ProgressSink } from './index.ts';

export type Boundary =
  | 'cli loaded'
  | 'command done'
  | 'engine open'
  | 'container created'
  | 'container running'
  | 'container exited'
  | 'container removed'
  | 'step start'
  | 'step done'
  | 'step cached'
  | 'image committed'
  | 'layer extracted on a worker thread'
  | 'small files copied on two threads';

let on: boolean | undefined;

/** Whether BERTH_TIMING is set. A bad value throws once, at the first mark (the CLI reports it). */
function timingOn(): boolean {
  if (on === undefined) {
    on = false;
    on = settings().timing;
  }
  return on;
}

/** Prints the boundary (and a detail, such as a step number) when BERTH_TIMING is set. */
export function mark(boundary: Boundary, detail?: string): void {
  if (timingOn()) process.stderr.write(`berth-timing ${performance.now().toFixed(1)}ms ${boundary}${detail === undefined ? '' : ` (${detail})`}\n`);
}

/** A build's progress sink that also marks where each step starts and ends. */
export function markSteps(sink: ProgressSink): ProgressSink {
  if (!timingOn()) return sink;
  return {
    emit(ev: BuildEvent) {
      if (ev.kind === 'step-start') mark('step start', String(ev.step));
      else if (ev.kind === 'step-done') mark('step done', String(ev.step));
      else if (ev.kind === 'step-cached') mark('step cached', String(ev.step));
      sink.emit(ev);
    },
  };
}
