/**
 * Where the container service meets the runtime and the network: everything `start` does
 * to turn a record into a runnable runc bundle, and the calls that act on the live process.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../store/atomic.ts';
import { join } from 'node:path';
import type { Engine } from '../engine.ts';
import { closeFd, hostPathOf, mkdirAllInRoot, openInRoot, openRoot, splitLeaf } from '../sys/in-root.ts';
import { bridgeOf, isPredefinedNetwork } from '../network/records.ts';
import { setupNetwork, teardownNetwork, teardownNetworkDir, type NetworkAttachment } from '../network/index.ts';
import { spawnInPty, type IPty } from '../sys/pty.ts';
import { buildSpec, checkCommand, composeEnv, resolveUser, Runc, RUNC, type RuntimeOptions, type SpecMount } from '../runtime/index.ts';
import { containerPaths } from './paths.ts';
import type { ContainerRecord } from './records.ts';
import type { ContainerMount, PortBinding } from './types.ts';
import { settings } from '../config/index.ts';

export { waitForPidFile } from '../runtime/index.ts';

function runc(engine: Engine): Runc {
  return new Runc(containerPaths(engine, '').runcRoot);
}

function hardLimits(): Record<string, number> {
  // The engine's own hard nofile limit is the ceiling for any container (ENVIRONMENT.md).
  const n = settings().nofileHard;
  return { RLIMIT_NOFILE: n };
}

function userMounts(mounts: readonly ContainerMount[]): SpecMount[] {
  return mounts.map((m) =>
    m.type === 'tmpfs'
      ? { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(m.readonly ? ['ro'] : []), ...(m.options ?? [])] }
      : { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw'] },
  );
}

/**
 * A mount's destination with the image's links resolved inside the rootfs: `VOLUME /data`
 * over `data -> /etc` mounts on the rootfs's /etc, which is also where its copy-up came
 * from. runc resolves destinations the same way (securejoin); doing it here keeps the
 * spec's paths free of links whatever the runtime. A missing destination keeps its
 * resolved parent (runc creates the last component); one under another mount is left to runc.
 */
function inRootDestination(rootFd: number, rootReal: string, dest: string): string {
  const { parent, leaf } = splitLeaf(dest);
  for (const [rel, tail] of [[dest, ''], [parent, leaf ?? '']] as const) {
    let fd: number;
    try {
      fd = openInRoot(rootFd, rel, { followFinal: true });
    } catch {
      continue;
    }
    try {
      const host = hostPathOf(fd);
      const inside = host === rootReal ? '' : host.startsWith(`${rootReal}/`) ? host.slice(rootReal.length) : undefined;
      if (inside !== undefined) return `${inside}${tail ? `/${tail}` : ''}` || '/';
    } finally {
      closeFd(fd);
    }
  }
  return dest;
}

/** A user network's bridge and the names its DNS gives the container: name, short id, aliases. */
function userNetworkOf(engine: Engine, rec: ContainerRecord) {
  if (isPredefinedNetwork(rec.config.network)) return undefined;
  const net = engine.networks.require(rec.config.network);
  return { bridge: bridgeOf(net), gateway: net.gateway, dnsNames: [rec.name, rec.id.slice(0, 12), ...(rec.config.networkAliases ?? [])] };
}

export interface PreparedRuntime {
  readonly state: NetworkAttachment;
  readonly ports: readonly PortBinding[];
  readonly ipAddress?: string;
}

/** Network, /etc files, user, command check, spec: after this `runc run` can start it. */
export async function prepareRuntime(engine: Engine, rec: ContainerRecord, rootfs: string): Promise<PreparedRuntime> {
  const paths = containerPaths(engine, rec.id);
  const c = rec.config;
  const opts = c.runtime as RuntimeOptions;
  const user = await resolveUser(rootfs, c.user, opts.groupAdd ?? []);
  const env = composeEnv(c.env, c.hostname, c.tty, user.home);
  const rootFd = openRoot(rootfs);
  let mounts: SpecMount[];
  try {
    if (c.workdir) closeFd(mkdirAllInRoot(rootFd, c.workdir, 0o755));
    const rootReal = realpathSync(rootfs);
    // A destination under another mount is resolved by runc once that mount is in place.
    const nested = (d: string) => c.mounts.some((o) => o.destination !== d && d.startsWith(`${o.destination.replace(/\/+$/, '')}/`));
    mounts = userMounts(c.mounts).map((m) => (nested(m.destination) ? m : { ...m, destination: inRootDestination(rootFd, rootReal, m.destination) }));
  } finally {
    closeFd(rootFd);
  }
  await checkCommand(rootfs, c.path, env, c.workdir);
  await mkdir(paths.netDir, { recursive: true });
  const net = await setupNetwork({ containerId: rec.id, mode: c.network, publish: c.publish, hostname: c.hostname, stateDir: paths.netDir, userNetwork: userNetworkOf(engine, rec) });
  try {
    const etc: SpecMount[] = [
      { destination: '/etc/resolv.conf', type: 'bind', source: net.resolvConfPath, options: ['rbind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: net.hostnamePath, options: ['rbind', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: net.hostsPath, options: ['rbind', 'rprivate'] },
    ];
    const spec = buildSpec({
      id: rec.id,
      rootfs,
      args: [c.path, ...c.args],
      env: c.env,
      user,
      workdir: c.workdir,
      hostname: c.hostname,
      tty: c.tty,
      mounts: [...etc, ...mounts],
      netns: net.mode === 'host' ? { kind: 'host' } : net.netnsPath ? { kind: 'path', path: net.netnsPath } : { kind: 'new' },
      options: opts,
      hardLimits: hardLimits(),
    });
    await mkdir(paths.bundle, { recursive: true, mode: 0o700 });
    // 0600: the spec holds the container's env (`-e SECRET=...`).
    await writeFileAtomic(join(paths.bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    return { state: net, ports: net.ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol })), ipAddress: net.ipAddress };
  } catch (e) {
    await teardownNetwork(net).catch(() => undefined);
    throw e;
  }
}

/** `runc run` on the slave side of a new pty (node-pty), for a detached `-t` container. */
export async function spawnRuncInPty(engine: Engine, id: string): Promise<IPty> {
  const paths = containerPaths(engine, id);
  return spawnInPty(RUNC, runc(engine).runArgs(id, paths.bundle, { pidFile: paths.pidFile }), { cols: 80, rows: 24, env: process.env as Record<string, string>, encoding: null });
}

export function spawnRunc(engine: Engine, id: string, stdio: StdioOptions): ChildProcess {
  const paths = containerPaths(engine, id);
  return runc(engine).run(id, paths.bundle, { stdio, pidFile: paths.pidFile });
}

/**
 * Releases what a run held: runc's state (unless `runc run` already removed it, as it does
 * when the container exits under it) and the network.
 */
export async function teardownRuntime(engine: Engine, rec: ContainerRecord, opts: { runcGone?: boolean } = {}): Promise<void> {
  if (!opts.runcGone) await runc(engine).delete(rec.id);
  const net = rec.state.network as NetworkAttachment | undefined;
  if (net) {
    await teardownNetwork(net);
    return;
  }
  // A start that crashed before recording its attachment still left state in the net dir.
  const netDir = containerPaths(engine, rec.id).netDir;
  if (await stat(netDir).then(() => true, () => false)) await teardownNetworkDir(netDir);
}

export function runcKill(engine: Engine, id: string, signal: string): Promise<void> {
  return runc(engine).kill(id, signal);
}

export function runcDelete(engine: Engine, id: string): Promise<void> {
  return runc(engine).delete(id);
}

export function runcStatus(engine: Engine, id: string): Promise<string | undefined> {
  return runc(engine).status(id);
}
