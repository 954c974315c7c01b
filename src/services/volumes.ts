/** Volume use cases: create, list, inspect, remove, prune, over the engine's volume store. */
import type { Volume, VolumeStore } from '../volume/index.ts';

export interface VolumeDeps {
  readonly volumes: VolumeStore;
}

export function createVolume(deps: VolumeDeps, name: string | undefined, opts: { labels?: Record<string, string> } = {}): Promise<Volume> {
  return deps.volumes.create(name, { labels: opts.labels ?? {} });
}

export function listVolumes(deps: VolumeDeps): Volume[] {
  return deps.volumes.list();
}

/** Docker's `volume inspect` JSON of each named volume; an unknown name fails them all. */
export function inspectVolumes(deps: VolumeDeps, names: readonly string[]): Array<Record<string, unknown>> {
  return names.map((n) => {
    const v = deps.volumes.require(n);
    return {
      CreatedAt: v.created,
      Driver: 'local',
      Labels: Object.keys(v.labels).length ? v.labels : null,
      Mountpoint: v.mountpoint,
      Name: v.name,
      Options: null,
      Scope: 'local',
    };
  });
}

export function removeVolume(deps: VolumeDeps, name: string, opts: { force?: boolean } = {}): Promise<void> {
  return deps.volumes.remove(name, opts);
}

/** `volume prune`: anonymous volumes no container uses (all unused ones with `all`). */
export function pruneVolumes(deps: VolumeDeps, opts: { all?: boolean } = {}): Promise<{ removed: string[]; bytes: number }> {
  return deps.volumes.prune(opts);
}
