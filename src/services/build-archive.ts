/** A build context that arrives as an archive (`build -` with a tar on stdin, or the Engine API's build body). */
import { mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { applyLayer } from '../layer/index.ts';
import type { ProcessLease } from '../store/leases.ts';
import { readFileInRoot } from '../sys/in-root.ts';
import type { BuildInput } from './build.ts';

/**
 * Unpacks `archive` (a tar, gzipped or not) into a temp dir under the state root, kept from
 * prune by this process's lease, and reads its Dockerfile (`file`, default `Dockerfile`).
 * The input's cleanup removes the dir.
 */
export async function contextFromArchive(deps: { readonly root: string; readonly lease: ProcessLease }, archive: Buffer, file?: string): Promise<BuildInput> {
  return contextFromStream(deps, Readable.from([archive]), file);
}

/**
 * The same from a stream (an upload), which is unpacked as it arrives, never held whole:
 * its size is bounded by the caller (the stream fails) and by the disk. `file` is a path
 * inside the context; one that leaves it is refused.
 */
export async function contextFromStream(
  deps: { readonly root: string; readonly lease: ProcessLease },
  archive: Readable,
  file?: string,
  opts: { signal?: AbortSignal } = {},
): Promise<BuildInput> {
  const rel = dockerfileInContext(file);
  deps.lease.hold();
  const dir = await mkdtemp(join(deps.root, 'tmp-context-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    // Extracted as a layer is: modes, links and ownership kept (a script COPY'd from the
    // context stays executable), every path held inside the dir.
    await applyLayer(archive, dir, { whiteouts: 'plain', fromClient: true, signal: opts.signal });
    const content = readFileInRoot(dir, rel);
    if (content === undefined) throw new BerthError('NOT_FOUND', `Cannot locate specified Dockerfile: ${file ?? 'Dockerfile'}`);
    return { contextDir: dir, dockerfile: { path: join(dir, rel), content }, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The Dockerfile's path relative to the context (a leading `/` is its root); `..` out of it is refused. */
function dockerfileInContext(file: string | undefined): string {
  const given = posix.normalize(file || 'Dockerfile');
  const rel = posix.normalize(`/${given}`).slice(1);
  if (!rel || given === '..' || given.startsWith('../')) throw new BerthError('INVALID_ARGUMENT', `the Dockerfile (${file}) must be within the build context`);
  return rel;
}
