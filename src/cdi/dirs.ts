/**
 * Which directories CDI specs are read from: the global `--cdi-spec-dir` (set once by the
 * CLI, repeatable), else BERTH_CDI_SPEC_DIRS, else the reference's defaults. Given
 * directories replace the defaults, as Podman's `--cdi-spec-dir` and dockerd's
 * `cdi-spec-dirs` do. A container records the directories of its create, so a later start
 * (by its monitor, or `berth start` in another shell) reads the same specs.
 */
import { settings } from '../config/index.ts';

export const DEFAULT_CDI_SPEC_DIRS: readonly string[] = ['/etc/cdi', '/var/run/cdi'];

let chosen: readonly string[] | undefined;

/** The directories given on the command line; they win over the environment. */
export function useCdiSpecDirs(dirs: readonly string[]): void {
  chosen = dirs.length ? [...dirs] : undefined;
}

export function cdiSpecDirs(): readonly string[] {
  return chosen ?? settings().cdiSpecDirs ?? DEFAULT_CDI_SPEC_DIRS;
}
