/**
 * Volumes: named and anonymous data dirs under `<root>/volumes/<name>/_data` that outlive
 * containers. A volume is filled from the image's content at its mount path the first time
 * it is mounted empty (Docker's copy-up), so `-v data:/app/models` starts with the image's files.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { recordEvent } from '../store/events.ts';
import type { VolumeRecords, VolumeRow } from '../store/volumes.ts';
import { randomHex } from '../sys/crypto.ts';
import { execFileAsync } from '../sys/exec-file.ts';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface Volume {
  readonly name: string;
  readonly created: string;
  readonly labels: Record<string, string>;
  readonly anonymous: boolean;
  readonly mountpoint: string;
}

/** Who holds a volume: the containers whose config lists it. */
export interface VolumeUsers {
  idsUsingVolume(name: string): string[];
}

export class VolumeStore {
  private readonly dir: string;
  constructor(
    root: string,
    private readonly records: VolumeRecords,
    private readonly users: VolumeUsers,
  ) {
    this.dir = join(root, 'volumes');
  }

  mountpoint(name: string): string {
    return join(this.dir, name, '_data');
  }

  private toVolume(r: VolumeRow): Volume {
    return { name: r.name, created: r.created, labels: { ...r.labels }, anonymous: r.anonymous, mountpoint: this.mountpoint(r.name) };
  }

  get(name: string): Volume | undefined {
    const r = this.records.get(name);
    return r && this.toVolume(r);
  }

  require(name: string): Volume {
    const v = this.get(name);
    if (!v) throw new BerthError('NOT_FOUND', `get ${name}: no such volume`);
    return v;
  }

  list(): Volume[] {
    return this.records.list().map((r) => this.toVolume(r));
  }

  count(): number {
    return this.records.count();
  }

  /** Creates the volume, or returns the existing one of that name (docker's behaviour). */
  async create(name?: string, opts: { labels?: Record<string, string>; anonymous?: boolean } = {}): Promise<Volume> {
    const vname = name ?? randomHex(32);
    if (!NAME_RE.test(vname)) {
      throw new BerthError('INVALID_ARGUMENT', `"${vname}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    }
    const existing = this.get(vname);
    if (existing) return existing;
    // volumes/ and volumes/<name> 0700 (store/private-root.ts); `_data`, the container's, 0755 as docker's.
    await mkdir(join(this.dir, vname), { recursive: true, mode: 0o700 });
    await mkdir(this.mountpoint(vname), { recursive: true, mode: 0o755 });
    if (this.records.insertIfAbsent({ name: vname, created: new Date().toISOString(), labels: opts.labels ?? {}, anonymous: opts.anonymous ?? false }))
      recordEvent('volume', 'create', vname, { driver: 'local' });
    return this.get(vname)!;
  }

  usedBy(name: string): string[] {
    return this.users.idsUsingVolume(name);
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    if (!this.get(name)) {
      if (opts.force) return;
      throw new BerthError('NOT_FOUND', `get ${name}: no such volume`);
    }
    const users = this.usedBy(name);
    if (users.length) throw new BerthError('CONFLICT', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.records.delete(name);
    recordEvent('volume', 'destroy', name, { driver: 'local' });
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  /** Removes volumes no container uses (that `match` takes, when given); anonymous only unless `all` (docker 23+ semantics). */
  async prune(opts: { all?: boolean; match?: (v: Volume) => boolean } = {}): Promise<{ removed: string[]; bytes: number }> {
    const removed: string[] = [];
    let bytes = 0;
    for (const v of this.list()) {
      if ((!opts.all && !v.anonymous) || (opts.match && !opts.match(v))) continue;
      if (this.usedBy(v.name).length) continue;
      bytes += await dirSize(v.mountpoint);
      await this.remove(v.name);
      removed.push(v.name);
    }
    return { removed, bytes };
  }

  /**
   * Copy-up: fills an empty volume from `source`, the image's dir at the mount path as the
   * caller opened it inside the rootfs (`/proc/<pid>/fd/N`, never a joined path: a link in
   * the image would resolve on the host). cp -a follows no link below it.
   */
  async copyUp(name: string, source: string): Promise<void> {
    const target = this.mountpoint(name);
    if ((await readdir(target)).length > 0) return;
    const st = await stat(source).catch(() => undefined);
    if (!st?.isDirectory()) return;
    // cp -a keeps owners, modes, links and xattrs, as Docker's copy-up does.
    await execFileAsync('cp', ['-a', '--', `${source}/.`, target]);
    await execFileAsync('chown', [`${st.uid}:${st.gid}`, target]);
    await execFileAsync('chmod', [(st.mode & 0o7777).toString(8), target]);
  }
}

async function dirSize(dir: string): Promise<number> {
  try {
    const { stdout } = await execFileAsync('du', ['-sb', dir]);
    return Number(stdout.split(/\s/)[0]) || 0;
  } catch {
    return 0;
  }
}
