/**
 * The terminal renderer: BuildKit's live view. A header with the elapsed time and
 * finished/total steps, one line per step (`CACHED` or `ERROR` before its name, its time
 * right-aligned), and under a running step the last lines of its output. While the build runs
 * the block is redrawn in place at most every 100 ms and clipped to the terminal's height
 * (finished steps scroll off first, as BuildKit's do); at the end every step stays on screen as
 * the summary. On a terminal with colour, finished steps are blue, failed ones red, output faint.
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
const BLUE = '\x1b[34m';
const RED = '\x1b[31m';
const FAINT = '\x1b[2m';
const RESET = '\x1b[0m';

export interface TtySize {
  columns(): number;
  rows(): number;
}

const stderrSize: TtySize = { columns: () => process.stderr.columns || 80, rows: () => process.stderr.rows || 10 };

/** Whether stderr shows colour: a terminal that has it, and no NO_COLOR. */
export function stderrHasColor(): boolean {
  return !process.env.NO_COLOR && !!process.stderr.isTTY && (process.stderr.hasColors?.() ?? false);
}

/** `left` padded so that `right` ends at the last column but one, as BuildKit aligns its timers. */
function align(left: string, right: string, width: number): string {
  const room = Math.max(0, width - right.length - 2);
  const l = left.length > room ? left.slice(0, room) : left.padEnd(room);
  return `${l} ${right}`;
}

/** BuildKit's wrapHeight: the last `limit` steps, with running ones that would scroll off kept in place of finished ones. */
function wrapHeight<T extends { done: boolean }>(jobs: T[], limit: number): T[] {
  if (limit <= 0) return [];
  if (jobs.length <= limit) return jobs;
  let shown = jobs.slice(jobs.length - limit);
  const hidden = jobs.slice(0, jobs.length - limit).filter((j) => !j.done);
  if (hidden.length) {
    let l = hidden.length;
    const kept: T[] = [];
    for (const j of shown) {
      if (!j.done || l <= 0) kept.push(j);
      l--;
    }
    shown = [...hidden.slice(hidden.length - (shown.length - kept.length)), ...kept];
  }
  return shown;
}

export function ttyRenderer(write: (s: string) => void, opts: { size?: TtySize; color?: boolean; now?: () => number } = {}): ProgressSink & { finish(): void } {
  const size = opts.size ?? stderrSize;
  const color = opts.color ?? stderrHasColor();
  const now = opts.now ?? Date.now;
  const steps = new Map<number, StepView>();
  const messages: string[] = [];
  const t0 = now();
  let drawn = 0;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const paint = (s: string, c: string) => (color ? `${c}${s}${RESET}` : s);
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

  const render = (final = false) => {
    const width = Math.max(20, size.columns());
    const height = Math.max(3, size.rows());
    const all = [...steps.values()];
    const done = all.filter((s) => s.end !== undefined).length;
    const header = `[+] Building ${secs(now() - t0)} (${done}/${steps.size})${final && done === steps.size ? ' FINISHED' : ''}`;
    const jobs = all.map((s) => {
      const label = `${s.error ? 'ERROR ' : s.cached ? 'CACHED ' : ''}${s.name}`;
      const time = s.cached ? 0 : (s.end ?? now()) - s.start;
      let line = align(` => ${label}`, secs(time < 50 ? 0 : time), width);
      if (s.error) line = paint(line, RED);
      else if (s.end !== undefined) line = paint(line, BLUE);
      return { line, done: s.end !== undefined, tail: s.end === undefined ? s.lines.slice(-TAIL) : [] };
    });
    // The summary keeps every step; the live view fits the terminal, output lines only where there is room.
    const shown = final ? jobs : wrapHeight(jobs, height - 2);
    let room = height - 2 - shown.length;
    const out = [align(header, '', width + 1).trimEnd()];
    for (const j of shown) {
      out.push(j.line);
      if (final) continue;
      for (const l of j.tail) {
        if (room <= 0) break;
        const text = ` => => # ${l}`;
        out.push(paint(text.length > width - 1 ? text.slice(0, width - 1) : text, FAINT));
        room--;
      }
    }
    const text = `${drawn ? `\x1b[${drawn}F\x1b[J` : ''}${out.join('\n')}\n`;
    drawn = out.length;
    write(text);
  };
  // Redrawn after events and, while a step runs, on a tick, so its time counts up as BuildKit's does.
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      render();
      if (!finished && [...steps.values()].some((s) => s.end === undefined)) schedule();
    }, 100);
    timer.unref();
  };

  return {
    emit(ev: BuildEvent) {
      switch (ev.kind) {
        case 'step-start':
          steps.set(ev.step, { name: ev.name, start: now(), lines: [], partial: '' });
          break;
        case 'step-log': {
          const s = steps.get(ev.step);
          if (!s) break;
          const parts = (s.partial + ev.text).split('\n');
          s.partial = parts.pop()!;
          s.lines.push(...parts);
          if (s.lines.length > TAIL) s.lines.splice(0, s.lines.length - TAIL);
          break;
        }
        case 'step-cached':
        case 'step-done': {
          const s = steps.get(ev.step);
          if (s) {
            s.end = now();
            s.cached = ev.kind === 'step-cached';
          }
          break;
        }
        case 'step-error': {
          const s = steps.get(ev.step);
          if (s) {
            s.end = now();
            s.error = ev.message;
          }
          break;
        }
        case 'warning':
        case 'message':
          messages.push(ev.kind === 'warning' ? `WARN: ${ev.text}` : ev.text);
          break;
      }
      if (!finished) schedule();
    },
    finish() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (finished) return;
      finished = true;
      render(true);
      for (const m of messages) write(`${m}\n`);
    },
  };
}
