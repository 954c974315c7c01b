/**
 * The classic builder's output (`POST /build`), made from berth's build events: `Step k/N :
 * INSTRUCTION`, ` ---> Running in <id>` and a RUN's output, ` ---> Using cache`, ` ---> <id>`
 * after each step, then the image's id and names. berth keeps no intermediate images, so a
 * step's id is a stand-in derived from the steps before it (stable from build to build); the
 * last step's is the image's own, as it is with docker.
 */
import { createSha256 } from '../sys/crypto.ts';
import type { BuildEvent, ProgressSink } from '../progress/index.ts';
import type { JsonMessage } from './progress-json.ts';

export interface ClassicBuildOutput extends ProgressSink {
  /** Ends the output of a successful build: the last step's id, the image id, its names. */
  finish(imageId: string, tags: readonly string[]): void;
  /** Before a failure is reported: a RUN that failed without output still says `Running in`. */
  failed(): void;
}

/** `[stage 2/4] RUN x` → `RUN x`: BuildKit's step names carry their stage. */
function instructionText(name: string): string {
  return name.replace(/^\[[^\]]*\]\s*/, '');
}

/** How the classic builder runs an instruction: FROM and COPY/ADD make no container; every other one does. */
function stepKind(text: string): 'from' | 'copy' | 'run' | 'config' {
  const word = /^\S+/.exec(text)?.[0]?.toUpperCase() ?? '';
  if (word === 'FROM') return 'from';
  if (word === 'COPY' || word === 'ADD') return 'copy';
  return word === 'RUN' ? 'run' : 'config';
}

/**
 * `total` is the number of instructions the build runs (FROM lines included), the N of
 * `Step k/N`; `baseId` gives the id of a FROM's image when the store has it. berth caches
 * only the steps that make layers; a config step (CMD, ENV...) counts as cached, as the
 * classic builder's does, when every step before it in its stage was (none with `noCache`).
 */
export function classicBuildOutput(
  write: (m: JsonMessage) => void,
  total: number,
  baseId: (name: string) => string | undefined,
  opts: { noCache?: boolean } = {},
): ClassicBuildOutput {
  let count = 0;
  let chain = '';
  let allCached = !opts.noCache;
  /** The step whose ` ---> <id>` is still owed: it is written when the next step starts, or by finish. */
  let owed: { id: string } | undefined;
  /** Steps that run in a container, until they say `Running in` (a cached one never does). */
  const containers = new Map<number, { id: string; announced: boolean }>();
  const steps = new Map<number, { text: string; ended: boolean }>();
  const stream = (s: string) => write({ stream: s });
  const payOwed = () => {
    if (owed) stream(` ---> ${owed.id}\n`);
    owed = undefined;
  };
  const announce = (step: number) => {
    const c = containers.get(step);
    if (c && !c.announced) {
      c.announced = true;
      stream(` ---> Running in ${c.id}\n`);
    }
  };
  /** A step is over: its id (a stand-in, or its base image's) is owed until the next one starts. */
  const stepEnded = (step: number) => {
    const st = steps.get(step);
    if (!st) return;
    st.ended = true;
    containers.delete(step);
    chain = stepHash(chain, st.text, 'image');
    const from = /^FROM\s+(\S+)/i.exec(st.text);
    owed = { id: (from && baseId(from[1]!)) || chain };
  };
  const emit = (ev: BuildEvent) => {
    switch (ev.kind) {
      case 'step-start': {
        payOwed();
        const text = instructionText(ev.name);
        steps.set(ev.step, { text, ended: false });
        count++;
        stream(`Step ${count}/${Math.max(total, count)} : ${text}`);
        stream('\n');
        const kind = stepKind(text);
        if (kind === 'from') allCached = !opts.noCache;
        if (kind === 'run' || kind === 'config') containers.set(ev.step, { id: stepHash(chain, text, 'container'), announced: false });
        break;
      }
      case 'step-log':
        announce(ev.step);
        stream(ev.text);
        break;
      case 'step-cached':
        stream(' ---> Using cache\n');
        // A cache hit is the step's end: no step-done follows it.
        stepEnded(ev.step);
        break;
      case 'step-done': {
        const st = steps.get(ev.step);
        if (!st || st.ended) break;
        const kind = stepKind(st.text);
        if (kind === 'config' && allCached) {
          containers.delete(ev.step);
          stream(' ---> Using cache\n');
        } else if (kind !== 'from') {
          allCached = false;
          announce(ev.step);
          const c = containers.get(ev.step);
          if (c) stream(`Removing intermediate container ${c.id}\n`);
        }
        stepEnded(ev.step);
        break;
      }
      case 'step-error':
        announce(ev.step);
        break;
      case 'warning':
        stream(`[WARNING]: ${ev.text}\n`);
        break;
      case 'message':
        stream(`${ev.text}\n`);
        break;
    }
  };
  return {
    emit,
    finish(imageId, tags) {
      const short = imageId.replace(/^sha256:/, '').slice(0, 12);
      if (owed) owed = { id: short };
      payOwed();
      write({ aux: { ID: imageId } });
      stream(`Successfully built ${short}\n`);
      for (const t of tags) stream(`Successfully tagged ${t}\n`);
    },
    failed() {
      for (const step of containers.keys()) if (stepKind(steps.get(step)?.text ?? '') === 'run') announce(step);
    },
  };
}

function stepHash(chain: string, text: string, what: string): string {
  return createSha256().update(`${chain}\0${text}\0${what}`).digest('hex').slice(0, 12);
}
