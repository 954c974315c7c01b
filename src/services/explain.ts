/**
 * `image explain` as the CLI calls it: the named image's report, drawn as the caller asks.
 * The Dockerfile, when given, is read here (bounded), so explain/ sees only its text.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { explainImage, renderHtml, renderText, type Explained } from '../explain/index.ts';
import type { ImageStores } from '../image/stores.ts';

export type { ExplainReport } from '../explain/index.ts';

/** A Dockerfile larger than this is no Dockerfile. */
const MAX_DOCKERFILE = 4 << 20;

export interface ExplainRequest {
  /** A path to the Dockerfile the image was built from. */
  readonly dockerfile?: string;
  readonly signal?: AbortSignal;
}

export async function explain(
  stores: Pick<ImageStores, 'content' | 'images' | 'snapshots' | 'lease'>,
  name: string,
  req: ExplainRequest = {},
): Promise<Explained> {
  let dockerfile: { text: string; file: string } | undefined;
  if (req.dockerfile !== undefined) {
    const st = await stat(req.dockerfile).catch((e: NodeJS.ErrnoException) => {
      throw new BerthError('NOT_FOUND', `cannot read the Dockerfile ${req.dockerfile}: ${e.code ?? e.message}`);
    });
    if (!st.isFile()) throw new BerthError('INVALID_ARGUMENT', `${req.dockerfile} is not a file`);
    if (st.size > MAX_DOCKERFILE) throw new BerthError('INVALID_ARGUMENT', `${req.dockerfile} is ${st.size} bytes, too large for a Dockerfile`);
    dockerfile = { text: await readFile(req.dockerfile, 'utf8'), file: basename(req.dockerfile) };
  }
  return explainImage(stores, name, { dockerfile, signal: req.signal });
}

export { renderHtml, renderText };
