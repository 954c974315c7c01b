/**
 * The default bridge network as a CNI conflist, and the host settings it relies on.
 *
 * - Bridge `berth0` on 10.87.0.0/16: Docker takes 172.17/16 and podman 10.88/16, so this
 *   range is free on hosts that run either. `BERTH_BRIDGE` / `BERTH_SUBNET` override both.
 * - The chain is bridge (host-local IPAM, gateway on the bridge) → portmap (only when the
 *   container publishes ports: `-p`, with SNAT so 127.0.0.1:PORT works from the host).
 * - Masquerading and forwarding are per bridge, not per container, as Docker does them: two
 *   chains of berth's own (see `ensureBridgeRules`) set up once per boot. Per-container rules
 *   (the bridge plugin's ipMasq, the firewall plugin) cost about 30 iptables processes on every
 *   start and stop, which was most of a bridge container's start time.
 * - host-local keeps its leases in one directory per machine, not per state root: every
 *   berth root shares the one bridge and subnet, so they must share the leases too, or two
 *   roots would hand out the same address. It lives on /run (tmpfs) like the namespaces, so
 *   a reboot clears both together.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import { CNI_VERSION, type CniConfList } from './cni.ts';
import { settings } from '../config/index.ts';

export const MACHINE_NET_DIR = settings().netDir;
export const IPAM_DIR = `${MACHINE_NET_DIR}/cni-ipam`;
export const PORTS_DIR = `${MACHINE_NET_DIR}/cni-ports`;
export const ATTACHMENTS_DIR = `${MACHINE_NET_DIR}/cni-attachments`;

export interface BridgeNetwork {
  /** The CNI network name: host-local's lease subdirectory and the tag on iptables rules. */
  readonly cniName: string;
  readonly bridge: string;
  readonly subnet: string;
}

export const DEFAULT_BRIDGE: BridgeNetwork = {
  cniName: 'berth',
  bridge: settings().bridgeName,
  subnet: settings().bridgeSubnet,
};

/** The conflist a container attaches with; `portmap` only for one that publishes ports. */
export function bridgeConfList(net: BridgeNetwork, opts: { portmap?: boolean } = {}): CniConfList {
  const bridge = {
    type: 'bridge',
    bridge: net.bridge,
    isGateway: true,
    ipMasq: false, // the bridge's own rule does it: ensureBridgeRules
    hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: net.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: IPAM_DIR },
  };
  const portmap = { type: 'portmap', capabilities: { portMappings: true }, snat: true };
  return { cniVersion: CNI_VERSION, name: net.cniName, plugins: opts.portmap === false ? [bridge] : [bridge, portmap] };
}

/** Chain names of the bridge's own rules (iptables allows 28 characters; bridge names have 15). */
export function bridgeChains(net: BridgeNetwork): { nat: string; forward: string } {
  return { nat: `BERTH-NAT-${net.bridge}`, forward: `BERTH-FWD-${net.bridge}` };
}

/** Where each of the bridge's chains is jumped to from: [table, built-in chain, our chain]. */
function chainJumps(net: BridgeNetwork): ReadonlyArray<readonly [table: string, from: string, chain: string]> {
  const { nat, forward } = bridgeChains(net);
  return [
    ['nat', 'POSTROUTING', nat],
    ['filter', 'FORWARD', forward],
  ];
}

async function iptables(args: readonly string[]): Promise<boolean> {
  return execFileAsync('iptables', ['-w', ...args]).then(
    () => true,
    () => false,
  );
}

/**
 * The bridge's rules, as Docker keeps them for docker0: traffic from the subnet leaving by
 * another interface is masqueraded; the FORWARD chain accepts what comes from the bridge,
 * replies to it, and connections DNATed to it by `-p` (even when the policy is DROP, as
 * dockerd sets it). The chains are loaded whole by iptables-restore (which flushes a chain
 * it declares, so a re-run never duplicates a rule) and jumped to from the top of
 * POSTROUTING and FORWARD. A marker on /run skips all of it until the next boot.
 */
export async function ensureBridgeRules(net: BridgeNetwork): Promise<void> {
  const marker = `${MACHINE_NET_DIR}/cni-rules/${net.bridge}`;
  if ((await readFile(marker, 'utf8').catch(() => '')) === net.subnet) return;
  // First container since boot: refuse a subnet another interface routes before any rule names it.
  await checkSubnetFree(net);
  const { nat, forward } = bridgeChains(net);
  const rules = [
    '*nat',
    `:${nat} - [0:0]`,
    `-A ${nat} -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`,
    'COMMIT',
    '*filter',
    `:${forward} - [0:0]`,
    `-A ${forward} -o ${net.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${forward} -o ${net.bridge} -m conntrack --ctstate DNAT -j ACCEPT`,
    `-A ${forward} -i ${net.bridge} -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
  await new Promise<void>((resolve, reject) => {
    const child = execFile('iptables-restore', ['-w', '--noflush'], (e, _out, stderr) =>
      e
        ? reject(
            new BerthError('RUNTIME', `set up the rules of bridge ${net.bridge}: ${stderr.trim() || e.message}`, {
              cause: e,
              hint: 'berth needs root and iptables for bridge networking',
            }),
          )
        : resolve(),
    );
    child.stdin!.end(rules);
  });
  for (const [table, chain, target] of chainJumps(net)) {
    if (!(await iptables(['-t', table, '-C', chain, '-j', target]))) await iptables(['-t', table, '-I', chain, '1', '-j', target]);
  }
  await mkdir(dirname(marker), { recursive: true });
  await writeFile(marker, net.subnet);
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** [first, last] addresses of an IPv4 CIDR, as integers. */
export function cidrRange(cidr: string): [number, number] {
  const [ip, bitsText] = cidr.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const size = 2 ** (32 - bits);
  const first = Math.floor(ipv4ToInt(ip!) / size) * size;
  return [first, first + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** The host's IPv4 routes (main table) with a destination prefix, and the device of each. */
export async function hostRoutes(): Promise<Array<{ dst: string; dev?: string }>> {
  const { stdout } = await execFileAsync('ip', ['-j', '-4', 'route', 'show', 'table', 'main']).catch(() => ({ stdout: '[]' }));
  const routes = JSON.parse(stdout || '[]') as Array<{ dst: string; dev?: string }>;
  return routes.filter((r) => r.dst !== 'default' && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.dst));
}

/** Refuses a subnet that some other interface already routes: the containers could not reach it. */
export async function checkSubnetFree(net: BridgeNetwork): Promise<void> {
  for (const r of await hostRoutes()) {
    if (r.dev === net.bridge) continue;
    if (cidrsOverlap(r.dst, net.subnet)) {
      throw new BerthError(
        'FAILED_PRECONDITION',
        `use subnet ${net.subnet} for bridge ${net.bridge}: it overlaps the host route ${r.dst} on ${r.dev ?? 'another device'}`,
        {
          hint: 'set BERTH_SUBNET to a free range, e.g. 10.231.0.0/16',
        },
      );
    }
  }
}

async function sysctl(path: string, value: string): Promise<void> {
  try {
    await writeFile(`/proc/sys/${path}`, value);
  } catch (e) {
    throw new BerthError('RUNTIME', `set ${path.replaceAll('/', '.')}=${value}: ${(e as Error).message}`, { cause: e });
  }
}

/** Before ADD: the host must route between the bridge and its uplink. */
export function enableForwarding(): Promise<void> {
  return sysctl('net/ipv4/ip_forward', '1');
}

/**
 * After ADD (the bridge exists then): DNAT of 127.0.0.1:PORT to a container leaves a
 * packet with a loopback source on the bridge, which the kernel drops unless
 * route_localnet is on there. portmap sets it as well; setting it here does not depend on it.
 */
export function enableLocalnetRouting(bridge: string): Promise<void> {
  return sysctl(`net/ipv4/conf/${bridge}/route_localnet`, '1');
}

/**
 * Undoes a user network's machine state once no container uses it: the bridge interface, its
 * rules and marker, host-local's leases. Never throws: it reports what it could not undo.
 */
export async function removeBridge(net: BridgeNetwork): Promise<string[]> {
  const warnings: string[] = [];
  for (const [table, chain, target] of chainJumps(net)) {
    while (await iptables(['-t', table, '-D', chain, '-j', target]));
    await iptables(['-t', table, '-F', target]);
    await iptables(['-t', table, '-X', target]);
  }
  await rm(`${MACHINE_NET_DIR}/cni-rules/${net.bridge}`, { force: true });
  await rm(`${IPAM_DIR}/${net.cniName}`, { recursive: true, force: true });
  const { stdout } = await execFileAsync('ip', ['-j', 'link', 'show', net.bridge]).catch(() => ({ stdout: '' }));
  if (stdout.trim()) await execFileAsync('ip', ['link', 'del', net.bridge]).catch((e: Error) => warnings.push(`delete bridge ${net.bridge}: ${e.message}`));
  return warnings;
}

/**
 * The addresses host-local leased to a container, from its lease files (named by address,
 * holding the container id): enough of a cached result for DEL when the real one is lost.
 */
export async function leasedAddresses(net: BridgeNetwork, containerId: string): Promise<string[]> {
  const dir = `${IPAM_DIR}/${net.cniName}`;
  const out: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(name)) continue;
    const owner = (await readFile(`${dir}/${name}`, 'utf8').catch(() => '')).split(/\r?\n/)[0];
    if (owner === containerId) out.push(`${name}/${net.subnet.split('/')[1]}`);
  }
  return out;
}
