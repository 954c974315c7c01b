/**
 * `commit`: a container's changes become a new image over its image's layers. The changes are
 * written once as a layer tar (a temp file, hashed as it is written) while the container is
 * frozen, if it runs; the tar is then stored as a blob and unpacked as a layer, as an import's
 * is. The image's config is the container's (command, env, user, workdir, labels), with the
 * caller's overrides and Dockerfile `changes` applied.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { withFrozen } from '../container/freeze.ts';
import type { ContainerRoots } from '../container/paths.ts';
import type { ContainerRecords } from '../container/records.ts';
import { applyConfigChanges } from '../image/changes.ts';
import { commitImage } from '../image/commit.ts';
import { normalizeName } from '../image/names.ts';
import { loadImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import { hashingStream, writeLayer } from '../layer/index.ts';
import type { ContainerConfig, ImageConfig } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';

export type CommitDeps = ImageStores & ContainerRoots & { readonly containers: Pick<ContainerRecords, 'require'> };

export interface CommitOptions {
  /** `name[:tag]` for the new image. */
  readonly reference?: string;
  readonly comment?: string;
  readonly author?: string;
  /** Dockerfile instructions applied to the config (`--change`). */
  readonly changes?: readonly string[];
  /** Config fields that replace the container's (the Engine API's request body). */
  readonly config?: Partial<ContainerConfig>;
  /** Freeze a running container while its changes are read (docker's default). */
  readonly pause?: boolean;
  readonly signal?: AbortSignal;
}

export async function commitContainer(engine: CommitDeps, idOrName: string, opts: CommitOptions = {}): Promise<ImageRecord> {
  const rec = engine.containers.require(idOrName);
  const tags = opts.reference ? [normalizeName(opts.reference)] : [];
  engine.lease.hold();
  const base = await loadImage(engine, rec.imageId);
  const parents = base.config.rootfs.diff_ids;
  const running = rec.state.status === 'running';
  const snap = await engine.snapshots.mount(rec.id, parents);
  // A copying driver's snapshot is the whole tree, not a diff: it becomes the one layer.
  const overlay = engine.snapshots.driver === 'overlay';
  const tmp = await mkdtemp(join(engine.root, 'tmp-commit-'));
  try {
    const tarPath = join(tmp, 'layer.tar');
    const hash = hashingStream();
    await withFrozen(engine, rec.id, running && opts.pause !== false, () =>
      pipeline(writeLayer(snap.upperDir, { mode: overlay ? 'overlay-upper' : 'plain', signal: opts.signal }), hash.stream, createWriteStream(tarPath)),
    );
    const diffId = hash.digest();
    await engine.content.put(createReadStream(tarPath), { expected: diffId, signal: opts.signal });
    await engine.snapshots.unpackLayer(diffId, async () => createReadStream(tarPath), { signal: opts.signal });
    const layers = [...(overlay ? parents.map((d) => ({ diffId: d, size: engine.images.layerSize(d) ?? 0 })) : []), { diffId, size: hash.size() }];
    const created = new Date().toISOString();
    const containerConfig: ContainerConfig = {
      ...(base.config.config ?? {}),
      ...(rec.config.user ? { User: rec.config.user } : {}),
      Env: [...rec.config.env],
      Cmd: rec.config.cmd ? [...rec.config.cmd] : (base.config.config?.Cmd ?? null),
      Entrypoint: rec.config.entrypoint ? [...rec.config.entrypoint] : (base.config.config?.Entrypoint ?? null),
      ...(rec.config.workdir ? { WorkingDir: rec.config.workdir } : {}),
      ...(Object.keys(rec.config.labels).length ? { Labels: { ...rec.config.labels } } : {}),
      ...(opts.config ?? {}),
    };
    const config: ImageConfig = applyConfigChanges(
      {
        ...base.config,
        created,
        ...(opts.author ? { author: opts.author } : {}),
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: [
          ...(overlay ? (base.config.history ?? []) : []),
          {
            created,
            created_by: `${rec.config.path} ${rec.config.args.join(' ')}`.trim(),
            ...(opts.author ? { author: opts.author } : {}),
            ...(opts.comment ? { comment: opts.comment } : {}),
          },
        ],
      },
      opts.changes ?? [],
    );
    return await commitImage(engine, config, layers, tags);
  } finally {
    await rm(tmp, { recursive: true, force: true });
    // A stopped container's rootfs was mounted only to be read; its start mounts it again.
    if (!running) await engine.snapshots.unmount(rec.id).catch(() => undefined);
  }
}
