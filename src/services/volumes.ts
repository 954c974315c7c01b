/** Volume use cases: create, list, inspect, remove, prune, over the engine's volume store. */
import { BerthError } from '../errors/index.ts';
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

/** Whether a volume's labels hold every `key` or `key=value` of `wanted` (docker's label filter). */
export function labelsMatch(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  return wanted.every((l) => {
    const i = l.indexOf('=');
    return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
  });
}

/**
 * `volume ls --filter`: `name` (a substring, as docker's), `label` (each must hold), `driver`,
 * `dangling` (true: no container holds it). Values of one key are alternatives; an unknown key
 * is docker's 400.
 */
export function filterVolumes(deps: VolumeDeps, vols: readonly Volume[], filters: ReadonlyMap<string, readonly string[]>): Volume[] {
  for (const k of filters.keys()) {
    if (!['name', 'label', 'driver', 'dangling'].includes(k)) throw new BerthError('INVALID_ARGUMENT', `invalid filter '${k}'`);
  }
  const dangling = filters.get('dangling')?.map((d) => {
    if (!['true', '1', 'false', '0'].includes(d.toLowerCase())) throw new BerthError('INVALID_ARGUMENT', `invalid filter 'dangling=${d}'`);
    return d.toLowerCase() === 'true' || d === '1';
  });
  const any = (k: string, test: (v: string) => boolean) => !filters.get(k)?.length || filters.get(k)!.some(test);
  return vols.filter(
    (v) =>
      any('name', (n) => v.name.includes(n)) &&
      any('driver', (d) => d === 'local') &&
      labelsMatch(v.labels, filters.get('label') ?? []) &&
      (!dangling?.length || dangling.includes(deps.volumes.usedBy(v.name).length === 0)),
  );
}

export function removeVolume(deps: VolumeDeps, name: string, opts: { force?: boolean } = {}): Promise<void> {
  return deps.volumes.remove(name, opts);
}

/** `volume prune`: anonymous volumes no container uses (all unused ones with `all`), those `labels` name if given. */
export function pruneVolumes(deps: VolumeDeps, opts: { all?: boolean; labels?: readonly string[] } = {}): Promise<{ removed: string[]; bytes: number }> {
  const labels = opts.labels ?? [];
  return deps.volumes.prune({ all: opts.all, match: labels.length ? (v) => labelsMatch(v.labels, labels) : undefined });
}
