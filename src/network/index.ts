/**
 * Container networking. `setupNetwork` prepares a network namespace before runc starts the
 * container; `teardownNetwork` undoes it after the container is gone. The modes:
 *
 * - `bridge` (also `default`): a named netns (`/run/netns/berth-<id12>`, see netns.ts) wired
 *   by the standard CNI plugins exactly as a conflist would: bridge + host-local → portmap
 *   (with -p only; bridge and host-local's part done in process where it can: veth.ts), with `lo` up (netns.ts brings it up as it makes the namespace;
 *   without berth's addon, the loopback plugin does, beside the conflist); masquerading and
 *   forwarding are the bridge's own rules (bridge.ts).
 * - `none`: no netns of berth's: runc makes a fresh one for the container, and runc brings
 *   its `lo` up when it creates the namespace itself. That saves three helper processes
 *   (`ip netns add`, the loopback plugin, `ip netns del`) on every start, and the namespace
 *   goes away with the container's last process, so there is nothing to tear down.
 * - `host`: no netns; the container gets copies of the host's /etc/hosts and resolv.conf.
 *
 * The attachment returned is plain JSON, saved with the container so that any process (the
 * CLI, the monitor, a later `rm`) can tear it down; it carries the conflist used for ADD,
 * so DEL runs with the same configuration whatever the environment is by then. The
 * machine-wide copy is saved before the netns is made, and both before the first plugin runs
 * (attachment.ts), so a setup that crashed half-way is undone by `teardownNetworkDir`, by
 * `system prune` (leftovers.ts), or by the next setup of the same container id, which finds
 * the stale netns. Teardown never throws: it reports what it could not undo.
 *
 * Machine-wide state (IP leases, host port reservations, attachment cache) lives under
 * /run/berth (BERTH_NET_DIR), shared by every berth state root: they share one bridge.
 *
 * Rootless (sys/rootless.ts), `bridge` is a namespace of the container's own joined to the
 * outside by slirp4netns or pasta instead (rootless/); none and host are as above.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { forgetAttachment, loadAttachment, loadCachedAttachment, saveAttachment, saveCachedAttachmentIfNone, type NetworkAttachment } from './attachment.ts';
import {
  bridgeConfList,
  DEFAULT_BRIDGE,
  type BridgeNetwork,
  enableForwarding,
  enableLocalnetRouting,
  ensureBridgeRules,
  leasedAddresses,
  PORTS_DIR,
} from './bridge.ts';
import { checkNetwork as cniCheck, CNI_VERSION, runPlugin, type CniInvocation, type CniResult } from './cni.ts';
import { addNetwork, delNetwork } from './veth.ts';
import { writeEtcFiles, type DnsOptions } from './files.ts';
import { addDnsEntry, removeDnsEntry } from './dns.ts';
import { createNetns, deleteNetns, type MadeNetns, netnsNameFor, netnsPathFor, NETNS_DIR } from './netns.ts';
import { allocatePorts, ownedPorts, releaseAll } from './ports.ts';
import { parsePublish, type PortMapping } from './publish.ts';
import { checkRootlessNetwork, rootlessUserNetworkError, setupRootlessNetwork, teardownRootlessNetwork } from './rootless/index.ts';
import { isRootless } from '../sys/rootless.ts';

export { parsePublish, formatPortMapping, type PortMapping, type PortProtocol } from './publish.ts';
export { containerHosts, containerResolvConf, subnetGateway, type DnsOptions } from './files.ts';
export { netnsNameFor, netnsPathFor } from './netns.ts';
export { DEFAULT_BRIDGE } from './bridge.ts';
export { loadAttachment, type NetworkAttachment } from './attachment.ts';

export interface SetupOptions extends DnsOptions {
  readonly containerId: string;
  readonly mode: string;
  /** Parsed mappings, or `-p` strings as the user typed them. */
  readonly publish: ReadonlyArray<PortMapping | string>;
  readonly hostname: string;
  /** The container's network dir (e.g. <runRoot>/net/<id12>): etc files and attachment.json. */
  readonly stateDir: string;
  readonly extraHosts?: ReadonlyArray<{ readonly name: string; readonly ip: string }>;
  /** A user-defined network (`mode` is then its name): its bridge, and the names DNS gives the container. */
  readonly userNetwork?: { readonly bridge: BridgeNetwork; readonly gateway: string; readonly dnsNames: readonly string[] };
}

export interface TeardownResult {
  /** What could not be undone; teardown itself never throws, so `rm` after a crash always works. */
  readonly warnings: readonly string[];
}

function normalizeMode(mode: string, user: boolean): string {
  if (user) return mode;
  const m = mode === 'default' || mode === '' ? 'bridge' : mode;
  if (m === 'bridge' || m === 'none' || m === 'host') return m;
  throw new BerthError('NOT_FOUND', `network ${mode} not found`, { hint: 'use --network bridge, host or none' });
}

function mappingsOf(publish: SetupOptions['publish']): PortMapping[] {
  return publish.flatMap((p) => (typeof p === 'string' ? parsePublish(p) : [p]));
}

/** An unspecified host address (Docker prints 0.0.0.0) means every address: portmap wants no hostIP then. */
function cniPortMappings(ports: readonly PortMapping[]): Array<Record<string, unknown>> {
  const anyAddress = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::';
  return ports.map((p) => ({
    hostPort: p.hostPort,
    containerPort: p.containerPort,
    protocol: p.protocol,
    ...(anyAddress(p.hostIp) ? {} : { hostIP: p.hostIp }),
  }));
}

/**
 * portmap's DEL does nothing without mappings, but removes the container's chains whatever
 * the mappings say: add the ports the reservation files hold, so a crash between reserving
 * and recording still gets its rules removed.
 */
async function portmapArgs(ports: readonly PortMapping[], containerId: string): Promise<Array<Record<string, unknown>>> {
  const owned = await ownedPorts(PORTS_DIR, containerId);
  const extra = owned.filter((o) => !ports.some((p) => p.protocol === o.protocol && p.hostPort === o.hostPort));
  return [...cniPortMappings(ports), ...extra.map((o) => ({ hostPort: o.hostPort, containerPort: o.hostPort, protocol: o.protocol }))];
}

function eth0(att: { containerId: string; netnsPath: string }): CniInvocation {
  return { containerId: att.containerId, netns: att.netnsPath, ifName: 'eth0' };
}

/** The container's address, prefix, gateway and MAC from a CNI 1.0 result. */
function addressOf(result: CniResult, netnsPath: string): Pick<NetworkAttachment, 'ipAddress' | 'ipPrefixLength' | 'gateway' | 'macAddress'> {
  const interfaces = (result.interfaces ?? []) as Array<{ name?: string; mac?: string; sandbox?: string }>;
  const ips = (result.ips ?? []) as Array<{ interface?: number; address: string; gateway?: string }>;
  const ip = ips.find((i) => i.interface === undefined || interfaces[i.interface]?.sandbox === netnsPath) ?? ips[0];
  const iface = interfaces.find((i) => i.sandbox === netnsPath && i.name === 'eth0');
  const [address, prefix] = (ip?.address ?? '').split('/');
  return { ipAddress: address || undefined, ipPrefixLength: prefix ? Number(prefix) : undefined, gateway: ip?.gateway, macAddress: iface?.mac };
}

/** A netns of the same name from an earlier run that was never torn down (a crash): undo it first. */
async function clearStale(containerId: string, stateDir: string, netnsName: string, net: BridgeNetwork): Promise<void> {
  const saved = (await loadAttachment(stateDir)) ?? (await loadCachedAttachment(containerId));
  // A pending record may be this setup's own (it is written before the netns is made).
  if (saved && saved.netnsName === netnsName && !saved.pending) {
    await teardownNetwork(saved);
    return;
  }
  // Nothing recorded: rebuild the cached result from the leases and reservations left behind.
  const netnsPath = `${NETNS_DIR}/${netnsName}`;
  const addresses = await leasedAddresses(net, containerId);
  const cached = { cniVersion: CNI_VERSION, interfaces: [{ name: 'eth0', sandbox: netnsPath }], ips: addresses.map((address) => ({ address, interface: 0 })) };
  await delNetwork(bridgeConfList(net), eth0({ containerId, netnsPath }), { portMappings: await portmapArgs([], containerId) }, cached);
  await deleteNetns(netnsName);
  await releaseAll(PORTS_DIR, containerId);
}

async function createNamespace(containerId: string, stateDir: string, net: BridgeNetwork): Promise<{ netnsName: string; made: MadeNetns }> {
  const netnsName = netnsNameFor(containerId);
  try {
    return { netnsName, made: await createNetns(netnsName) };
  } catch (e) {
    if (!(e instanceof BerthError && e.code === 'ALREADY_EXISTS')) throw e;
    await clearStale(containerId, stateDir, netnsName, net);
    return { netnsName, made: await createNetns(netnsName) };
  }
}

async function bringUpLoopback(containerId: string, netnsPath: string): Promise<void> {
  await runPlugin('loopback', { cniVersion: CNI_VERSION, name: 'lo', type: 'loopback' }, 'ADD', { containerId, netns: netnsPath, ifName: 'lo' });
}

export async function setupNetwork(opts: SetupOptions): Promise<NetworkAttachment> {
  const mode = normalizeMode(opts.mode, !!opts.userNetwork);
  const requested = mappingsOf(opts.publish);
  if (mode === 'none' && requested.length) {
    throw new BerthError('INVALID_ARGUMENT', 'conflicting options: port publishing and the container type network mode', {
      hint: 'drop -p, or use --network bridge',
    });
  }
  const etc = { hostname: opts.hostname, extraHosts: opts.extraHosts, dns: opts.dns, dnsSearch: opts.dnsSearch, dnsOptions: opts.dnsOptions };
  if (mode === 'host' || mode === 'none') {
    mkdirSync(opts.stateDir, { recursive: true }); // in line, as the files in it are written
    // Docker discards -p with the host network: the container's ports are the host's already.
    // With none the netns is runc's (no path here), so teardown only removes the state dir.
    const files = await writeEtcFiles(opts.stateDir, { mode, ...etc });
    return { mode, containerId: opts.containerId, stateDir: opts.stateDir, ports: [], ...files };
  }
  if (isRootless()) {
    if (opts.userNetwork) throw rootlessUserNetworkError();
    return setupRootlessNetwork(opts, requested);
  }
  const net = opts.userNetwork?.bridge ?? DEFAULT_BRIDGE;
  const cniConfig = bridgeConfList(net, { portmap: requested.length > 0 });
  await enableForwarding();
  await ensureBridgeRules(net);
  const files = { hostsPath: join(opts.stateDir, 'hosts'), resolvConfPath: join(opts.stateDir, 'resolv.conf'), hostnamePath: join(opts.stateDir, 'hostname') };
  const pending: NetworkAttachment = {
    mode,
    containerId: opts.containerId,
    stateDir: opts.stateDir,
    netnsName: netnsNameFor(opts.containerId),
    netnsPath: netnsPathFor(opts.containerId),
    ports: [],
    cniConfig,
    ...files,
  };
  // Recorded before the netns exists, so that a crash right after `ip netns add` leaves a
  // record that `system prune` undoes (network/leftovers.ts). A record there already is a
  // stale run's, which createNamespace needs as it is.
  await saveCachedAttachmentIfNone({ ...pending, pending: true });
  const { netnsName, made } = await createNamespace(opts.containerId, opts.stateDir, net);
  const netnsPath = made.path;
  let att: NetworkAttachment = { ...pending, netnsName, netnsPath };
  try {
    await mkdir(opts.stateDir, { recursive: true }); // only now: clearing a stale run removes the dir
    await saveAttachment(att);
    if (requested.length) {
      att = { ...att, ports: await allocatePorts(PORTS_DIR, opts.containerId, requested) };
      await saveAttachment(att);
    }
    // lo (unless the namespace came with it up: netns.ts) and eth0 are independent: brought up
    // side by side (as containerd's go-cni attaches networks), and both settled before a
    // failure tears down what either made.
    const [lo, added] = await Promise.allSettled([
      made.loopbackUp ? Promise.resolve() : bringUpLoopback(opts.containerId, netnsPath),
      addNetwork(cniConfig, eth0(att as { containerId: string; netnsPath: string }), { portMappings: cniPortMappings(att.ports) }),
    ]);
    if (lo.status === 'rejected') throw lo.reason;
    if (added.status === 'rejected') throw added.reason;
    const cniResult = added.value;
    att = { ...att, cniResult, ...addressOf(cniResult, netnsPath) };
    await saveAttachment(att);
    await enableLocalnetRouting(net.bridge);
    const user = opts.userNetwork;
    const ip = att.ipAddress;
    if (user && ip) {
      const dnsNet = { bridge: net.bridge, gateway: user.gateway };
      att = { ...att, dns: dnsNet };
      await saveAttachment(att);
      await addDnsEntry(dnsNet, opts.containerId, ip, user.dnsNames);
    }
    // On a user network the gateway's DNS server answers container names and forwards the rest.
    const dns = user && !etc.dns?.length ? [user.gateway] : etc.dns;
    await writeEtcFiles(opts.stateDir, { mode, ...etc, dns, ipAddress: att.ipAddress });
    return att;
  } catch (e) {
    await teardownNetwork(att);
    throw e;
  }
}

/**
 * CNI DEL in reverse order, then the port reservations, the netns and the state dir.
 * Idempotent, and it never throws: after a crash half of it may already be gone.
 */
export async function teardownNetwork(att: NetworkAttachment): Promise<TeardownResult> {
  if (att.rootless) return teardownRootlessNetwork(att);
  const warnings: string[] = [];
  if (att.dns) await removeDnsEntry(att.dns, att.containerId).catch((e: Error) => warnings.push(`remove DNS entry: ${e.message}`));
  if (att.netnsName && att.netnsPath) {
    // Records written before the conflist was stored carry none: they used the default bridge.
    const conf = att.cniConfig ?? (att.mode === 'bridge' ? bridgeConfList(DEFAULT_BRIDGE) : undefined);
    if (conf) {
      const portMappings = await portmapArgs(att.ports, att.containerId);
      const errors = await delNetwork(conf, eth0({ containerId: att.containerId, netnsPath: att.netnsPath }), { portMappings }, att.cniResult);
      warnings.push(...errors.map((e) => e.message));
    }
    await deleteNetns(att.netnsName).catch((e: Error) => warnings.push(e.message));
  }
  // none and host never take ports (setupNetwork refuses -p with none, drops it with host).
  if (att.mode !== 'none' && att.mode !== 'host')
    await releaseAll(PORTS_DIR, att.containerId).catch((e: Error) => warnings.push(`release ports: ${e.message}`));
  await forgetAttachment(att).catch((e: Error) => warnings.push(`remove ${att.stateDir}: ${e.message}`));
  return { warnings };
}

/** Tears down whatever the state dir records: for a container whose record never got its attachment. */
export async function teardownNetworkDir(stateDir: string): Promise<TeardownResult> {
  const att = await loadAttachment(stateDir);
  if (att) return teardownNetwork(att);
  await rm(stateDir, { recursive: true, force: true }).catch(() => undefined);
  return { warnings: [] };
}

/**
 * CNI CHECK on a live attachment: throws when an interface, address or rule has gone
 * missing. portmap's CHECK is left out for an IPv4-only container: the installed release
 * demands ip6tables chains that its ADD never made (containernetworking/plugins#819).
 */
export async function checkNetwork(att: NetworkAttachment): Promise<void> {
  if (att.rootless) return checkRootlessNetwork(att);
  if (!att.cniConfig || !att.netnsPath || !att.cniResult) return;
  const ips = (att.cniResult.ips ?? []) as Array<{ address: string }>;
  const hasV6 = ips.some((ip) => ip.address.includes(':'));
  const conf = { ...att.cniConfig, plugins: att.cniConfig.plugins.filter((p) => hasV6 || p.type !== 'portmap') };
  await cniCheck(conf, eth0({ containerId: att.containerId, netnsPath: att.netnsPath }), { portMappings: cniPortMappings(att.ports) }, att.cniResult);
}
