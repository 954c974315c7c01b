/**
 * What nothing refers to and no live process owns: unreferenced blobs and layer dirs, partial
 * downloads and other ingests, `layers/tmp` entries, runc containers of dead builds' steps,
 * snapshots of containers or build steps that no longer exist (with their overlay mounts),
 * build run dirs, networks, expired leases, containers a killed `cp` left frozen.
 * `system check` lists them; `system prune` removes them.
 *
 * Ownership is decided by the leases (store/leases.ts): a thing a live lease names, or that changed
 * after the earliest live lease began, may be in use and is left alone. Blobs, layers and
 * ingests have content-addressed names a new process may take at any moment, so prune removes
 * those inside its write transaction (`locked`); the rest have random names.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deadCopyHolder, thawAbandoned } from '../container/freeze.ts';
import type { ImageStores } from '../image/stores.ts';
import { networkLeftovers } from '../network/leftovers.ts';
import type { Digest } from '../oci/digest.ts';
import { Runc } from '../runtime/index.ts';
import type { ContainerRecords } from '../store/containers.ts';
import { coveredBy, type LeaseKind, type LeaseRecords, type LiveLeases } from '../store/leases.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { duBytes } from './disk-measure.ts';

/** What the leftover scan looks at: the stores, the metadata, and both roots. */
export interface StoreRoots extends Pick<ImageStores, 'content' | 'images' | 'snapshots'> {
  readonly root: string;
  readonly runRoot: string;
  readonly containers: Pick<ContainerRecords, 'ids' | 'imageIds'>;
  readonly leases: LeaseRecords;
}

export interface Leftover {
  /** One line for `system check`. */
  readonly what: string;
  readonly bytes: number;
  /** Removed inside prune's write transaction (a name a new writer could take meanwhile). */
  readonly locked: boolean;
  /** Removes it; what it returns, if anything, finishes the job after the transaction (a slow delete). */
  remove(): Promise<void | (() => Promise<void>)>;
}

export interface References {
  readonly blobs: ReadonlySet<Digest>;
  readonly layers: ReadonlySet<Digest>;
}

function changedMs(path: string): number | undefined {
  const st = lstatOrUndefined(path);
  return st ? Math.max(st.ctimeMs, st.mtimeMs) : undefined;
}

/** The names in `dir`; none when it is not there (nothing of that kind was made yet). */
function entriesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export async function findLeftovers(engine: StoreRoots, live: LiveLeases, refs: References): Promise<Leftover[]> {
  const out: Leftover[] = [];
  const named = (kind: LeaseKind, name: string) => live.names.get(kind)?.has(name) ?? false;
  const inUse = (kind: LeaseKind, name: string, path: string): boolean => {
    if (named(kind, name)) return true;
    const t = changedMs(path);
    return t === undefined || coveredBy(live, t); // gone already, or maybe a live process's
  };

  const containers = new Set(engine.containers.ids());
  for await (const b of engine.content.walk()) {
    if (refs.blobs.has(b.digest) || inUse('blob', b.digest, engine.content.pathOf(b.digest))) continue;
    out.push({ what: `blob ${b.digest}: nothing refers to it`, bytes: b.size, locked: true, remove: () => engine.content.delete(b.digest) });
  }
  const listing = await engine.snapshots.walk();
  const unusedLayers = listing.layers.filter(({ name, path }) => !refs.layers.has(name as Digest) && !inUse('layer', name, path));
  const unusedSnapshots = listing.snapshots.filter((s) => !containers.has(s.name) && !named('snapshot', s.name) && !coveredBy(live, s.changedMs));
  // What removing them frees, as `du` counts it.
  const bytes = await duBytes([...unusedLayers, ...unusedSnapshots].map((l) => l.path));
  for (const { name, path } of unusedLayers) {
    const d = name as Digest;
    // Gone inside prune's transaction (one rename), its files deleted after it.
    const remove = async () => {
      await engine.snapshots.remove(d);
      return () => engine.snapshots.cleanup();
    };
    out.push({ what: `layer dir ${d}: nothing refers to it`, bytes: bytes.get(path) ?? 0, locked: true, remove });
  }

  const ingestOwners = live.names.get('ingest') ?? new Set<string>();
  for (const i of engine.content.listIngests()) {
    if ((i.partialOf && ingestOwners.has(i.partialOf)) || coveredBy(live, i.changedMs)) continue;
    const what = i.partialOf ? `partial download ${i.name} (${i.size} bytes)` : `unfinished write ${i.name} (${i.size} bytes)`;
    out.push({ what, bytes: i.size, locked: true, remove: async () => rmSync(i.path, { force: true }) });
  }

  for (const t of listing.temp) {
    // `rm-*` trees are on their way out whoever made them; the rest are unpacks in progress.
    if (!t.name.startsWith('rm-') && coveredBy(live, t.changedMs)) continue;
    out.push({ what: `temp entry snapshots/layers/tmp/${t.name}`, bytes: 0, locked: false, remove: () => engine.snapshots.cleanup({ temp: [t.name] }) });
  }

  // A build killed during a RUN leaves the step's runc container running (`runc run` was its
  // child) on the step's snapshot: it is killed and deleted first, so the snapshot's mount goes below.
  const runcRoot = join(engine.runRoot, 'runc');
  for (const key of entriesIn(runcRoot).filter((n) => n.startsWith('build-'))) {
    const t = changedMs(join(runcRoot, key));
    if (t === undefined || named('snapshot', key) || coveredBy(live, t)) continue;
    const remove = async () => {
      const runc = new Runc(runcRoot);
      await runc.kill(key, 'SIGKILL').catch(() => undefined); // it may have exited already
      await runc.delete(key);
    };
    out.push({ what: `runc container of build step ${key}`, bytes: 0, locked: false, remove });
  }
  for (const s of unusedSnapshots) {
    out.push({
      what: `snapshot ${s.name}: no container or live build uses it`,
      bytes: bytes.get(s.path) ?? 0,
      locked: false,
      remove: () => engine.snapshots.remove(s.name),
    });
  }

  // Temp dirs of load, export, and builds from a tar context or with a temp dir of their own.
  const temps = entriesIn(engine.root)
    .filter((n) => /^tmp-(load|context|export)-/.test(n))
    .map((n) => join(engine.root, n));
  for (const path of [...temps, ...entriesIn(join(engine.root, 'tmp')).map((n) => join(engine.root, 'tmp', n))]) {
    const t = changedMs(path);
    if (t === undefined || coveredBy(live, t)) continue;
    out.push({
      what: `temp dir ${path.slice(engine.root.length + 1)}`,
      bytes: 0,
      locked: false,
      remove: async () => rmSync(path, { recursive: true, force: true }),
    });
  }

  const buildRuns = join(engine.runRoot, 'build');
  for (const key of entriesIn(buildRuns)) {
    const t = changedMs(join(buildRuns, key));
    if (t === undefined || named('snapshot', key) || coveredBy(live, t)) continue;
    out.push({
      what: `run dir of build step ${key}`,
      bytes: 0,
      locked: false,
      remove: async () => rmSync(join(buildRuns, key), { recursive: true, force: true }),
    });
  }

  for (const id of containers) {
    const holder = deadCopyHolder(engine, id);
    if (holder === undefined) continue;
    out.push({
      what: `container ${id.slice(0, 12)} frozen by a dead cp (pid ${holder})`,
      bytes: 0,
      locked: false,
      remove: async () => void (await thawAbandoned(engine, id)),
    });
  }

  const ownedNet = (id: string, t: number) => containers.has(id) || named('snapshot', id.replace(/0+$/, '')) || coveredBy(live, t);
  for (const n of networkLeftovers(engine.runRoot, ownedNet)) out.push({ ...n, bytes: 0, locked: false });

  for (const id of live.dead) {
    out.push({ what: `lease of process ${id.split(':')[0]}, which has exited`, bytes: 0, locked: true, remove: async () => engine.leases.drop([id]) });
  }
  return out;
}
