/**
 * Pull and push progress on a terminal, as docker draws it: one line per blob, redrawn in
 * place at most every 100 ms, with a bar, bytes so far of the total, and the rate; a finished
 * blob keeps its final word (Pull complete, Pushed, Already exists...). Off a terminal the CLI
 * prints only the final lines.
 */
import type { ProgressEvent } from './transfer-events.ts';
import { humanSize } from './units.ts';

interface BlobView {
  readonly id: string;
  size: number;
  bytes: number;
  readonly start: number;
  status?: string;
}

const WIDTH = 40;

/** A line for a blob in flight: `id: Downloading [====>     ]  12.35MB/48.1MB  30.12MB/s`. */
export function progressLine(b: { id: string; size: number; bytes: number }, verb: string, elapsedMs: number): string {
  const frac = b.size ? Math.min(1, b.bytes / b.size) : 0;
  const filled = Math.floor(frac * WIDTH);
  const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled ? '>' : ''}${' '.repeat(WIDTH - filled)}]`;
  const rate = elapsedMs > 0 ? `  ${humanSize(Math.round((b.bytes * 1000) / elapsedMs), 4)}/s` : '';
  return `${b.id}: ${verb} ${bar}  ${humanSize(b.bytes, 4)}/${humanSize(b.size, 4)}${rate}`;
}

export function transferRenderer(write: (s: string) => void, verbs: { active: string; done: string; exists: string }, now = () => Date.now()) {
  const blobs = new Map<string, BlobView>();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const render = () => {
    timer = undefined;
    const lines = [...blobs.values()].map((b) => (b.status ? `${b.id}: ${b.status}` : progressLine(b, verbs.active, now() - b.start)));
    write((drawn ? `\x1b[${drawn}F\x1b[J` : '') + lines.map((l) => `${l}\n`).join(''));
    drawn = lines.length;
  };
  const schedule = () => (timer ??= setTimeout(render, 100));
  const view = (digest: string) => {
    let b = blobs.get(digest);
    if (!b) blobs.set(digest, (b = { id: digest.slice(7, 19), size: 0, bytes: 0, start: now() }));
    return b;
  };
  return {
    onProgress(ev: ProgressEvent) {
      if (ev.kind === 'blob-start') view(ev.digest).size = ev.size;
      else if (ev.kind === 'blob-progress') Object.assign(view(ev.digest), { bytes: ev.bytes, size: ev.size });
      else if (ev.kind === 'blob-done')
        view(ev.digest).status = ev.skipped === 'exists' ? verbs.exists : ev.skipped === 'mounted' ? 'Mounted from another repository' : verbs.done;
      else return;
      schedule();
    },
    /** Draws the final state once more (every blob with its last word). */
    finish() {
      if (timer) clearTimeout(timer);
      render();
    },
  };
}
