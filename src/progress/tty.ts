/**
 * The terminal renderer: BuildKit's live view. A header with the elapsed time and
 * finished/total steps, one line per step (CACHED, its time, or a running timer), and under
 * a running step the last lines of its output. The block is redrawn in place at most every
 * 100 ms; at the end it stays on screen as the final summary. Errors print the step's whole
 * output, so nothing a failing step said is lost.
 */
import type { BuildEvent, ProgressSink } from './index.ts';

interface StepView {
  name: string;
  start: number;
  end?: number;
  cached?: boolean;
  error?: string;
  lines: string[];
  partial: string;
}

const TAIL = 6;

export function ttyRenderer(write: (s: string) => void, columns = () => process.stderr.columns || 100): ProgressSink & { finish(): void } {
  const steps = new Map<number, StepView>();
  const messages: string[] = [];
  const t0 = Date.now();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const clip = (s: string) => (s.length > columns() - 1 ? `${s.slice(0, columns() - 2)}…` : s);
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

  const render = (final = false) => {
    const out: string[] = [];
    const done = [...steps.values()].filter((s) => s.end !== undefined).length;
    out.push(`[+] Building ${secs(Date.now() - t0)} (${done}/${steps.size})${final ? ' FINISHED' : ''}`);
    for (const s of steps.values()) {
      const state = s.error ? 'ERROR' : s.cached ? 'CACHED' : s.end !== undefined ? secs(s.end - s.start) : secs(Date.now() - s.start);
      out.push(clip(` => ${s.cached ? 'CACHED ' : ''}${s.name} ${s.cached ? '' : state}`.trimEnd()));
      if (s.end === undefined || s.error) for (const l of s.lines.slice(-TAIL)) out.push(clip(` => => ${l}`));
    }
    const text = `${drawn ? `\x1b[${drawn}F\x1b[J` : ''}${out.join('\n')}\n`;
    drawn = out.length;
    write(text);
  };
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      render();
    }, 100);
  };

  return {
    emit(ev: BuildEvent) {
      switch (ev.kind) {
        case 'step-start':
          steps.set(ev.step, { name: ev.name, start: Date.now(), lines: [], partial: '' });
          break;
        case 'step-log': {
          const s = steps.get(ev.step);
          if (!s) break;
          const parts = (s.partial + ev.text).split('\n');
          s.partial = parts.pop()!;
          s.lines.push(...parts);
          break;
        }
        case 'step-cached':
        case 'step-done': {
          const s = steps.get(ev.step);
          if (s) {
            s.end = Date.now();
            s.cached = ev.kind === 'step-cached';
          }
          break;
        }
        case 'step-error': {
          const s = steps.get(ev.step);
          if (s) {
            s.end = Date.now();
            s.error = ev.message;
          }
          break;
        }
        case 'warning':
        case 'message':
          messages.push(ev.kind === 'warning' ? `WARN: ${ev.text}` : ev.text);
          break;
      }
      schedule();
    },
    finish() {
      if (timer) clearTimeout(timer);
      render(true);
      for (const m of messages) write(`${m}\n`);
    },
  };
}
