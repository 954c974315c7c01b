/**
 * The attachment: everything teardown needs, as plain JSON. It is saved twice, before the
 * first plugin runs and after each step: in the container's state dir (for
 * `teardownNetworkDir`) and in a machine-wide cache keyed by container id, like libcni's
 * result cache, so that a netns left by a crash can be undone even when its state dir is
 * gone. Both live on /run with the namespaces and vanish with them at reboot.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../store/atomic.ts';
import { join } from 'node:path';
import { ATTACHMENTS_DIR } from './bridge.ts';
import type { CniConfList, CniResult } from './cni.ts';
import type { DnsNetwork } from './dns.ts';
import type { PortMapping } from './publish.ts';

export interface NetworkAttachment {
  /** 'bridge', 'none' or 'host' ('default' is stored as 'bridge'). */
  readonly mode: string;
  readonly containerId: string;
  readonly stateDir: string;
  /** Set for every mode but host. */
  readonly netnsName?: string;
  readonly netnsPath?: string;
  readonly ipAddress?: string;
  readonly ipPrefixLength?: number;
  readonly gateway?: string;
  readonly macAddress?: string;
  /** Every mapping resolved: random and ranged host ports are the ones reserved. */
  readonly ports: readonly PortMapping[];
  readonly resolvConfPath: string;
  readonly hostsPath: string;
  readonly hostnamePath: string;
  /** The conflist ADD ran with; DEL and CHECK use it again. */
  readonly cniConfig?: CniConfList;
  /** The cached result of ADD: the prevResult of CHECK and DEL. */
  readonly cniResult?: CniResult;
  /** On a user network: where the container's DNS entry is. */
  readonly dns?: DnsNetwork;
  /** Rootless mode: the helper that carries the namespace's traffic, stopped by its pid (network/rootless/). */
  readonly rootless?: { readonly tool: 'slirp4netns' | 'pasta'; readonly pid?: number; readonly apiSocket?: string };
  /** Saved before the netns was made (setupNetwork): nothing of it may exist yet. */
  readonly pending?: boolean;
}

const FILE = 'attachment.json';

export async function saveAttachment(att: NetworkAttachment): Promise<void> {
  const text = JSON.stringify(att);
  await mkdir(ATTACHMENTS_DIR, { recursive: true });
  await writeFileAtomic(join(ATTACHMENTS_DIR, `${att.containerId}.json`), text);
  await writeFileAtomic(join(att.stateDir, FILE), text);
}

/** The machine-wide copy only, unless one is there already (see setupNetwork). */
export async function saveCachedAttachmentIfNone(att: NetworkAttachment): Promise<void> {
  const path = join(ATTACHMENTS_DIR, `${att.containerId}.json`);
  if (existsSync(path)) return;
  await mkdir(ATTACHMENTS_DIR, { recursive: true });
  await writeFileAtomic(path, JSON.stringify(att));
}

async function load(path: string): Promise<NetworkAttachment | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  try {
    return text ? (JSON.parse(text) as NetworkAttachment) : undefined;
  } catch {
    return undefined;
  }
}

/** The attachment saved in a container's network dir, if setup got as far as writing it. */
export function loadAttachment(stateDir: string): Promise<NetworkAttachment | undefined> {
  return load(join(stateDir, FILE));
}

export function loadCachedAttachment(containerId: string): Promise<NetworkAttachment | undefined> {
  return load(join(ATTACHMENTS_DIR, `${containerId}.json`));
}

/** Removes the record and the state dir: a few small files on the run dir's tmpfs, in line. */
export async function forgetAttachment(att: NetworkAttachment): Promise<void> {
  rmSync(join(ATTACHMENTS_DIR, `${att.containerId}.json`), { force: true });
  rmSync(att.stateDir, { recursive: true, force: true });
}
