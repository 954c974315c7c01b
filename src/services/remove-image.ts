/**
 * `rmi` semantics as docker: removing by name untags; the image itself goes when its last
 * tag goes (or when removed by id with a single tag or `-f`). An image a container uses is
 * refused unless forced. Blobs and layer dirs are left for `system prune`, which is the one
 * place that deletes shared content.
 */
import { BerthError } from '../errors/index.ts';
import { familiarTag } from '../image/inspect.ts';
import { requireImageId } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import type { Digest } from '../oci/digest.ts';
import { familiarRepository, formatReference, parseReference, repositoryName, withDefaultTag } from '../reference/index.ts';
import type { ContainerRecords } from '../store/containers.ts';
import { recordEvent } from '../store/events.ts';

/** What removing an image reads and writes: the image rows, and the containers table to see who uses it. */
export type RemoveImageDeps = Pick<ImageStores, 'images'> & { readonly containers: Pick<ContainerRecords, 'idsUsingImage'> };

export type RemoveEvent = { Untagged: string } | { Deleted: string };

function containersUsing(engine: RemoveImageDeps, id: Digest): string[] {
  return engine.containers.idsUsingImage(id);
}

export function removeImage(engine: RemoveImageDeps, nameOrId: string, opts: { force?: boolean } = {}): RemoveEvent[] {
  const id = requireImageId(engine, nameOrId);
  const events: RemoveEvent[] = [];
  const tags = engine.images.tagsOf(id);
  const byName = !/^(sha256:)?[a-f0-9]{4,64}$/.test(nameOrId);
  const users = containersUsing(engine, id);
  if (byName && tags.length > 1) {
    const ref = withDefaultTag(parseReference(nameOrId));
    const full = formatReference(ref);
    engine.images.untag(full);
    recordEvent('image', 'untag', id, { name: id });
    // As docker: with the repository's last tag goes the image's digest there (set by a push or pull).
    const repository = repositoryName(ref);
    if (engine.images.tagsOf(id).some((t) => repositoryName(parseReference(t)) === repository)) return [{ Untagged: familiarTag(full) }];
    const digests = engine.images.untagRepoDigests(id, repository);
    return [{ Untagged: familiarTag(full) }, ...digests.map((d) => ({ Untagged: `${familiarRepository(ref)}@${d}` }))];
  }
  if (!byName && tags.length > 1 && !opts.force) {
    throw new BerthError('CONFLICT', `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
  }
  if (users.length && !opts.force) {
    throw new BerthError(
      'CONFLICT',
      `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${users[0]!.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`,
    );
  }
  const indexed = byName ? engine.images.indexOf(formatReference(withDefaultTag(parseReference(nameOrId)))) : undefined;
  for (const t of tags) {
    engine.images.untag(t);
    recordEvent('image', 'untag', id, { name: id });
    events.push({ Untagged: familiarTag(t) });
  }
  for (const d of engine.images.repoDigestsOf(id)) events.push({ Untagged: `${familiarRepository(parseReference(d.repository))}@${d.digest}` });
  if (users.length) return events; // forced while in use: docker untags but keeps the image
  engine.images.delete(id);
  recordEvent('image', 'delete', id, { name: id });
  events.push({ Deleted: id });
  // A multi-platform image goes whole: its other platforms, which nothing else names or uses.
  const others = (indexed?.children ?? []).filter((c) => c !== id);
  const stillIndexed = others.length ? engine.images.indexes().children : new Set<Digest>();
  for (const c of others) {
    if (engine.images.tagsOf(c).length || stillIndexed.has(c) || containersUsing(engine, c).length) continue;
    engine.images.delete(c);
    recordEvent('image', 'delete', c, { name: c });
    events.push({ Deleted: c });
  }
  return events;
}
