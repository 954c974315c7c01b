/**
 * docker's JSON progress messages, made from berth's transfer events (pull, push): one
 * `{"status","id","progressDetail","progress"}` object per change of a layer, keyed by the
 * layer's short digest, as dockerd's pull and push streams are.
 */
import type { ProgressEvent } from '../image/transfer.ts';
import { humanSize } from '../progress/units.ts';

export type JsonMessage = Record<string, unknown>;

const BAR_WIDTH = 50;

/** dockerd's progress text: `[=====>      ]  3.678kB/300.3kB` (jsonmessage's JSONProgress). */
export function progressBar(current: number, total: number): string {
  const numbers = `${humanSize(current, 4).padStart(8)}/${humanSize(total, 4)}`;
  if (total <= 0 || current > total) return numbers;
  const done = Math.floor((current / total) * 100) >> 1;
  return `[${'='.repeat(done)}>${' '.repeat(BAR_WIDTH - done)}] ${numbers}`;
}

const shortId = (digest: string) => digest.slice(7, 19);

/** Layers only: a config blob moves too, but docker's streams never show it. */
function isLayer(mediaType: string): boolean {
  return /layer/i.test(mediaType);
}

/** The words one direction of a transfer uses for each step of a layer. */
interface LayerWords {
  readonly start: string;
  readonly progress: string;
  readonly exists: string;
  /** What a finished layer says: one message or more, by how it finished. */
  readonly done: (skipped: string | undefined) => readonly string[];
}

/** One `{status, id}` stream per layer from transfer events, in `words`. */
function layerMessages(words: LayerWords, write: (m: JsonMessage) => void): (ev: ProgressEvent) => void {
  const layers = new Set<string>();
  return (ev) => {
    if (ev.kind === 'blob-start') {
      if (!isLayer(ev.label)) return;
      layers.add(ev.digest);
      write({ status: words.start, progressDetail: {}, id: shortId(ev.digest) });
    } else if (ev.kind === 'blob-progress') {
      if (!layers.has(ev.digest)) return;
      write({
        status: words.progress,
        progressDetail: { current: ev.bytes, total: ev.size },
        progress: progressBar(ev.bytes, ev.size),
        id: shortId(ev.digest),
      });
    } else if (ev.kind === 'blob-done') {
      if (ev.skipped === 'exists') {
        if (ev.label === undefined || isLayer(ev.label)) write({ status: words.exists, progressDetail: {}, id: shortId(ev.digest) });
        return;
      }
      if (!layers.has(ev.digest)) return;
      for (const status of words.done(ev.skipped)) write({ status, progressDetail: {}, id: shortId(ev.digest) });
    } else if (ev.kind === 'message') {
      write({ status: ev.text });
    }
  };
}

/**
 * The per-layer messages of a pull: `Pulling fs layer`, `Downloading` with progress,
 * `Download complete`, then `Pull complete` (berth unpacks while it downloads), or
 * `Already exists` for a layer the store has.
 */
export function pullMessages(write: (m: JsonMessage) => void): (ev: ProgressEvent) => void {
  return layerMessages(
    { start: 'Pulling fs layer', progress: 'Downloading', exists: 'Already exists', done: () => ['Download complete', 'Pull complete'] },
    write,
  );
}

/** The per-layer messages of a push: `Preparing`, `Pushing` with progress, `Pushed`, or `Layer already exists`. */
export function pushMessages(write: (m: JsonMessage) => void): (ev: ProgressEvent) => void {
  return layerMessages(
    {
      start: 'Preparing',
      progress: 'Pushing',
      exists: 'Layer already exists',
      done: (skipped) => [skipped === 'mounted' ? 'Mounted from another repository' : 'Pushed'],
    },
    write,
  );
}
