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
}

/** `[stage 2/4] RUN x` → `RUN x`: BuildKit's step names carry their stage. */
function instructionText(name: string): string {
  return name.replace(/^\[[^\]]*\]\s*/, '');
}

/**
 * `total` is the number of instructions the build runs (FROM lines included), the N of
 * `Step k/N`; `baseId` gives the id of a FROM's image when the store has it.
 */
export function classicBuildOutput(write: (m: JsonMessage) => void, total: number, baseId: (name: string) => string | undefined): ClassicBuildOutput {
  let count = 0;
  let chain = '';
  /** The step whose ` ---> <id>` is still owed: it is written when the next step starts, or by finish. */
  let owed: { id: string } | undefined;
  /** A RUN step that has not said `Running in` yet (a cached one never does). */
  const runs = new Map<number, { container: string; announced: boolean }>();
  const texts = new Map<number, string>();
  const stream = (s: string) => write({ stream: s });
  const payOwed = () => {
    if (owed) stream(` ---> ${owed.id}\n`);
    owed = undefined;
  };
  const announce = (step: number) => {
    const r = runs.get(step);
    if (r && !r.announced) {
      r.announced = true;
      stream(` ---> Running in ${r.container}\n`);
    }
  };
  const emit = (ev: BuildEvent) => {
    switch (ev.kind) {
      case 'step-start': {
        payOwed();
        const text = instructionText(ev.name);
        texts.set(ev.step, text);
        count++;
        stream(`Step ${count}/${Math.max(total, count)} : ${text}`);
        stream('\n');
        if (/^RUN\s/i.test(text)) runs.set(ev.step, { container: stepHash(chain, text, 'container'), announced: false });
        break;
      }
      case 'step-log':
        announce(ev.step);
        stream(ev.text);
        break;
      case 'step-cached':
        runs.delete(ev.step);
        stream(' ---> Using cache\n');
        break;
      case 'step-done': {
        const text = texts.get(ev.step) ?? '';
        announce(ev.step);
        const r = runs.get(ev.step);
        if (r) stream(`Removing intermediate container ${r.container}\n`);
        runs.delete(ev.step);
        chain = stepHash(chain, text, 'image');
        const from = /^FROM\s+(\S+)/i.exec(text);
        owed = { id: (from && baseId(from[1]!)) || chain };
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
  };
}

function stepHash(chain: string, text: string, what: string): string {
  return createSha256().update(`${chain}\0${text}\0${what}`).digest('hex').slice(0, 12);
}
