/**
 * Container networking: `none` (a fresh netns that runc creates), `host` (no netns), and
 * `bridge` (the default): a named netns wired by the standard CNI plugins — bridge with
 * host-local IPAM and IP masquerade, then portmap for `-p` — exactly as a conflist would.
 * The attachment returned is plain JSON: it is stored with the container so that any
 * process (the CLI, the monitor, a later `rm`) can tear it down.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../errors/index.ts';
import { runChain, runPlugin } from './cni.ts';
import { writeEtcFiles } from './files.ts';
import { parsePublish, type PortMapping } from './publish.ts';

export { parsePublish, type PortMapping } from './publish.ts';

const run = promisify(execFile);
export const BRIDGE_NAME = process.env.BERTH_BRIDGE ?? 'berth0';
export const BRIDGE_SUBNET = process.env.BERTH_SUBNET ?? '10.87.0.0/16';
const NETWORK_NAME = 'berth';

export interface NetworkAttachment {
  readonly mode: 'bridge' | 'host' | 'none';
  readonly containerId: string;
  readonly netnsName?: string;
  readonly netnsPath?: string;
  readonly ipAddress?: string;
  readonly gateway?: string;
  readonly ports: readonly PortMapping[];
  readonly resolvConfPath: string;
  readonly hostsPath: string;
  readonly hostnamePath: string;
  readonly stateDir: string;
  readonly cniResult?: Record<string, unknown>;
}

export interface SetupOptions {
  readonly containerId: string;
  readonly mode: string;
  readonly publish: readonly string[];
  readonly hostname: string;
  readonly stateDir: string;
  /** Where host-local keeps its leases; one per machine so containers never share an IP. */
  readonly ipamDir?: string;
}

function bridgePlugins(ipamDir: string): Array<Record<string, unknown>> {
  return [
    {
      type: 'bridge',
      bridge: BRIDGE_NAME,
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: BRIDGE_SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
    },
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
  ];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function enableForwarding(): Promise<void> {
  await writeFile('/proc/sys/net/ipv4/ip_forward', '1').catch(() => undefined);
}

function invocation(att: { containerId: string; netnsPath: string }, command: 'ADD' | 'DEL') {
  return { command, containerId: att.containerId, netns: att.netnsPath, ifName: 'eth0' } as const;
}

function cniPortMappings(ports: readonly PortMapping[]) {
  return ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIp }));
}

export async function setupNetwork(opts: SetupOptions): Promise<NetworkAttachment> {
  const mode = opts.mode === 'default' ? 'bridge' : opts.mode;
  if (mode !== 'bridge' && mode !== 'host' && mode !== 'none') {
    throw new BerthError('NOT_FOUND', `network ${opts.mode} not found`, { hint: 'berth supports --network bridge, host or none' });
  }
  await mkdir(opts.stateDir, { recursive: true });
  const ports: PortMapping[] = [];
  for (const spec of opts.publish) {
    for (const p of parsePublish(spec)) ports.push(p.hostPort === 0 ? { ...p, hostPort: await freePort() } : p);
  }
  if (mode !== 'bridge') {
    if (ports.length && mode === 'none') throw new BerthError('INVALID_ARGUMENT', 'conflicting options: port publishing and the container type network mode');
    const files = await writeEtcFiles(opts.stateDir, { mode, hostname: opts.hostname });
    return { mode, containerId: opts.containerId, ports: [], stateDir: opts.stateDir, ...files };
  }
  await enableForwarding();
  const netnsName = `berth-${opts.containerId.slice(0, 12)}`;
  const netnsPath = `/run/netns/${netnsName}`;
  await run('ip', ['netns', 'add', netnsName]).catch((e: { stderr?: string }) => {
    throw new BerthError('RUNTIME', `cannot create network namespace: ${e.stderr?.trim() ?? String(e)}`);
  });
  const ipamDir = opts.ipamDir ?? '/run/berth/cni-ipam';
  const att = { containerId: opts.containerId, netnsPath };
  try {
    await runPlugin('loopback', { cniVersion: '1.0.0', name: 'lo', type: 'loopback' }, { ...invocation(att, 'ADD'), ifName: 'lo' });
    const result = await runChain(NETWORK_NAME, bridgePlugins(ipamDir), invocation(att, 'ADD'), { portMappings: cniPortMappings(ports) });
    const ip = ((result.ips as Array<{ address: string; gateway?: string }> | undefined) ?? [])[0];
    const ipAddress = ip?.address.split('/')[0];
    const files = await writeEtcFiles(opts.stateDir, { mode, hostname: opts.hostname, ip: ipAddress });
    return { mode, containerId: opts.containerId, netnsName, netnsPath, ipAddress, gateway: ip?.gateway, ports, stateDir: opts.stateDir, cniResult: result, ...files };
  } catch (e) {
    await runChain(NETWORK_NAME, bridgePlugins(ipamDir), invocation(att, 'DEL'), { portMappings: cniPortMappings(ports) }).catch(() => undefined);
    await run('ip', ['netns', 'del', netnsName]).catch(() => undefined);
    throw e;
  }
}

/** Idempotent: safe after a crash, and safe twice. */
export async function teardownNetwork(att: NetworkAttachment, opts: { ipamDir?: string } = {}): Promise<void> {
  if (att.mode === 'bridge' && att.netnsPath && att.netnsName) {
    const ipamDir = opts.ipamDir ?? '/run/berth/cni-ipam';
    await runChain(NETWORK_NAME, bridgePlugins(ipamDir), invocation({ containerId: att.containerId, netnsPath: att.netnsPath }, 'DEL'), { portMappings: cniPortMappings(att.ports) }, att.cniResult).catch(() => undefined);
    await run('ip', ['netns', 'del', att.netnsName]).catch(() => undefined);
  }
  await rm(att.stateDir, { recursive: true, force: true }).catch(() => undefined);
  void join;
}
