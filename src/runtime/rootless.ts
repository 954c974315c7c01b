/**
 * What an OCI spec may ask for in an ordinary user's namespace, as rootless Podman decides
 * it. runc sees that it runs in a user namespace and uses its rootless cgroup manager, which
 * passes over a cgroup it may not create only when the spec names no cgroup path and no
 * limit. So without a cgroup subtree delegated to the user (cgroup v2 with systemd's
 * Delegate=yes), the spec names neither, and limits the user asked for are dropped with a
 * warning, not a failure. sysfs, proc and mqueue may be mounted only in a network, pid or ipc
 * namespace the user's namespace owns: a container given the host's gets the host's bound.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { BerthError } from '../errors/index.ts';
import { isRootless } from '../sys/rootless.ts';

/** Podman's words for the same case. */
export const CGROUP_LIMITS_IGNORED = 'WARNING: Resource limits are not supported and ignored on cgroups V1 rootless systems';

let delegated: boolean | undefined;

/**
 * Whether this process's cgroup is a cgroup v2 dir the user may write (systemd delegated it),
 * so runc can make children with limits there. Hybrid and v1 machines have none.
 */
export function delegatedCgroup(): boolean {
  if (delegated !== undefined) return delegated;
  delegated = false;
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (!line || statSync('/sys/fs/cgroup/cgroup.controllers', { throwIfNoEntry: false }) === undefined) return false;
    const dir = `/sys/fs/cgroup${line.slice(3)}`;
    // Inside the user's namespace uid 0 is the user: a dir the user owns reads as owned by 0.
    delegated = statSync(`${dir}/cgroup.procs`).uid === 0 && statSync(`${dir}/cgroup.subtree_control`).uid === 0;
  } catch {
    delegated = false;
  }
  return delegated;
}

/** Whether asking for `resources` limits is one the rootless runtime drops: the case for the warning. */
export function limitsIgnored(resources: Record<string, unknown>): boolean {
  return isRootless() && !delegatedCgroup() && Object.keys(resources).some((k) => k !== 'devices');
}

function ownOomScoreAdj(): number {
  try {
    return Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

interface Spec {
  process: { oomScoreAdj?: number };
  mounts: Array<{ destination: string; type?: string; source?: string; options?: string[] }>;
  linux: { resources?: Record<string, unknown>; cgroupsPath?: string; namespaces: Array<{ type: string; path?: string }> };
}

/** The spec `spec` becomes in an ordinary user's namespace (see the module's comment). */
export function rootlessSpec<T extends Record<string, unknown>>(spec: T): T {
  if (!isRootless()) return spec;
  const s = spec as unknown as Spec;
  if (!delegatedCgroup()) {
    delete s.linux.cgroupsPath;
    delete s.linux.resources;
  }
  // A score below this process's own is refused: it is raised to that, as rootless Podman does.
  const own = ownOomScoreAdj();
  if (s.process.oomScoreAdj !== undefined && s.process.oomScoreAdj < own) s.process.oomScoreAdj = own;
  // proc and mqueue may be mounted only in a pid or ipc namespace the user's namespace owns:
  // with the host's (--pid host, --ipc host), the host's are bound instead.
  const has = (type: string) => s.linux.namespaces.some((n) => n.type === type);
  const bindHost = (type: string, source: string) => {
    s.mounts = s.mounts.map((m) =>
      m.type === type ? { destination: m.destination, type: 'bind', source, options: ['rbind', 'nosuid', 'noexec', 'nodev'] } : m,
    );
  };
  if (!has('pid')) bindHost('proc', '/proc');
  if (!has('ipc')) {
    if (existsSync('/dev/mqueue')) bindHost('mqueue', '/dev/mqueue');
    else s.mounts = s.mounts.filter((m) => m.type !== 'mqueue');
  }
  const ownNet = s.linux.namespaces.some((n) => n.type === 'network' && !n.path);
  if (!ownNet) {
    s.mounts = s.mounts.map((m) =>
      m.type === 'sysfs' ? { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m,
    );
    // cgroup v1's hierarchies come with the host's /sys: its own cgroup mount is refused there.
    s.mounts = s.mounts.filter((m) => m.type !== 'cgroup');
  }
  return spec;
}

/** Refuses `verb` (pause, update), which needs the container's cgroup, where rootless berth has none. */
export function requireCgroup(verb: string): void {
  if (!isRootless() || delegatedCgroup()) return;
  throw new BerthError('UNSUPPORTED', `${verb} is not supported for rootless containers without a delegated cgroup`, {
    hint: 'on cgroup v2, systemd delegates one to the user (Delegate=yes in user@.service); or run it as root',
  });
}
