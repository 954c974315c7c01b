/**
 * Build progress: events from the builder, rendered BuildKit-style. `plain` prints
 * numbered step lines (`#3 [2/4] RUN ...`, output lines, `#3 DONE 0.4s` or `#3 CACHED`);
 * `rawjson` prints one JSON event per line; `quiet` prints nothing. Output is never cut:
 * a step's lines are all printed, as they come.
 */
import { BerthError } from '../errors/index.ts';

export type BuildEvent =
  | { kind: 'step-start'; step: number; name: string }
  | { kind: 'step-log'; step: number; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'step-cached'; step: number }
  | { kind: 'step-done'; step: number; seconds: number }
  | { kind: 'step-error'; step: number; message: string; lines?: { readonly start: number; readonly end: number } }
  | { kind: 'warning'; text: string }
  | { kind: 'message'; text: string };

export type ProgressMode = 'plain' | 'tty' | 'rawjson' | 'quiet';

const MODES = ['auto', 'plain', 'tty', 'rawjson', 'quiet'];

/**
 * The renderer a build uses: `--progress` when given (anything but auto), else
 * BUILDKIT_PROGRESS as BuildKit's clients read it, else tty on a terminal and plain elsewhere.
 */
export function progressMode(flag: string, env: string | undefined, terminal: boolean): ProgressMode {
  if (!MODES.includes(flag)) throw new BerthError('INVALID_ARGUMENT', `invalid progress mode "${flag}"`, { hint: 'use auto, plain, tty, rawjson or quiet' });
  let mode = flag;
  if (mode === 'auto' && env) {
    if (!MODES.includes(env.toLowerCase()))
      throw new BerthError('INVALID_ARGUMENT', `invalid BUILDKIT_PROGRESS "${env}"`, { hint: 'use auto, plain, tty, rawjson or quiet' });
    mode = env.toLowerCase();
  }
  return mode === 'auto' ? (terminal ? 'tty' : 'plain') : (mode as ProgressMode);
}

export interface ProgressSink {
  emit(ev: BuildEvent): void;
}

export function progressRenderer(mode: string, write: (s: string) => void): ProgressSink {
  if (mode === 'quiet') return { emit: () => undefined };
  if (mode === 'rawjson') return { emit: (ev) => write(`${JSON.stringify({ ...ev, time: new Date().toISOString() })}\n`) };
  const started = new Map<number, number>();
  const partial = new Map<number, string>();
  return {
    emit(ev) {
      switch (ev.kind) {
        case 'step-start':
          started.set(ev.step, Date.now());
          write(`#${ev.step} ${ev.name}\n`);
          break;
        case 'step-log': {
          const text = (partial.get(ev.step) ?? '') + ev.text;
          const lines = text.split('\n');
          partial.set(ev.step, lines.pop()!);
          const t = ((Date.now() - (started.get(ev.step) ?? Date.now())) / 1000).toFixed(3);
          for (const l of lines) write(`#${ev.step} ${t} ${l}\n`);
          break;
        }
        case 'step-cached':
          write(`#${ev.step} CACHED\n\n`);
          break;
        case 'step-done': {
          const rest = partial.get(ev.step);
          if (rest) write(`#${ev.step} ${rest}\n`);
          partial.delete(ev.step);
          write(`#${ev.step} DONE ${ev.seconds.toFixed(1)}s\n\n`);
          break;
        }
        case 'step-error':
          write(`#${ev.step} ERROR: ${ev.message}\n`);
          break;
        case 'warning':
          write(`WARN: ${ev.text}\n`);
          break;
        case 'message':
          write(`${ev.text}\n`);
          break;
      }
    },
  };
}
