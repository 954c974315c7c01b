/**
 * Where the container service meets the executor (runtime/executor.ts) and the network:
 * what `start` does to turn a record into a bundle, the start itself, and the calls that
 * act on the live process.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cdiInjectionFor } from '../cdi/index.ts';
import type { NetworkRecords } from '../network/records.ts';
import { closeFd, mkdirAllInRoot, openRoot } from '../sys/in-root.ts';
import type { StdioKind } from '../sys/spawn.ts';
import { bridgeOf, isPredefinedNetwork } from '../network/records.ts';
import { DEFAULT_BRIDGE, setupNetwork, subnetGateway, teardownNetwork, teardownNetworkDir, type NetworkAttachment } from '../network/index.ts';
import { HOST_GATEWAY, splitExtraHost } from './run-config.ts';
import {
  checkCommand,
  composeEnv,
  Executor,
  resolveUser,
  runtimeBinary,
  type RunningContainer,
  type RuntimeOptions,
  type SpecMount,
} from '../runtime/index.ts';
import { attachSocketPath } from './attach.ts';
import { containerPaths, type ContainerRoots } from './paths.ts';

/** What the runtime calls use: the state and run roots, and the user networks a container joins. */
export type RuntimeDeps = ContainerRoots & { readonly networks: NetworkRecords };
import type { ContainerRecord, ContainerRecords } from './records.ts';
import { mountSharedShm, namespacesToJoin, unmountSharedShm } from './namespaces.ts';
import type { ContainerMount, PortBinding } from './types.ts';
import { settings } from '../config/index.ts';

/** `runtime`: the binary that starts the container (runc unless `--runtime` named another). */
function executor(engine: RuntimeDeps, runtime?: string): Executor {
  return new Executor(containerPaths(engine, '').runcRoot, runtime);
}

function hardLimits(): Record<string, number> {
  // The engine's own hard nofile limit is the ceiling for any container (ENVIRONMENT.md).
  const n = settings().nofileHard;
  return { RLIMIT_NOFILE: n };
}

function userMounts(mounts: readonly ContainerMount[]): SpecMount[] {
  return mounts.map((m) =>
    m.type === 'tmpfs'
      ? {
          destination: m.destination,
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'nodev', 'noexec', ...(m.readonly ? ['ro'] : []), ...(m.options ?? [])],
        }
      : { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw'] },
  );
}

/** A user network's bridge and the names its DNS gives the container: name, short id, aliases. */
function userNetworkOf(engine: RuntimeDeps, rec: ContainerRecord) {
  if (isPredefinedNetwork(rec.config.network)) return undefined;
  const net = engine.networks.require(rec.config.network);
  return { bridge: bridgeOf(net), gateway: net.gateway, dnsNames: [rec.name, rec.id.slice(0, 12), ...(rec.config.networkAliases ?? [])] };
}

/** `--add-host` entries, `host-gateway` as the default bridge's gateway (where the host answers containers), as docker has it. */
function extraHostsOf(entries: readonly string[]): Array<{ name: string; ip: string }> {
  return entries.map((e) => {
    const { name, ip } = splitExtraHost(e);
    return { name, ip: ip === HOST_GATEWAY ? subnetGateway(DEFAULT_BRIDGE.subnet) : ip };
  });
}

export interface PreparedRuntime {
  readonly state: NetworkAttachment;
  readonly ports: readonly PortBinding[];
  readonly ipAddress?: string;
}

/** Network, /etc files, user, command check, bundle: after this the executor can start it. */
export async function prepareRuntime(
  engine: RuntimeDeps & { readonly containers: ContainerRecords },
  rec: ContainerRecord,
  rootfs: string,
): Promise<PreparedRuntime> {
  const paths = containerPaths(engine, rec.id);
  const c = rec.config;
  const joined = namespacesToJoin(engine, engine.containers, rec);
  const ownShm = await mountSharedShm(engine, rec);
  const opts: RuntimeOptions = { ...(c.runtime as RuntimeOptions), joinNamespaces: { ...joined, ...(ownShm ? { shm: ownShm } : {}) } };
  const user = await resolveUser(rootfs, c.user, opts.groupAdd ?? []);
  const env = composeEnv(c.env, c.hostname, c.tty, user.home);
  if (c.workdir) {
    const rootFd = openRoot(rootfs);
    try {
      closeFd(mkdirAllInRoot(rootFd, c.workdir, 0o755));
    } finally {
      closeFd(rootFd);
    }
  }
  await checkCommand(rootfs, c.path, env, c.workdir);
  const cdi = await cdiInjectionFor(opts);
  await mkdir(paths.netDir, { recursive: true });
  const net = await setupNetwork({
    containerId: rec.id,
    mode: c.network,
    publish: c.publish,
    hostname: c.hostname,
    stateDir: paths.netDir,
    userNetwork: userNetworkOf(engine, rec),
    extraHosts: extraHostsOf(c.extraHosts ?? []),
    dns: c.dns,
    dnsSearch: c.dnsSearch,
    dnsOptions: c.dnsOptions,
  });
  try {
    executor(engine).writeBundle({
      id: rec.id,
      rootfs,
      bundle: paths.bundle,
      hostname: c.hostname,
      process: { args: [c.path, ...c.args], env: c.env, cwd: c.workdir, user, tty: c.tty },
      mounts: userMounts(c.mounts),
      network: net,
      options: opts,
      hardLimits: hardLimits(),
      cdi,
    });
    return {
      state: net,
      ports: net.ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol })),
      ipAddress: net.ipAddress,
    };
  } catch (e) {
    await teardownNetwork(net).catch(() => undefined);
    throw e;
  }
}

/**
 * Starts a prepared container: on `stdio` (runc proxies a pty on an inherited terminal for
 * `-t`), or, with `terminal`, on a pty whose master this process holds (a detached `-t`
 * container's monitor, which becomes the container's parent: runtime/executor.ts).
 */
export function startRuntime(
  engine: RuntimeDeps,
  id: string,
  io: { stdio: readonly [StdioKind, StdioKind, StdioKind] } | { terminal: true },
  ociRuntime?: string,
): Promise<RunningContainer> {
  const paths = containerPaths(engine, id);
  const consoleSocket = join(dirname(attachSocketPath(engine, id)), `${id.slice(0, 12)}.console.sock`);
  return executor(engine, runtimeBinary(ociRuntime)).start(
    id,
    paths.bundle,
    'stdio' in io ? { stdio: io.stdio, pidFile: paths.pidFile } : { consoleSocket, pidFile: paths.pidFile },
  );
}

/**
 * Releases what a run held: runc's state (unless `runc run` already removed it, as it does
 * when the container exits under it) and the network.
 */
export async function teardownRuntime(engine: RuntimeDeps, rec: ContainerRecord, opts: { runcGone?: boolean } = {}): Promise<void> {
  if (!opts.runcGone) await executor(engine).delete(rec.id);
  await unmountSharedShm(engine, rec).catch(() => undefined);
  const net = rec.state.network as NetworkAttachment | undefined;
  if (net) {
    await teardownNetwork(net);
    return;
  }
  // A start that crashed before recording its attachment still left state in the net dir.
  const netDir = containerPaths(engine, rec.id).netDir;
  if (
    await stat(netDir).then(
      () => true,
      () => false,
    )
  )
    await teardownNetworkDir(netDir);
}

/**
 * The OCI runtime binary of a container (`--runtime`; runc when it named none): docker runs
 * every command on a container through the runtime that created it, and so does berth.
 */
export function runtimeOf(rec: Pick<ContainerRecord, 'config'>): string | undefined {
  const name = (rec.config.runtime as RuntimeOptions).ociRuntime;
  return name === undefined ? undefined : runtimeBinary(name);
}

export function runcKill(engine: RuntimeDeps, rec: ContainerRecord, signal: string): Promise<void> {
  return executor(engine, runtimeOf(rec)).kill(rec.id, signal);
}

export function runcDelete(engine: RuntimeDeps, rec: ContainerRecord): Promise<void> {
  return executor(engine, runtimeOf(rec)).delete(rec.id);
}

export function runcStatus(engine: RuntimeDeps, rec: ContainerRecord): Promise<string | undefined> {
  return executor(engine, runtimeOf(rec)).status(rec.id);
}
