/**
 * The build entry: where the context and the Dockerfile come from (a directory, or a tar or a
 * lone Dockerfile on stdin), then the builder (builder/). The export of a result is
 * build-export.ts, loaded only by builds that have one. The caller parses flags, draws
 * progress and prints the image id.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { build, type BuildOptions, type BuildResult } from '../builder/builder.ts';
import { BerthError } from '../errors/index.ts';
import { unpackArchive } from '../image/archive-read.ts';
import { isGzip, isUstar } from '../layer/magic.ts';
import type { ProcessLease } from '../store/leases.ts';

export interface BuildInput {
  /** The context directory; none for a Dockerfile read from stdin. */
  readonly contextDir?: string;
  readonly dockerfile: { readonly path: string; readonly content: string };
  /** Removes what was unpacked for the build (a tar context); call when the build is over. */
  cleanup(): Promise<void>;
}

/**
 * Finds the context and the Dockerfile: `context` is a directory, or `-` with `stdin` holding
 * a (gzipped) tar of the context or a Dockerfile alone. `file` is `-f`: a path of its own, or
 * one inside the context.
 */
export async function resolveBuildInput(
  deps: { readonly root: string; readonly lease: ProcessLease },
  context: string,
  opts: { file?: string; stdin?: Buffer } = {},
): Promise<BuildInput> {
  if (context === '-') {
    const input = opts.stdin ?? Buffer.alloc(0);
    const isTar = isGzip(input) || isUstar(input);
    if (!isTar) return { dockerfile: { path: 'Dockerfile', content: input.toString('utf8') }, cleanup: async () => undefined };
    deps.lease.hold(); // prune leaves the temp dir alone while this build runs
    const tmpContext = await mkdtemp(join(deps.root, 'tmp-context-'));
    const cleanup = () => rm(tmpContext, { recursive: true, force: true });
    try {
      await unpackArchive(Readable.from([input]), tmpContext);
      const path = join(tmpContext, opts.file ?? 'Dockerfile');
      return { contextDir: tmpContext, dockerfile: { path, content: await readFile(path, 'utf8') }, cleanup };
    } catch (e) {
      await cleanup();
      throw e;
    }
  }
  const contextDir = resolve(context);
  if (!existsSync(contextDir)) throw new BerthError('NOT_FOUND', `unable to prepare context: path "${context}" not found`);
  const path = opts.file ? (existsSync(resolve(opts.file)) ? resolve(opts.file) : join(contextDir, opts.file)) : join(contextDir, 'Dockerfile');
  let content: string;
  try {
    content = readFileSync(path, 'utf8'); // in line: a small file, read before anything else can run
  } catch {
    throw new BerthError('NOT_FOUND', `failed to read dockerfile: open ${path}: no such file or directory`);
  }
  return { contextDir, dockerfile: { path, content }, cleanup: async () => undefined };
}

/** What a build uses: whatever the builder's own signature asks for. */
export type BuildDeps = Parameters<typeof build>[0];

/** Runs a build; the image is in the store (and tagged) when it resolves. */
export function buildImage(deps: BuildDeps, opts: BuildOptions): Promise<BuildResult> {
  return build(deps, opts);
}
