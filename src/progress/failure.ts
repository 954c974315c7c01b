/**
 * What a failed build shows after its progress, as BuildKit shows it: for each failing step a
 * block with its name and the last lines of its output (each with its time into the step),
 * then the Dockerfile lines around the step's instruction. The recorder passes every event
 * on to the renderer it wraps and keeps only what that block needs.
 */
import type { BuildEvent, ProgressSink } from './index.ts';
import { sourceSnippet } from './source.ts';

/** The lines of a failing step's output the block keeps, as BuildKit's printer keeps them. */
export const FAILED_STEP_TAIL = 10;

interface StepRecord {
  name: string;
  start: number;
  partial: string;
  tail: string[];
  error?: string;
  lines?: { readonly start: number; readonly end: number };
}

/** A log line's time into its step, with BuildKit's precision (3 decimals under 10 s, 2 under 100, else 1). */
export function logTime(seconds: number): string {
  return seconds.toFixed(seconds < 10 ? 3 : seconds < 100 ? 2 : 1);
}

export function failureRecorder(
  sink: ProgressSink,
  now: () => number = Date.now,
): ProgressSink & { report(source?: { name: string; content: string }): string } {
  const steps = new Map<number, StepRecord>();
  const push = (s: StepRecord, line: string) => {
    s.tail.push(`${logTime((now() - s.start) / 1000)} ${line}`);
    if (s.tail.length > FAILED_STEP_TAIL) s.tail.shift();
  };
  return {
    emit(ev: BuildEvent) {
      if (ev.kind === 'step-start') steps.set(ev.step, { name: ev.name, start: now(), partial: '', tail: [] });
      const s = 'step' in ev ? steps.get(ev.step) : undefined;
      if (s && ev.kind === 'step-log') {
        const parts = (s.partial + ev.text).split('\n');
        s.partial = parts.pop()!;
        for (const l of parts) push(s, l);
      } else if (s && ev.kind === 'step-error') {
        if (s.partial) push(s, s.partial);
        s.partial = '';
        s.error = ev.message;
        s.lines = ev.lines;
      } else if (s && (ev.kind === 'step-done' || ev.kind === 'step-cached')) steps.delete(ev.step);
      sink.emit(ev);
    },
    report(source) {
      let out = '';
      for (const s of steps.values()) {
        if (s.error === undefined) continue;
        out += `------\n > ${s.name}:\n${s.tail.map((l) => `${l}\n`).join('')}------\n`;
        if (source && s.lines) out += sourceSnippet(source.name, source.content, s.lines.start, s.lines.end);
      }
      return out;
    },
  };
}
