/** Volume use cases: create, list, inspect, remove, prune, over the engine's volume store. */
import type { Volume, VolumeStore } from '../volume/index.ts';
import { type FilterArgs, NO_FILTERS, volumeListMatcher, volumePruneSelection } from './filters/index.ts';

export interface VolumeDeps {
  readonly volumes: VolumeStore;
}

export function createVolume(deps: VolumeDeps, name: string | undefined, opts: { labels?: Record<string, string> } = {}): Promise<Volume> {
  return deps.volumes.create(name, { labels: opts.labels ?? {} });
}

export function listVolumes(deps: VolumeDeps): Volume[] {
  return deps.volumes.list();
}

/** Docker's JSON of a volume, as inspect, create and the API's list give it. */
export function volumeView(v: Volume): Record<string, unknown> {
  return {
    // RFC 3339 to the second, as docker's.
    CreatedAt: v.created.replace(/\.\d+Z$/, 'Z'),
    Driver: 'local',
    Labels: Object.keys(v.labels).length ? v.labels : null,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: null,
    Scope: 'local',
  };
}

/** Docker's `volume inspect` JSON of each named volume; an unknown name fails them all. */
export function inspectVolumes(deps: VolumeDeps, names: readonly string[]): Array<Record<string, unknown>> {
  return names.map((n) => volumeView(deps.volumes.require(n)));
}

/** `volume ls --filter` (meanings in filters/objects.ts); dangling: no container holds it. */
export function filterVolumes(deps: VolumeDeps, vols: readonly Volume[], filters: FilterArgs): Volume[] {
  const matches = volumeListMatcher(filters);
  return vols.filter((v) =>
    matches({
      name: v.name,
      driver: 'local',
      labels: v.labels,
      get dangling() {
        return deps.volumes.usedBy(v.name).length === 0;
      },
    }),
  );
}

export function removeVolume(deps: VolumeDeps, name: string, opts: { force?: boolean } = {}): Promise<void> {
  return deps.volumes.remove(name, opts);
}

/**
 * `volume prune`: anonymous volumes no container uses, every unused one with `all` (or the
 * filter `all=true`), narrowed by `label` and `label!`.
 */
export function pruneVolumes(deps: VolumeDeps, opts: { all?: boolean; filters?: FilterArgs } = {}): Promise<{ removed: string[]; bytes: number }> {
  const selection = volumePruneSelection(opts.filters ?? NO_FILTERS, { all: opts.all });
  return deps.volumes.prune({ all: selection.all, match: (v) => selection.matches(v.labels) });
}
