/**
 * Named network namespaces, made with `ip netns add`: iproute2 makes /run/netns a shared
 * mount of itself before bind-mounting the namespace there, so the file is visible from
 * every mount namespace and is not pinned by a runc child's private copy of the mount
 * table, which a bind mount under berth's own state dir could not promise. /run is tmpfs,
 * so a reboot leaves none behind, and `ip netns exec berth-<id>` works for debugging.
 * Names use the first 12 hex digits of the container id, like Docker's short ids.
 */
import { existsSync } from 'node:fs';
import { BerthError } from '../errors/index.ts';
import { execFileAsync } from '../sys/exec-file.ts';

export const NETNS_DIR = '/run/netns';

export function netnsNameFor(containerId: string): string {
  return `berth-${containerId.slice(0, 12)}`;
}

export function netnsPathFor(containerId: string): string {
  return `${NETNS_DIR}/${netnsNameFor(containerId)}`;
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(e)).trim();
}

export async function createNetns(name: string): Promise<string> {
  try {
    await execFileAsync('ip', ['netns', 'add', name]);
  } catch (e) {
    const msg = stderrOf(e);
    if (/exists/i.test(msg)) throw new BerthError('ALREADY_EXISTS', `create network namespace ${name}: it already exists`, { cause: e });
    throw new BerthError('RUNTIME', `create network namespace ${name}: ${msg}`, { cause: e, hint: 'berth needs root and iproute2 for container networking' });
  }
  return `${NETNS_DIR}/${name}`;
}

/** Idempotent: a missing namespace is already deleted. */
export async function deleteNetns(name: string): Promise<void> {
  if (!existsSync(`${NETNS_DIR}/${name}`)) return;
  try {
    await execFileAsync('ip', ['netns', 'del', name]);
  } catch (e) {
    if (!existsSync(`${NETNS_DIR}/${name}`)) return;
    throw new BerthError('RUNTIME', `delete network namespace ${name}: ${stderrOf(e)}`, { cause: e });
  }
}
