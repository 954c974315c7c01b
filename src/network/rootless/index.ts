/**
 * The default network of a rootless container, as rootless Podman makes it. berth cannot
 * create veths on a host bridge or write iptables rules as a user, so the container gets a
 * network namespace of its own (made by berth in its user namespace, bind-mounted under the
 * user's run dir: netns.ts) and a user-mode helper, slirp4netns or pasta (helper.ts), that
 * carries its traffic through ordinary sockets of the user's. `-p` ports are bound by the
 * helper on the host (ports.ts). DNS in the container is the helper's forwarder, unless
 * `--dns` says otherwise.
 *
 * The attachment records the helper's tool and pid; it is saved before anything exists and
 * after each step (attachment.ts), so whichever process comes later (the monitor, `rm`,
 * `system prune`) stops that helper and removes the namespace. Teardown never throws.
 */
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors/index.ts';
import type { NetworkAttachment } from '../attachment.ts';
import { type DnsOptions, writeEtcFiles } from '../files.ts';
import type { PortMapping } from '../publish.ts';
import { forgetRootlessAttachment, helpersOn, saveRootlessAttachment } from './attachment.ts';
import { checkTunDevice, chooseHelper, type HelperTool, isHelper, stopHelper } from './helper.ts';
import { apiSocketPath, createRootlessNetns, deleteRootlessNetns, privateDir, rootlessNetDir, rootlessNetnsPath } from './netns.ts';
import { PASTA_DNS, type PastaForward, pastaAddress, startPasta } from './pasta.ts';
import { checkRootlessMapping, privilegedPortError, resolveRootlessPorts, unprivilegedPortStart } from './ports.ts';
import { addHostForward, SLIRP_ADDRESS, startSlirp4netns } from './slirp.ts';

/** What setupNetwork's options (network/index.ts) carry that the rootless default network uses. */
export interface RootlessSetupOptions extends DnsOptions {
  readonly containerId: string;
  readonly hostname: string;
  /** The container's network dir: etc files, attachment.json, the helper's log. */
  readonly stateDir: string;
  readonly extraHosts?: ReadonlyArray<{ readonly name: string; readonly ip: string }>;
}

/** What the mappings ask that no port choice can fix, refused before anything is made. */
function precheck(requested: readonly PortMapping[]): void {
  const start = unprivilegedPortStart();
  for (const p of requested) {
    checkRootlessMapping(p);
    if (p.hostPort !== 0 && (p.hostPortEnd ?? p.hostPort) < start) throw privilegedPortError(p.hostPort, start);
  }
}

function forwardOf(p: PortMapping): PastaForward {
  return { proto: p.protocol as 'tcp' | 'udp', hostAddr: p.hostIp, hostPort: p.hostPort, guestPort: p.containerPort };
}

/** `prefer` picks the helper when both are installed (tests); berth itself takes helper.ts's order. */
export async function setupRootlessNetwork(opts: RootlessSetupOptions, requested: readonly PortMapping[], prefer?: HelperTool): Promise<NetworkAttachment> {
  precheck(requested);
  const helper = chooseHelper(prefer);
  checkTunDevice();
  const id = opts.containerId;
  // The caller may have made it already, with the umask's mode: the user's alone from here.
  chmodSync(privateDir(opts.stateDir), 0o700);
  const netnsPath = rootlessNetnsPath(id);
  // A crashed run of the same id may have left its namespace, and a helper on it.
  for (const tool of ['slirp4netns', 'pasta'] as const) for (const pid of helpersOn(netnsPath, tool)) await stopHelper(pid, tool, netnsPath);
  let att: NetworkAttachment = {
    mode: 'bridge',
    containerId: id,
    stateDir: opts.stateDir,
    netnsPath,
    ports: [],
    hostsPath: join(opts.stateDir, 'hosts'),
    resolvConfPath: join(opts.stateDir, 'resolv.conf'),
    hostnamePath: join(opts.stateDir, 'hostname'),
    rootless: { tool: helper.tool },
    pending: true,
  };
  // Recorded before the namespace exists: a crash right after leaves a record that prune undoes.
  await saveRootlessAttachment(att);
  try {
    await createRootlessNetns(id);
    const { pending: _pending, ...made } = att;
    att = made;
    await saveRootlessAttachment(att);
    const logPath = join(opts.stateDir, `${helper.tool}.log`);
    let dns: string;
    if (helper.tool === 'slirp4netns') {
      const apiSocket = apiSocketPath(id);
      privateDir(join(rootlessNetDir(), 'api'));
      const pid = await startSlirp4netns(helper.path, netnsPath, apiSocket, logPath);
      att = { ...att, rootless: { tool: helper.tool, pid, apiSocket } };
      await saveRootlessAttachment(att);
      const ports = await resolveRootlessPorts(requested, async (p) => {
        await addHostForward(apiSocket, { ...forwardOf(p), hostAddr: p.hostIp || '0.0.0.0' });
      });
      att = { ...att, ports, ipAddress: SLIRP_ADDRESS.ip, ipPrefixLength: SLIRP_ADDRESS.prefixLength, gateway: SLIRP_ADDRESS.gateway };
      dns = SLIRP_ADDRESS.dns;
    } else {
      // pasta binds its ports as it starts: they are chosen first, then handed to it whole.
      const ports = await resolveRootlessPorts(requested, async () => undefined);
      const pid = await startPasta(helper.path, netnsPath, ports.map(forwardOf), join(opts.stateDir, 'pasta.pid'), logPath);
      const addr = pastaAddress();
      att = { ...att, ports, rootless: { tool: helper.tool, pid }, ipAddress: addr?.ip, ipPrefixLength: addr?.prefixLength, gateway: addr?.gateway };
      dns = PASTA_DNS;
    }
    await saveRootlessAttachment(att);
    const etc = { hostname: opts.hostname, extraHosts: opts.extraHosts, dnsSearch: opts.dnsSearch, dnsOptions: opts.dnsOptions };
    await writeEtcFiles(opts.stateDir, { mode: 'bridge', ...etc, dns: opts.dns?.length ? opts.dns : [dns], ipAddress: att.ipAddress });
    return att;
  } catch (e) {
    await teardownRootlessNetwork(att);
    throw e;
  }
}

/** Stops the helper (the recorded pid, and any other found on the namespace file), then removes the namespace and the records. */
export async function teardownRootlessNetwork(att: NetworkAttachment): Promise<{ warnings: string[] }> {
  const warnings: string[] = [];
  const helper = att.rootless;
  if (helper && att.netnsPath) {
    const pids = new Set([...(helper.pid ? [helper.pid] : []), ...helpersOn(att.netnsPath, helper.tool)]);
    for (const pid of pids) await stopHelper(pid, helper.tool, att.netnsPath).catch((e: Error) => warnings.push(`stop ${helper.tool}: ${e.message}`));
  }
  // Only berth's own files: a path that a record could point anywhere is taken from the id.
  const netnsPath = rootlessNetnsPath(att.containerId);
  await deleteRootlessNetns(netnsPath).catch((e: Error) => warnings.push(`delete network namespace ${netnsPath}: ${e.message}`));
  rmSync(apiSocketPath(att.containerId), { force: true });
  try {
    forgetRootlessAttachment(att);
  } catch (e) {
    warnings.push(`remove ${att.stateDir}: ${(e as Error).message}`);
  }
  return { warnings };
}

/**
 * User networks need Podman's "rootless netns" (one namespace per user holding the networks'
 * bridges, joined to the outside by the helper, with aardvark-dns inside it), which berth does
 * not make yet: `network create` and `run --network NAME` say so rather than half-work.
 */
export function rootlessUserNetworkError(): BerthError {
  return new BerthError('UNSUPPORTED', 'user networks in rootless mode are not supported yet', {
    hint: 'use the default network (publish with -p), or --network host or none',
  });
}

/** Throws when the helper of a live attachment is gone (the container has no network then). */
export function checkRootlessNetwork(att: NetworkAttachment): void {
  const helper = att.rootless;
  if (!helper?.pid || !att.netnsPath) return;
  if (!isHelper(helper.pid, helper.tool, att.netnsPath))
    throw new BerthError(
      'RUNTIME',
      `${helper.tool} (pid ${helper.pid}) of container ${att.containerId.slice(0, 12)} is not running: the container has no network`,
    );
}
