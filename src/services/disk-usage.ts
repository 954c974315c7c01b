/**
 * `system df`, as docker's `GET /system/df` gives it: every image with its size, the part it
 * shares with other images and how many containers use it; every container with its
 * writable layer's size; every volume with its size and how many containers hold it; the
 * build cache's records (build-cache-usage.ts). Every size is the `du -sb` of what is behind
 * it (disk-measure.ts): an image is its layers' unpacked dirs and stored blobs, its config
 * and manifest. `summarizeDiskUsage` gives the four lines docker's CLI prints from it.
 */
import { join } from 'node:path';
import type { ContainerRecords } from '../container/records.ts';
import { statusText } from '../container/views.ts';
import { familiarTag } from '../image/inspect.ts';
import { loadImage } from '../image/resolve.ts';
import type { Digest } from '../oci/digest.ts';
import type { LeaseRecords } from '../store/leases.ts';
import type { VolumeStore } from '../volume/index.ts';
import { type BuildCacheUsageDeps, type CacheRecord, cacheBytes, listBuildCache } from './build-cache-usage.ts';
import { duBytes, measureStore } from './disk-measure.ts';
import { volumeView } from './volumes.ts';

const unixSeconds = (iso: string | undefined): number => (iso ? Math.floor(Date.parse(iso) / 1000) || 0 : 0);

export interface DiskUsageDeps extends BuildCacheUsageDeps {
  readonly containers: ContainerRecords;
  readonly volumes: VolumeStore;
  readonly leases: Pick<LeaseRecords, 'read'>;
}

/** A build cache record as the Engine API gives it. */
export function cacheRecordView(r: CacheRecord): Record<string, unknown> {
  return {
    ID: r.id,
    Parents: null,
    Type: r.type,
    Description: r.description,
    InUse: r.inUse,
    Shared: r.shared,
    Size: r.size,
    CreatedAt: new Date(r.createdMs).toISOString(),
    LastUsedAt: r.lastUsedMs ? new Date(r.lastUsedMs).toISOString() : null,
    UsageCount: r.usageCount,
  };
}

/** The states docker's CLI counts as active in `system df`. */
export function activeState(state: string): boolean {
  return state === 'running' || state === 'paused' || state === 'restarting';
}

export async function diskUsageDetail(deps: DiskUsageDeps): Promise<Record<string, unknown>> {
  const containers = deps.containers.list();
  const usage = await measureStore(deps);
  const images = (await Promise.all(deps.images.list().map((r) => loadImage(deps, r.id).catch(() => undefined)))).flatMap((i) => (i ? [i] : []));
  // What each image holds, as units of disk: its layers (dir and blobs), its config and manifest.
  const unitsOf = (img: (typeof images)[number]): Map<string, number> => {
    const units = new Map<string, number>();
    for (const d of img.config.rootfs.diff_ids) units.set(`layer ${d}`, usage.layer(d));
    units.set(`blob ${img.record.id}`, usage.blob(img.record.id));
    units.set(`blob ${img.record.manifestDigest}`, usage.blob(img.record.manifestDigest as Digest));
    return units;
  };
  const holders = new Map<string, number>();
  const all = new Map<string, number>();
  const units = images.map((img) => {
    const u = unitsOf(img);
    for (const [k, bytes] of u) {
      holders.set(k, (holders.get(k) ?? 0) + 1);
      all.set(k, bytes);
    }
    return u;
  });
  const imageRows = images.map((img, i) => {
    const mine = [...units[i]!];
    const size = mine.reduce((n, [, b]) => n + b, 0);
    const shared = mine.filter(([k]) => (holders.get(k) ?? 0) > 1).reduce((n, [, b]) => n + b, 0);
    const tags = deps.images.tagsOf(img.record.id).map(familiarTag);
    return {
      Id: img.record.id,
      ParentId: '',
      RepoTags: tags.length ? tags : ['<none>:<none>'],
      RepoDigests: deps.images.repoDigestsOf(img.record.id).map((d) => `${d.repository}@${d.digest}`),
      Created: unixSeconds(img.record.created),
      Size: size,
      SharedSize: shared,
      VirtualSize: size,
      Labels: img.config.config?.Labels ?? null,
      Containers: containers.filter((c) => c.imageId === img.record.id).length,
    };
  });
  // A container's writable layer is its snapshot's upperdir.
  const uppers = await Promise.all(
    containers.map(async (c) => {
      const snap = await deps.snapshots.stat(c.id);
      return snap ? join(snap.path, 'upper') : '';
    }),
  );
  const volumes = deps.volumes.list();
  const sizes = await duBytes([...uppers.filter(Boolean), ...volumes.map((v) => v.mountpoint)]);
  const containerRows = containers.map((c, i) => {
    const rw = uppers[i] ? (sizes.get(uppers[i]!) ?? 0) : 0;
    const image = imageRows.find((r) => r.Id === c.imageId);
    return {
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.imageRef,
      ImageID: c.imageId,
      Command: [c.config.path, ...c.config.args].join(' '),
      Created: unixSeconds(c.created),
      Ports: [],
      SizeRw: rw,
      SizeRootFs: rw + (image?.Size ?? 0),
      Labels: c.config.labels,
      State: c.state.status,
      Status: statusText(c),
      HostConfig: { NetworkMode: c.config.network || 'default' },
      Mounts: c.config.mounts
        .filter((m) => m.type === 'volume')
        .map((m) => ({
          Type: 'volume',
          Name: m.volumeName,
          Source: m.source,
          Destination: m.destination,
          Driver: 'local',
          Mode: '',
          RW: !m.readonly,
          Propagation: '',
        })),
    };
  });
  const volumeRows = volumes.map((v) => ({
    ...volumeView(v),
    UsageData: { Size: sizes.get(v.mountpoint) ?? 0, RefCount: deps.volumes.usedBy(v.name).length },
  }));
  const cache = await listBuildCache(deps, usage, deps.leases.read());
  return {
    LayersSize: [...all.values()].reduce((n, b) => n + b, 0),
    Images: imageRows,
    Containers: containerRows,
    Volumes: volumeRows,
    BuildCache: cache.map(cacheRecordView),
    BuilderSize: cacheBytes(cache),
  };
}

/** One line of `system df`: how many of a kind there are, how many are in use, their bytes and what a prune frees. */
export interface DiskUsageRow {
  readonly type: 'Images' | 'Containers' | 'Local Volumes' | 'Build Cache';
  readonly total: number;
  readonly active: number;
  readonly bytes: number;
  readonly reclaimable: number;
}

type Detail = Awaited<ReturnType<typeof diskUsageDetail>>;
type Row = Record<string, unknown>;
const list = (v: unknown): Row[] => (Array.isArray(v) ? (v as Row[]) : []);
const num = (v: unknown): number => (typeof v === 'number' && v > 0 ? v : 0);

/**
 * docker's CLI's summary of a detail: images' size is all their layers, less reclaimable what
 * the images containers use hold alone; containers' is their writable layers, a running one's
 * not reclaimable; volumes' a volume no container holds is; the build cache's counts no
 * shared record, and an in-use one is not reclaimable.
 */
export function summarizeDiskUsage(detail: Detail): DiskUsageRow[] {
  const images = list(detail.Images);
  const usedImages = images.filter((i) => num(i.Containers) > 0);
  const layers = num(detail.LayersSize);
  const usedAlone = usedImages.reduce((n, i) => n + num(i.Size) - num(i.SharedSize), 0);
  const containers = list(detail.Containers);
  const running = containers.filter((c) => activeState(String(c.State)));
  const containerBytes = containers.reduce((n, c) => n + num(c.SizeRw), 0);
  const volumes = list(detail.Volumes);
  const volumeUsage = (v: Row) => (v.UsageData ?? {}) as Row;
  const cache = list(detail.BuildCache);
  const own = cache.filter((r) => !r.Shared);
  return [
    { type: 'Images', total: images.length, active: usedImages.length, bytes: layers, reclaimable: Math.max(layers - usedAlone, 0) },
    {
      type: 'Containers',
      total: containers.length,
      active: running.length,
      bytes: containerBytes,
      reclaimable: containerBytes - running.reduce((n, c) => n + num(c.SizeRw), 0),
    },
    {
      type: 'Local Volumes',
      total: volumes.length,
      active: volumes.filter((v) => num(volumeUsage(v).RefCount) > 0).length,
      bytes: volumes.reduce((n, v) => n + num(volumeUsage(v).Size), 0),
      reclaimable: volumes.filter((v) => !num(volumeUsage(v).RefCount)).reduce((n, v) => n + num(volumeUsage(v).Size), 0),
    },
    {
      type: 'Build Cache',
      total: cache.length,
      active: cache.filter((r) => r.InUse).length,
      bytes: own.reduce((n, r) => n + num(r.Size), 0),
      reclaimable: own.filter((r) => !r.InUse).reduce((n, r) => n + num(r.Size), 0),
    },
  ];
}
