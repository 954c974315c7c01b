/**
 * CNI ADD and DEL of a bridge conflist (bridge.ts's), with the bridge plugin's and host-local's
 * part done in this process: the veth pair, eth0's address and route (the addon's vethAdd and
 * linkDel, native/berth_veth.c) and the address lease (lease.ts, in host-local's own files).
 * Starting those two plugins was most of what a bridge container's start and exit still
 * spent on processes. Later plugins of the list (portmap, with -p) still run as plugins, with
 * this result as their prevResult, and DEL still reaches every plugin in reverse.
 *
 * The result, the lease files and what is left behind are the plugin's, so an attachment made
 * either way is checked (CNI CHECK) and torn down either way, and `system prune` and a crashed
 * setup's next run find the same state. The plugins still do all of it where this cannot:
 * without the addon, for a conflist other than bridge.ts's, and while the bridge is not up
 * with its gateway address (the first container since boot, or on a new user network: the
 * plugin makes the bridge).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { randomHex } from '../sys/crypto.ts';
import { type Sys, sys } from '../sys/index.ts';
import {
  addNetwork as addByPlugins,
  delNetwork as delByPlugins,
  pluginConfig,
  runPlugin,
  type CniConfList,
  type CniInvocation,
  type CniResult,
} from './cni.ts';
import { releaseLeases, subnetRange, takeLease } from './lease.ts';

interface InProcessBridge {
  readonly bridge: string;
  readonly subnet: string;
  readonly leaseDir: string;
  readonly hairpin: boolean;
}

type Native = Required<Pick<Sys, 'vethAdd' | 'linkDel'>>;

function native(): Native | undefined {
  const s = sys();
  return s?.vethAdd && s.linkDel ? (s as Native) : undefined;
}

/** The bridge plugin's settings, when they are the ones done here: bridge.ts's, over one IPv4 subnet. */
function inProcessBridge(conf: CniConfList): InProcessBridge | undefined {
  const p = conf.plugins[0] as { type?: string; bridge?: string; isGateway?: boolean; ipMasq?: boolean; hairpinMode?: boolean; ipam?: Record<string, unknown> };
  const ipam = p?.ipam as
    | { type?: string; ranges?: Array<Array<Record<string, unknown>>>; routes?: Array<Record<string, unknown>>; dataDir?: string }
    | undefined;
  if (p?.type !== 'bridge' || !p.bridge || !p.isGateway || p.ipMasq || ipam?.type !== 'host-local' || !ipam.dataDir) return undefined;
  const range = ipam.ranges?.length === 1 && ipam.ranges[0]?.length === 1 ? ipam.ranges[0][0] : undefined;
  if (!range || Object.keys(range).join() !== 'subnet' || !subnetRange(String(range.subnet))) return undefined;
  if (JSON.stringify(ipam.routes) !== '[{"dst":"0.0.0.0/0"}]') return undefined;
  return { bridge: p.bridge, subnet: String(range.subnet), leaseDir: join(ipam.dataDir, conf.name), hairpin: !!p.hairpinMode };
}

function linkAddress(name: string): string {
  return readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim();
}

/** Whether the bridge is up and holds the gateway address, as the plugin would leave it. */
function bridgeReady(net: InProcessBridge): boolean {
  const range = subnetRange(net.subnet)!;
  const gateway = [24, 16, 8, 0].map((s) => Math.floor(range.gateway / 2 ** s) % 256).join('.');
  try {
    if ((Number.parseInt(readFileSync(`/sys/class/net/${net.bridge}/flags`, 'utf8'), 16) & 1) === 0) return false; // IFF_UP
  } catch {
    return false;
  }
  return (networkInterfaces()[net.bridge] ?? []).some((a) => a.family === 'IPv4' && a.cidr === `${gateway}/${range.prefixLength}`);
}

/** Docker's MAC for an address (02:42 and the address's four bytes): the same address always has the same MAC. */
function macFor(address: string): string {
  return ['02', '42', ...address.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

function attachInProcess(addon: Native, net: InProcessBridge, inv: CniInvocation): CniResult {
  const lease = takeLease(net.leaseDir, net.subnet, inv.containerId, inv.ifName);
  const host = `veth${randomHex(4)}`;
  const mac = macFor(lease.address);
  try {
    addon.vethAdd(inv.netns, host, net.bridge, mac, lease.address, lease.prefixLength, lease.gateway);
    if (net.hairpin) writeFileSync(`/sys/class/net/${host}/brport/hairpin_mode`, '1');
    return {
      cniVersion: '1.0.0',
      interfaces: [
        { name: net.bridge, mac: linkAddress(net.bridge) },
        { name: host, mac: linkAddress(host) },
        { name: inv.ifName, mac, sandbox: inv.netns },
      ],
      ips: [{ interface: 2, address: `${lease.address}/${lease.prefixLength}`, gateway: lease.gateway }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    };
  } catch (e) {
    try {
      addon.linkDel(inv.netns, inv.ifName);
    } catch {
      // the pair was never made
    }
    releaseLeases(net.leaseDir, inv.containerId, inv.ifName);
    throw new BerthError('RUNTIME', `attach ${inv.ifName} of ${inv.containerId.slice(0, 12)} to bridge ${net.bridge}: ${(e as Error).message}`, { cause: e });
  }
}

/** ADD through the list; returns the last plugin's result, the network's result. */
export async function addNetwork(conf: CniConfList, inv: CniInvocation, runtimeConfig: Record<string, unknown>): Promise<CniResult> {
  const addon = native();
  const net = inProcessBridge(conf);
  if (!addon || !net || !bridgeReady(net)) return addByPlugins(conf, inv, runtimeConfig);
  let prev = attachInProcess(addon, net, inv);
  for (const plugin of conf.plugins.slice(1)) prev = await runPlugin(String(plugin.type), pluginConfig(conf, plugin, runtimeConfig, prev), 'ADD', inv);
  return prev;
}

/** DEL through the list in reverse; every step runs even when one fails, and the errors come back. */
export async function delNetwork(
  conf: CniConfList,
  inv: CniInvocation,
  runtimeConfig: Record<string, unknown>,
  cached: CniResult | undefined,
): Promise<BerthError[]> {
  const addon = native();
  const net = inProcessBridge(conf);
  if (!addon || !net) return delByPlugins(conf, inv, runtimeConfig, cached);
  const errors = await delByPlugins({ ...conf, plugins: conf.plugins.slice(1) }, inv, runtimeConfig, cached);
  // As the bridge plugin's DEL: the lease first, then the link in the namespace (its peer goes with it).
  try {
    releaseLeases(net.leaseDir, inv.containerId, inv.ifName);
  } catch (e) {
    errors.push(new BerthError('RUNTIME', `release the address of ${inv.containerId.slice(0, 12)}: ${(e as Error).message}`, { cause: e }));
  }
  try {
    addon.linkDel(inv.netns, inv.ifName);
  } catch (e) {
    errors.push(new BerthError('RUNTIME', `delete ${inv.ifName} in ${inv.netns}: ${(e as Error).message}`, { cause: e }));
  }
  return errors;
}
