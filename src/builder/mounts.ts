/**
 * RUN --mount, as dockerfile/flags.ts types it: cache dirs that persist in the store between builds (the pip/apt cache),
 * read-only binds from the context or another stage, tmpfs, and secrets (bind-mounted from
 * a file outside the rootfs, so their bytes never reach a layer or the history).
 */
import { chmod, chown, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BerthError } from '../errors/index.ts';
import type { SpecMount } from '../runtime/index.ts';
import type { RunMount } from '../dockerfile/index.ts';
import { createSha256 } from '../sys/crypto.ts';

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
}

export async function resolveRunMounts(specs: readonly RunMount[], env: MountEnv, workdir: string): Promise<SpecMount[]> {
  const out: SpecMount[] = [];
  for (const m of specs) {
    const written = posix.normalize(m.target);
    const target = written.startsWith('/') ? written : posix.join(workdir || '/', written);
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
        out.push({ destination: target, type: 'bind', source: dir, options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw'] });
        break;
      }
      case 'bind': {
        const base = m.from ? await env.rootfsOf(m.from) : env.contextDir;
        const source = join(base, posix.normalize(`/${m.source ?? '/'}`));
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
      case 'ssh':
        throw new BerthError('UNSUPPORTED', 'RUN --mount=type=ssh is not supported yet');
    }
  }
  return out;
}
