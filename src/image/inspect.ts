/** Docker-compatible views of an image: `inspect` JSON and `history` rows. */
import type { Digest } from '../oci/digest.ts';
import type { History } from '../oci/schema.ts';
import { familiarName, parseReference } from '../reference/index.ts';
import { loadImage, type LocalImage } from './resolve.ts';
import type { ImageStores } from './stores.ts';

export function familiarTag(fullName: string): string {
  return familiarName(parseReference(fullName));
}

function containerConfigView(img: LocalImage) {
  const c = img.config.config ?? {};
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    StopSignal: c.StopSignal ?? '',
    ...(c.Shell ? { Shell: c.Shell } : {}),
  };
}

export async function inspectImage(stores: Pick<ImageStores, 'content' | 'images' | 'snapshots'>, id: Digest): Promise<Record<string, unknown>> {
  const img = await loadImage(stores, id);
  const { record, config } = img;
  const repoTags = stores.images.tagsOf(id).map(familiarTag);
  const repoDigests = stores.images.repoDigestsOf(id).map((d) => `${familiarName(parseReference(d.repository))}@${d.digest}`.replace(/:latest@/, '@'));
  return {
    Id: id,
    RepoTags: repoTags,
    RepoDigests: repoDigests,
    Parent: '',
    Comment: config.history?.at(-1)?.comment ?? '',
    Created: config.created ?? '',
    DockerVersion: '',
    Author: config.author ?? '',
    Config: containerConfigView(img),
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    Size: record.size,
    VirtualSize: record.size,
    GraphDriver: {
      Name: stores.snapshots.driver,
      Data: {
        LowerDir: (await Promise.all(config.rootfs.diff_ids.map((d) => stores.snapshots.stat(d))))
          .map((l) => l?.path ?? '')
          .reverse()
          .join(':'),
      },
    },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: new Date(record.addedAt).toISOString() },
    Descriptor: { mediaType: record.manifestMediaType, digest: record.manifestDigest },
  };
}

export interface HistoryRow {
  readonly id: string; // image id on the top row, '<missing>' below, as docker prints
  readonly created?: string;
  readonly createdBy: string;
  readonly size: number;
  readonly comment: string;
}

export async function imageHistory(stores: Pick<ImageStores, 'content' | 'images'>, id: Digest): Promise<HistoryRow[]> {
  const { config } = await loadImage(stores, id);
  const layers = [...config.rootfs.diff_ids];
  const rows: HistoryRow[] = [];
  const history: History[] = config.history ?? layers.map(() => ({ created_by: '' }));
  let li = 0;
  for (const h of history) {
    const size = h.empty_layer ? 0 : (stores.images.layerSize(layers[li++]!) ?? 0);
    rows.push({ id: '<missing>', created: h.created, createdBy: h.created_by ?? '', size, comment: h.comment ?? '' });
  }
  rows.reverse();
  if (rows.length) rows[0] = { ...rows[0]!, id };
  return rows;
}
