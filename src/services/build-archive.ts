/** A build context that arrives as an archive (`build -` with a tar on stdin, or the Engine API's build body). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { unpackArchive } from '../image/archive-read.ts';
import type { ProcessLease } from '../store/leases.ts';
import type { BuildInput } from './build.ts';

/**
 * Unpacks `archive` (a tar, gzipped or not) into a temp dir under the state root, kept from
 * prune by this process's lease, and reads its Dockerfile (`file`, default `Dockerfile`).
 * The input's cleanup removes the dir.
 */
export async function contextFromArchive(deps: { readonly root: string; readonly lease: ProcessLease }, archive: Buffer, file?: string): Promise<BuildInput> {
  deps.lease.hold();
  const dir = await mkdtemp(join(deps.root, 'tmp-context-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await unpackArchive(Readable.from([archive]), dir);
    const path = join(dir, file ?? 'Dockerfile');
    return { contextDir: dir, dockerfile: { path, content: await readFile(path, 'utf8') }, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
