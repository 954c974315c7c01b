/** `build --output`: a build's result written out as a directory, a tar, or an image archive. */
import type { BuildResult } from '../builder/builder.ts';
import { exportBuild } from '../builder/export.ts';

/** What an export uses: whatever the builder's export asks for. */
export type ExportDeps = Parameters<typeof exportBuild>[0];

/** Writes a build's result out as `spec` says (`type=local|tar|oci|docker,dest=...`). */
export function exportImage(deps: ExportDeps, result: BuildResult, spec: string, tags: readonly string[]): Promise<void> {
  return exportBuild(deps, result, spec, tags);
}
