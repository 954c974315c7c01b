/**
 * The IPC and PID namespaces a container gets (`--ipc`, `--pid`), its /dev/shm, and the
 * namespaced sysctls it may set (`--sysctl`), as docker has them.
 *
 * `--ipc`: `private` (docker's default) and `shareable` get a namespace of their own; another
 * container may join a shareable one's (`container:NAME`); `host` shares the host's, and its
 * /dev/shm; `none` is private with no /dev/shm at all. `--pid`: private (''), `host`, or
 * `container:NAME`. A `container:NAME` mode is resolved at each start to the target's
 * namespace path (/proc/PID/ns/…, container/namespaces.ts) and passed as `joinNamespaces`.
 */
import { BerthError } from '../errors/index.ts';
import type { SpecMount } from './defaults.ts';

export type NetNamespace = { kind: 'new' } | { kind: 'host' } | { kind: 'path'; path: string };

/** The runtime options of this file (part of RuntimeOptions). */
export interface NamespaceOptions {
  /** `--ipc`: private (docker's default), shareable, host, none or container:NAME. */
  readonly ipcMode?: string;
  /** `--pid`: '' (a namespace of its own), host or container:NAME. */
  readonly pidMode?: string;
  /**
   * Resolved at each start, never recorded: the namespaces a `container:NAME` mode joins, and
   * the host-side tmpfs that is /dev/shm for a shareable container and those that join it.
   */
  readonly joinNamespaces?: { readonly ipc?: string; readonly pid?: string; readonly shm?: string };
  /** `--sysctl`: the namespaced kernel parameters this file allows. */
  readonly sysctls?: Readonly<Record<string, string>>;
}

export const IPC_MODES = ['private', 'shareable', 'host', 'none'] as const;

/** The target of a `container:NAME` mode, or undefined for any other. */
export function joinedContainer(mode: string | undefined): string | undefined {
  return mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/** `--ipc`'s value, refused with docker's words when it is none of its modes. */
export function checkIpcMode(mode: string | undefined): void {
  if (mode === undefined || mode === '' || (IPC_MODES as readonly string[]).includes(mode)) return;
  if (joinedContainer(mode)) return;
  throw new BerthError('INVALID_ARGUMENT', `Invalid IPC mode: ${mode}`, { hint: `use ${IPC_MODES.join(', ')} or container:NAME` });
}

/** `--pid`'s value: '', host or container:NAME (docker's CLI refuses anything else itself). */
export function checkPidMode(mode: string | undefined): void {
  if (mode === undefined || mode === '' || mode === 'host' || joinedContainer(mode)) return;
  throw new BerthError('INVALID_ARGUMENT', '--pid: invalid PID mode', { hint: 'use host or container:NAME' });
}

/** The namespaces runc makes or joins for a container. */
export function containerNamespaces(o: NamespaceOptions, netns: NetNamespace): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const join = o.joinNamespaces ?? {};
  if (o.pidMode !== 'host') out.push(join.pid ? { type: 'pid', path: join.pid } : { type: 'pid' });
  if (o.ipcMode !== 'host') out.push(join.ipc ? { type: 'ipc', path: join.ipc } : { type: 'ipc' });
  out.push({ type: 'uts' }, { type: 'mount' });
  if (netns.kind === 'new') out.push({ type: 'network' });
  if (netns.kind === 'path') out.push({ type: 'network', path: netns.path });
  return out;
}

/**
 * The mounts with /dev/shm as the IPC mode wants it: the host's own for `host` (as docker
 * binds it), none for `none`, the shared host-side tmpfs for a shareable container and its
 * joiners, the sized tmpfs otherwise.
 */
export function withIpcShm(mounts: readonly SpecMount[], o: NamespaceOptions): SpecMount[] {
  if (o.ipcMode === 'none') return mounts.filter((m) => m.destination !== '/dev/shm');
  const source = o.ipcMode === 'host' ? '/dev/shm' : o.joinNamespaces?.shm;
  if (!source) return [...mounts];
  return mounts.map((m) => (m.destination === '/dev/shm' ? { destination: '/dev/shm', type: 'bind', source, options: ['rbind', 'rprivate'] } : m));
}

/** The IPC sysctls docker allows by name; `fs.mqueue.` and `net.` are allowed by prefix. */
const IPC_SYSCTLS = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
];

function isIpcSysctl(key: string): boolean {
  return IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.');
}

/** One `--sysctl KEY=VALUE`, refused with docker's words when KEY is not a namespaced one it allows. */
export function parseSysctl(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  if (eq < 0 || !(isIpcSysctl(key) || key.startsWith('net.'))) {
    throw new BerthError('INVALID_ARGUMENT', `invalid argument "${spec}" for "--sysctl" flag: sysctl '${spec}' is not allowed`, {
      hint: `only namespaced sysctls can be set: ${IPC_SYSCTLS.join(', ')}, fs.mqueue.* and net.*`,
    });
  }
  return [key, spec.slice(eq + 1)];
}

/**
 * The sysctls, checked against the namespaces the container gets: a `net.` one needs a
 * network namespace of its own, an IPC one an IPC namespace that is not the host's (runc's
 * words, which docker shows). `network` is the container's network mode.
 */
export function checkSysctls(sysctls: Readonly<Record<string, string>> | undefined, o: { network: string; ipcMode?: string }): void {
  for (const key of Object.keys(sysctls ?? {})) {
    parseSysctl(`${key}=`);
    if (key.startsWith('net.') && o.network === 'host') {
      throw new BerthError('INVALID_ARGUMENT', `sysctl "${key}" not allowed in host network namespace`, {
        hint: 'a net.* sysctl needs a network namespace of its own: drop --network host',
      });
    }
    if (isIpcSysctl(key) && o.ipcMode === 'host') {
      throw new BerthError('INVALID_ARGUMENT', `sysctl "${key}" is not allowed in the hosts ipc namespace`, {
        hint: 'an IPC sysctl needs an IPC namespace of its own: drop --ipc host',
      });
    }
  }
}

/** The spec's `linux.sysctl`, checked against the network namespace it goes into. */
export function specSysctls(o: NamespaceOptions, netns: NetNamespace): { sysctl?: Record<string, string> } {
  if (!o.sysctls || !Object.keys(o.sysctls).length) return {};
  checkSysctls(o.sysctls, { network: netns.kind === 'host' ? 'host' : 'private', ipcMode: o.ipcMode });
  return { sysctl: { ...o.sysctls } };
}
