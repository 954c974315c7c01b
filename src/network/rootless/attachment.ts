/**
 * A rootless attachment is saved as a rootful one is (network/attachment.ts), twice: in the
 * container's state dir and in a cache keyed by container id, here under the user's rootless
 * dir (root's /run/berth is not the user's to write), so `system prune` finds a helper and a
 * namespace whose container is gone. Owner-only, like everything in that dir. Helpers whose
 * pid never reached a record (a crash right after the start) are found by their command line,
 * which names the container's namespace file.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../store/atomic.ts';
import type { NetworkAttachment } from '../attachment.ts';
import { type HelperTool, isHelper } from './helper.ts';
import { privateDir, rootlessNetDir } from './netns.ts';

const FILE = 'attachment.json';

function cacheDir(): string {
  return join(rootlessNetDir(), 'attachments');
}

export async function saveRootlessAttachment(att: NetworkAttachment): Promise<void> {
  const text = JSON.stringify(att);
  await writeFileAtomic(join(privateDir(cacheDir()), `${att.containerId}.json`), text, { mode: 0o600 });
  await writeFileAtomic(join(privateDir(att.stateDir), FILE), text, { mode: 0o600 });
}

export function forgetRootlessAttachment(att: NetworkAttachment): void {
  rmSync(join(cacheDir(), `${att.containerId}.json`), { force: true });
  rmSync(att.stateDir, { recursive: true, force: true });
}

/** Every cached rootless attachment, with the path of its record (for its change time). */
export function cachedRootlessAttachments(): Array<{ path: string; att: NetworkAttachment }> {
  let names: string[];
  try {
    names = readdirSync(cacheDir());
  } catch {
    return [];
  }
  const out: Array<{ path: string; att: NetworkAttachment }> = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const path = join(cacheDir(), name);
    try {
      out.push({ path, att: JSON.parse(readFileSync(path, 'utf8')) as NetworkAttachment });
    } catch {
      // being rewritten (atomically), or gone
    }
  }
  return out;
}

/** The live helpers attached to a namespace file, found by their command line in /proc. */
export function helpersOn(netnsPath: string, tool: HelperTool): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && isHelper(pid, tool, netnsPath));
}
