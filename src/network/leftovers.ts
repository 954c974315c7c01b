/**
 * Network state a crash leaves: the attachment (and so the netns, CNI rules and IP lease) of a
 * container or build step that no longer exists, and host-local IP leases whose owner has no
 * attachment at all. Listed for `system check`, undone by `system prune`.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readTextOr, lstatOrUndefined } from '../sys/quiet-fs.ts';
import { ATTACHMENTS_DIR, IPAM_DIR } from './bridge.ts';
import type { NetworkAttachment } from './attachment.ts';
import { teardownNetwork } from './index.ts';
import { NETNS_DIR, netnsNameFor } from './netns.ts';
import { cachedRootlessAttachments } from './rootless/attachment.ts';

export interface NetworkLeftover {
  readonly what: string;
  remove(): Promise<void>;
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function ownerLabel(att: NetworkAttachment): string {
  return att.containerId.startsWith('build-') ? `build step ${att.containerId.replace(/0+$/, '')}` : `container ${att.containerId.slice(0, 12)}`;
}

/**
 * `owned(containerId, changedMs)` says whether an attachment made under `runRoot` still has
 * an owner (a container record, or a live process's lease covering its last change).
 * Attachments of other state roots are theirs to judge.
 */
export function networkLeftovers(runRoot: string, owned: (containerId: string, changedMs: number) => boolean): NetworkLeftover[] {
  const out: NetworkLeftover[] = [];
  const attached = new Set<string>();
  for (const name of names(ATTACHMENTS_DIR)) {
    if (!name.endsWith('.json')) continue;
    const path = join(ATTACHMENTS_DIR, name);
    attached.add(name.slice(0, -5));
    const st = lstatOrUndefined(path);
    let att: NetworkAttachment;
    try {
      att = JSON.parse(readTextOr(path, '')) as NetworkAttachment;
    } catch {
      continue; // being rewritten (atomically) or not ours
    }
    if (!st || !att.stateDir?.startsWith(`${runRoot}/`)) continue;
    if (owned(att.containerId, Math.max(st.ctimeMs, st.mtimeMs))) continue;
    out.push({
      what: `network of ${ownerLabel(att)} that no longer exists${att.netnsName ? ` (netns ${att.netnsName})` : ''}`,
      remove: async () => {
        const { warnings } = await teardownNetwork(att);
        if (att.netnsName && lstatOrUndefined(`${NETNS_DIR}/${att.netnsName}`)) throw new Error(warnings.join('; ') || `netns ${att.netnsName} is still there`);
      },
    });
  }
  // Rootless attachments are cached under the user's dir: their helper and namespace go together.
  for (const { path, att } of cachedRootlessAttachments()) {
    const st = lstatOrUndefined(path);
    if (!st || !att.stateDir?.startsWith(`${runRoot}/`) || owned(att.containerId, Math.max(st.ctimeMs, st.mtimeMs))) continue;
    const helper = att.rootless?.pid ? ` (${att.rootless.tool} pid ${att.rootless.pid})` : '';
    out.push({
      what: `network of ${ownerLabel(att)} that no longer exists${helper}`,
      remove: async () => {
        const { warnings } = await teardownNetwork(att);
        if (warnings.length) throw new Error(warnings.join('; '));
      },
    });
  }
  for (const net of names(IPAM_DIR)) {
    for (const ip of names(join(IPAM_DIR, net))) {
      if (!/^[0-9.]+$|^[0-9a-f:]+$/.test(ip) || !/[.:]/.test(ip)) continue;
      const path = join(IPAM_DIR, net, ip);
      const owner = readTextOr(path, '').split(/\r?\n/)[0] ?? '';
      // host-local writes the lease after the attachment is saved, and DEL removes it before
      // the attachment goes: a lease whose owner has neither an attachment nor a netns is
      // nobody's. (With the netns still there, the next setup of that id clears it.)
      if (!owner || attached.has(owner) || lstatOrUndefined(join(ATTACHMENTS_DIR, `${owner}.json`)) || lstatOrUndefined(`${NETNS_DIR}/${netnsNameFor(owner)}`))
        continue;
      out.push({
        what: `IP address ${ip} on ${net} leased to ${owner.slice(0, 12)}, which no longer exists`,
        remove: async () => rmSync(path, { force: true }),
      });
    }
  }
  return out;
}
