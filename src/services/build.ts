/**
 * The build entry: where the context and the Dockerfile come from (a directory, or a lone
 * Dockerfile on stdin), then the builder (builder/). A context archive is build-archive.ts and
 * the export of a result build-export.ts, each loaded only by the builds that have one. The caller parses flags, draws
 * progress and prints the image id.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type BuildOptions, type BuildResult } from '../builder/builder.ts';
import { BerthError } from '../errors/index.ts';
import { isTarArchive } from '../layer/magic.ts';
import { type BuildCachePruneDeps, cacheBudget, keepCacheInBudget } from './build-cache.ts';

export { StepExitError } from '../builder/run-step.ts';

export interface BuildInput {
  /** The context directory; none for a Dockerfile read from stdin. */
  readonly contextDir?: string;
  readonly dockerfile: { readonly path: string; readonly content: string };
  /** Removes what was unpacked for the build (a tar context); call when the build is over. */
  cleanup(): Promise<void>;
}

/** Whether stdin holds a context archive (a tar, gzipped or not) rather than a lone Dockerfile. */
export function isContextArchive(input: Buffer): boolean {
  return isTarArchive(input);
}

/**
 * Finds the context and the Dockerfile: `context` is a directory, or `-` with `stdin` holding
 * a Dockerfile alone (an archive goes to contextFromArchive). `file` is `-f`: a path of its
 * own, or one inside the context.
 */
export async function resolveBuildInput(context: string, opts: { file?: string; stdin?: Buffer } = {}): Promise<BuildInput> {
  if (context === '-') {
    const input = opts.stdin ?? Buffer.alloc(0);
    if (isContextArchive(input))
      throw new BerthError('INVALID_ARGUMENT', 'a context archive on stdin is unpacked by contextFromArchive (services/build-archive.ts)');
    return { dockerfile: { path: 'Dockerfile', content: input.toString('utf8') }, cleanup: async () => undefined };
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

/** What a build uses: whatever the builder's own signature asks for, and the stores the cache budget prunes. */
export type BuildDeps = Parameters<typeof build>[0] & BuildCachePruneDeps;

/**
 * Runs a build; the image is in the store (and tagged) when it resolves. Then the build
 * cache is held to its budget (build-cache.ts), as BuildKit's garbage collection does.
 */
export async function buildImage(deps: BuildDeps, opts: BuildOptions): Promise<BuildResult> {
  const budget = cacheBudget(deps.root); // a bad setting fails the build before it begins
  const result = await build(deps, opts);
  await keepCacheInBudget(deps, budget);
  return result;
}
