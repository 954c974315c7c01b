/**
 * `system df` in detail, as docker's `GET /system/df` gives it: every image with its size,
 * the part it shares with other images and how many containers use it; every container with
 * its writable layer's size; every volume with its size and how many containers hold it; the
 * build cache's step layers. `diskUsage` (system.ts) is the CLI's summary of the same.
 */
import { join } from 'node:path';
import type { ContainerRecords } from '../container/records.ts';
import { statusText } from '../container/views.ts';
import { familiarTag } from '../image/inspect.ts';
import { loadImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import type { BuildCacheRecords } from '../store/build-cache.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import type { VolumeStore } from '../volume/index.ts';
import { volumeView } from './volumes.ts';

/** Bytes under `dir` (du's apparent sizes); 0 when it is not there. */
async function dirBytes(dir: string): Promise<number> {
  try {
    const { stdout } = await execFileAsync('du', ['-sb', dir]);
    return Number(stdout.split(/\s/)[0]) || 0;
  } catch {
    return 0;
  }
}

const unixSeconds = (iso: string | undefined): number => (iso ? Math.floor(Date.parse(iso) / 1000) || 0 : 0);

export interface DiskUsageDeps extends Pick<ImageStores, 'content' | 'images' | 'snapshots'> {
  readonly containers: ContainerRecords;
  readonly volumes: VolumeStore;
  readonly buildCache: Pick<BuildCacheRecords, 'steps'>;
}

export async function diskUsageDetail(deps: DiskUsageDeps): Promise<Record<string, unknown>> {
  const containers = deps.containers.list();
  const images = await Promise.all(deps.images.list().map((r) => loadImage(deps, r.id).catch(() => undefined)));
  const layerSize = new Map(deps.images.allLayers().map((l) => [l.diffId as string, l.size]));
  // How many images hold each layer: a layer of two or more is shared.
  const holders = new Map<string, number>();
  for (const img of images) for (const d of new Set(img?.config.rootfs.diff_ids ?? [])) holders.set(d, (holders.get(d) ?? 0) + 1);
  const imageRows = images.flatMap((img) => {
    if (!img) return [];
    const ids = [...new Set(img.config.rootfs.diff_ids)];
    const shared = ids.filter((d) => (holders.get(d) ?? 0) > 1).reduce((n, d) => n + (layerSize.get(d) ?? 0), 0);
    const size = ids.reduce((n, d) => n + (layerSize.get(d) ?? 0), 0);
    const tags = deps.images.tagsOf(img.record.id).map(familiarTag);
    return [
      {
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
      },
    ];
  });
  const containerRows = await Promise.all(
    containers.map(async (c) => {
      const snap = await deps.snapshots.stat(c.id);
      const rw = snap ? await dirBytes(join(snap.path, 'upper')) : 0;
      const image = imageRows.find((i) => i.Id === c.imageId);
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
    }),
  );
  const volumeRows = await Promise.all(
    deps.volumes.list().map(async (v) => ({
      ...volumeView(v),
      UsageData: { Size: await dirBytes(v.mountpoint), RefCount: deps.volumes.usedBy(v.name).length },
    })),
  );
  const inImages = new Set(images.flatMap((i) => i?.config.rootfs.diff_ids ?? []));
  const buildCache = deps.buildCache.steps().map((s) => ({
    ID: s.key.replace(/^sha256:/, '').slice(0, 25),
    Parents: null,
    Type: 'regular',
    Description: `layer ${s.diffId}`,
    InUse: false,
    Shared: inImages.has(s.diffId),
    Size: s.size,
    CreatedAt: new Date(s.created).toISOString(),
    LastUsedAt: new Date(s.lastUsed).toISOString(),
    UsageCount: 1,
  }));
  return {
    LayersSize: [...layerSize.values()].reduce((n, s) => n + s, 0),
    Images: imageRows,
    Containers: containerRows,
    Volumes: volumeRows,
    BuildCache: buildCache,
  };
}
