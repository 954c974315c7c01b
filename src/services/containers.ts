/**
 * Container use cases as the CLI and the API call them: create (pulling the image when
 * missing), list, inspect, prune, and the lifecycle verbs of container/control.ts. Starting
 * is start.ts; logs, attach, exec and cp are container-io.ts: a `run` loads only what it runs.
 */
import { checkCdiRequest } from '../cdi/index.ts';
import { reconcile, reconciledList, removeContainer, type ContainerControl } from '../container/control.ts';
import { checkCreateOptions, createContainer as recordContainer, type CreateDeps, type CreateOptions } from '../container/create.ts';
import type { ContainerRecord } from '../container/records.ts';
import { psRow } from '../container/views.ts';
import { containerSize } from './container-fs.ts';
import { containerInspectView } from './container-ops.ts';
import { BerthError } from '../errors/index.ts';
import { ensureImage, type ImagePuller } from '../image/ensure.ts';
import { inspectImage } from '../image/inspect.ts';
import { findImageId } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import type { LeaseRecords } from '../store/leases.ts';
import { formatPlatform, hostPlatform } from '../oci/platform.ts';
import { deviceOf } from '../runtime/index.ts';
import { cgroupResources } from '../runtime/host-resources.ts';
import { CGROUP_LIMITS_IGNORED, limitsIgnored } from '../runtime/rootless.ts';

export { killContainer, removeContainer, stopContainer, waitContainer } from '../container/control.ts';
export type { CreateOptions } from '../container/create.ts';
export type { ContainerRecord } from '../container/records.ts';

/** Where create's words go: docker prints the pull and the platform warning on stderr. */
export interface CreateMessages {
  /** Lines about pulling a missing image (`Unable to find image ... locally`, `Digest: ...`). */
  readonly log?: (text: string) => void;
  /** Warnings, one line each without its newline. */
  readonly warn?: (line: string) => void;
}

/**
 * `create`: checks the name and network, pulls the image when the pull policy says so, and
 * records the container with its prepared snapshot. It is not started.
 */
export async function createContainer(
  deps: CreateDeps & ImageStores & { readonly puller: ImagePuller },
  opts: CreateOptions,
  messages: CreateMessages = {},
): Promise<ContainerRecord> {
  checkCreateOptions(deps, opts);
  // Before volumes are made or images pulled for it: a taken name would leave them behind.
  const name = opts.name?.replace(/^\//, '');
  const holder = name ? deps.containers.find(name) : undefined;
  if (holder && holder.name === name) {
    throw new BerthError(
      'CONFLICT',
      `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
  // A host device that is not there is refused now, as docker does, not when the container starts.
  for (const d of (opts.runtime.devices as readonly string[] | undefined) ?? []) deviceOf(d);
  await checkCdiRequest(opts.runtime);
  const image = await ensureImage(deps, opts.image, { pull: opts.pull, platform: opts.platform, log: messages.log });
  if (!opts.platform && image.config.architecture !== hostPlatform().architecture) {
    messages.warn?.(
      `WARNING: The requested image's platform (${formatPlatform(image.config)}) does not match the detected host platform (${formatPlatform(hostPlatform())}) and no specific platform was requested`,
    );
  }
  // As rootless Podman: limits without a delegated cgroup are dropped, and said so (runtime/rootless.ts).
  if (limitsIgnored(cgroupResources(opts.runtime as Parameters<typeof cgroupResources>[0]))) messages.warn?.(CGROUP_LIMITS_IGNORED);
  const rec = await recordContainer(deps, opts, image);
  // Until this process ends (a `run` starts the container it made), a prune must not take it.
  deps.lease.add('container', [rec.id]);
  return rec;
}

/** The record of a container by id, id prefix or name; NOT_FOUND otherwise. */
export function findContainer(deps: Pick<ContainerControl, 'containers'>, idOrName: string): ContainerRecord {
  return deps.containers.require(idOrName);
}

/** Containers newest first, each reconciled (a dead recorder's container reads as exited); running ones only unless `all`. */
export async function listContainers(deps: ContainerControl, opts: { all?: boolean; latest?: boolean } = {}): Promise<ContainerRecord[]> {
  const recs = await reconciledList(deps);
  if (opts.latest) return recs.slice(0, 1);
  // A restarting container counts as running, as docker lists it.
  return opts.all ? recs : recs.filter((r) => r.state.status === 'running' || r.state.status === 'restarting');
}

/** Docker's `ps` row of a container (ID, Image, Command, Status, Ports, Names...). */
export { psRow };

/** `container prune`: removes every container that is not running (and that `match` takes); returns their ids. */
export async function pruneContainers(
  deps: ContainerControl & Pick<ImageStores, 'content' | 'images'> & { readonly leases: LeaseRecords },
  match: (rec: ContainerRecord) => boolean = () => true,
): Promise<string[]> {
  return (await pruneContainersReclaiming(deps, match)).removed;
}

/**
 * `container prune` with docker's reclaimed space: the size of each removed container's
 * writable layer (its SizeRw), measured just before it goes.
 */
export async function pruneContainersReclaiming(
  deps: ContainerControl & Pick<ImageStores, 'content' | 'images'> & { readonly leases: LeaseRecords },
  match: (rec: ContainerRecord) => boolean = () => true,
): Promise<{ removed: string[]; reclaimedBytes: number }> {
  const removed: string[] = [];
  let reclaimedBytes = 0;
  // A container another live process has just made (a `run` between create and start) is in use.
  const leased = deps.leases.read({ othersOnly: true }).names.get('container') ?? new Set<string>();
  for (const r of deps.containers.list()) {
    if (leased.has(r.id) || (await reconcile(deps, r)).state.status === 'running' || !match(r)) continue;
    // A layer that cannot be measured (already half gone) counts as nothing, as it frees nothing we know of.
    reclaimedBytes += (await containerSize(deps, r).catch(() => ({ SizeRw: 0 }))).SizeRw;
    await removeContainer(deps, r.id);
    removed.push(r.id);
  }
  return { removed, reclaimedBytes };
}

/**
 * `inspect`: docker's JSON of each name, a container's when one has the name (unless
 * `type` is `image`), else an image's (unless `type` is `container`).
 */
export async function inspectObjects(
  deps: ContainerControl & Pick<ImageStores, 'content' | 'images' | 'snapshots'>,
  names: readonly string[],
  opts: { type?: string } = {},
): Promise<Array<Record<string, unknown>>> {
  const views: Array<Record<string, unknown>> = [];
  for (const n of names) {
    const rec = opts.type === 'image' ? undefined : deps.containers.find(n);
    if (rec) {
      views.push(containerInspectView(deps, await reconcile(deps, rec)));
      continue;
    }
    const id = opts.type === 'container' ? undefined : findImageId(deps, n);
    if (!id) throw new BerthError('NOT_FOUND', `No such object: ${n}`);
    views.push(await inspectImage(deps, id));
  }
  return views;
}
