/**
 * RUN --mount, as dockerfile/flags.ts types it: cache dirs that persist in the store between builds (the pip/apt cache),
 * read-only binds from the context or another stage, tmpfs, and secrets (bind-mounted from
 * a file outside the rootfs, so their bytes never reach a layer or the history), and ssh agent
 * sockets (ssh.ts), forwarded the same way.
 */
import { chmod, chown, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';
import { closeFd, hostPathOf, openInRoot, openRoot } from '../sys/in-root.ts';
import type { SpecMount } from '../runtime/index.ts';
import type { RunMount } from '../dockerfile/index.ts';
import { createSha256 } from '../sys/crypto.ts';
import { relaySocket, type SshAgents } from './ssh.ts';

export interface MountEnv {
  /** Where cache mounts live: `<root>/build-cache-mounts`. */
  readonly cacheDir: string;
  /** Names a cache mount dir this build is about to use in its lease, so no prune takes it meanwhile. */
  readonly leaseCacheMount?: (name: string) => void;
  /** Per-step private dir for secret files. */
  readonly secretDir: string;
  readonly secrets: ReadonlyMap<string, Buffer>;
  readonly contextDir: string;
  /** A stage's or image's rootfs, mounted for the duration of the step. */
  readonly rootfsOf: (from: string) => Promise<string>;
  /** Called before a cache mount's dir is mounted (an imported cache restores it: remote-cache/). */
  readonly onCacheMount?: (id: string, dir: string, sharing: 'shared' | 'private' | 'locked') => Promise<void>;
  /** The agents `build --ssh` gave (ssh.ts). */
  readonly ssh?: SshAgents;
  /** Per step: what to stop once the step's container is gone (its ssh relays). */
  readonly releases?: Array<() => Promise<void>>;
}

/** Where a mount goes in the step's rootfs: its target, relative ones under WORKDIR. */
export function mountTarget(m: RunMount, workdir: string): string {
  const written = posix.normalize(m.target);
  return written.startsWith('/') ? written : posix.join(workdir || '/', written);
}

/**
 * A bind's source resolved inside its tree (a stage, an image, a context dir), symlinks
 * included: runc follows a link in a source on the host, so a link in an image or a context
 * would otherwise mount any host path into the step.
 */
function sourceInRoot(base: string, source: string): string {
  const rootFd = openRoot(base);
  try {
    const fd = openInRoot(rootFd, posix.normalize(`/${source}`), { followFinal: true });
    try {
      return hostPathOf(fd);
    } finally {
      closeFd(fd);
    }
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError('NOT_FOUND', `RUN --mount: source ${source} not found`);
    throw e;
  } finally {
    closeFd(rootFd);
  }
}

export async function resolveRunMounts(specs: readonly RunMount[], env: MountEnv, workdir: string): Promise<SpecMount[]> {
  const out: SpecMount[] = [];
  for (const m of specs) {
    const target = mountTarget(m, workdir);
    switch (m.type) {
      case 'cache': {
        const id = m.id ?? target;
        const name = createSha256().update(id).digest('hex').slice(0, 32);
        const dir = join(env.cacheDir, name);
        env.leaseCacheMount?.(name); // before the dir is looked for: a prune either sees the name or is done with the dir
        await mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
        const now = new Date();
        await utimes(dir, now, now); // its last use, which the cache budget and `builder prune --filter until` go by
        if (m.uid !== undefined || m.gid !== undefined) await chown(dir, m.uid ?? 0, m.gid ?? 0);
        if (m.mode !== undefined) await chmod(dir, m.mode);
        await env.onCacheMount?.(id, dir, m.sharing ?? 'shared');
        out.push({ destination: target, type: 'bind', source: dir, options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw'] });
        break;
      }
      case 'bind': {
        const base = m.from ? await env.rootfsOf(m.from) : env.contextDir;
        const source = sourceInRoot(base, m.source ?? '/');
        // A writable bind must not write back into the context: writes go to a tmpfs copy-free overlay is
        // not available here, so rw binds are refused instead of silently changing the user's files.
        if (!m.readonly && !m.from)
          throw new BerthError('UNSUPPORTED', 'read-write bind mounts of the build context are not supported', { hint: 'drop rw, or copy the files in' });
        out.push({ destination: target, type: 'bind', source, options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw'] });
        break;
      }
      case 'tmpfs':
        out.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size !== undefined ? [`size=${m.size}`] : [])] });
        break;
      case 'secret': {
        const id = m.id ?? posix.basename(target);
        const value = env.secrets.get(id);
        if (!value) {
          if (m.required) throw new BerthError('NOT_FOUND', `secret ${id} not found`, { hint: `pass it with --secret id=${id},src=FILE or env=VAR` });
          break;
        }
        await mkdir(env.secretDir, { recursive: true, mode: 0o700 });
        const file = join(env.secretDir, createSha256().update(id).digest('hex').slice(0, 16));
        await writeFile(file, value, { mode: m.mode ?? 0o400 });
        if (m.uid !== undefined || m.gid !== undefined) await chown(file, m.uid ?? 0, m.gid ?? 0);
        out.push({ destination: target, type: 'bind', source: file, options: ['rbind', 'rprivate', 'ro'] });
        break;
      }
      case 'ssh': {
        const id = m.id ?? 'default';
        const agent = env.ssh?.socketOf(id);
        if (!agent) {
          if (m.required) {
            const given = env.ssh?.ids.length ? ` (the build has ${env.ssh.ids.join(', ')})` : '';
            throw new BerthError('NOT_FOUND', `no SSH key "${id}" forwarded from the client${given}`, {
              hint: `pass it with --ssh ${id} (your agent) or --ssh ${id}=KEYFILE`,
            });
          }
          break;
        }
        // Each ssh mount relays through a socket of its own, in the step's private dir.
        await mkdir(env.secretDir, { recursive: true, mode: 0o700 });
        const sock = join(env.secretDir, `ssh-${out.length}`);
        env.releases?.push(await relaySocket(agent, sock, { uid: m.uid, gid: m.gid, mode: m.mode }));
        out.push({ destination: target, type: 'bind', source: sock, options: ['rbind', 'rprivate'] });
        break;
      }
    }
  }
  return out;
}
