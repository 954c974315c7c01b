/**
 * The /etc files a container gets, bind-mounted from its network state dir: hostname, hosts
 * and resolv.conf. The text is made by pure functions (unit-tested); only writeEtcFiles
 * touches the disk.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTextOr } from '../sys/quiet-fs.ts';

export const HOST_RESOLV_CONF = '/etc/resolv.conf';
/** systemd-resolved's list of the real upstream servers, behind its 127.0.0.53 stub. */
export const UPSTREAM_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

export interface DnsOptions {
  /** Replace the nameservers (`--dns`). */
  readonly dns?: readonly string[];
  /** Replace the search domains (`--dns-search`). */
  readonly dnsSearch?: readonly string[];
  /** Replace the options (`--dns-option`). */
  readonly dnsOptions?: readonly string[];
}

interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...values] = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (key === 'nameserver' && values[0]) conf.nameservers.push(values[0]);
    else if (key === 'search' || key === 'domain') conf.search = values;
    else if (key === 'options') conf.options.push(...values);
  }
  return conf;
}

function isLoopback(ns: string): boolean {
  return ns.startsWith('127.') || ns === '::1';
}

/**
 * Host mode keeps the host's file as it is: the container shares the host's loopback. Any
 * other mode cannot reach a loopback resolver (systemd-resolved, dnsmasq) from its own
 * namespace, so those lines give way to the upstream list, or are dropped. No public
 * resolver is ever made up: a host with only a loopback resolver and no upstream file
 * gives containers no nameserver, and `--dns` is the way out.
 */
export function containerResolvConf(mode: string, hostText: string, upstreamText: string, opts: DnsOptions = {}): string {
  const overridden = Boolean(opts.dns?.length || opts.dnsSearch?.length || opts.dnsOptions?.length);
  const host = parseResolvConf(hostText);
  const needsUpstream = mode !== 'host' && host.nameservers.some(isLoopback);
  if (!overridden && !needsUpstream && hostText.trim()) return hostText.endsWith('\n') ? hostText : `${hostText}\n`;
  let nameservers = host.nameservers;
  if (needsUpstream) {
    const upstream = parseResolvConf(upstreamText).nameservers.filter((ns) => !isLoopback(ns));
    nameservers = upstream.length ? upstream : host.nameservers.filter((ns) => !isLoopback(ns));
  }
  if (opts.dns?.length) nameservers = [...opts.dns];
  const search = opts.dnsSearch?.length ? opts.dnsSearch.filter((d) => d !== '.') : host.search;
  const options = opts.dnsOptions?.length ? [...opts.dnsOptions] : host.options;
  const lines: string[] = [];
  if (search.length) lines.push(`search ${search.join(' ')}`);
  for (const ns of nameservers) lines.push(`nameserver ${ns}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** host-local's gateway of an IPv4 subnet: its first address (`10.87.0.0/16` → `10.87.0.1`). */
export function subnetGateway(subnet: string): string {
  const [addr, bits] = subnet.split('/') as [string, string?];
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = bits === undefined ? 0 : 2 ** (32 - Number(bits));
  const gw = Math.floor(n / mask) * mask + 1;
  return [24, 16, 8, 0].map((s) => Math.floor(gw / 2 ** s) % 256).join('.');
}

export interface HostsOptions {
  readonly hostname: string;
  /** The container's own address; without it (none, host) no line names the container. */
  readonly ipAddress?: string;
  /** `--add-host name:ip` entries, already split. */
  readonly extraHosts?: ReadonlyArray<{ readonly name: string; readonly ip: string }>;
}

/** Docker's layout: the loopback and IPv6 names, then --add-host entries, then the container's own line. */
export function containerHosts(opts: HostsOptions): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const h of opts.extraHosts ?? []) lines.push(`${h.ip}\t${h.name}`);
  if (opts.ipAddress) lines.push(`${opts.ipAddress}\t${opts.hostname}`);
  return `${lines.join('\n')}\n`;
}

export interface EtcFiles {
  readonly hostsPath: string;
  readonly resolvConfPath: string;
  readonly hostnamePath: string;
}

/**
 * Writes a container's hosts, resolv.conf and hostname. In line: a few small files on the
 * run dir's tmpfs, where each trip through the thread pool would cost more than the write.
 */
export async function writeEtcFiles(dir: string, opts: { mode: string } & HostsOptions & DnsOptions): Promise<EtcFiles> {
  const files: EtcFiles = { hostsPath: join(dir, 'hosts'), resolvConfPath: join(dir, 'resolv.conf'), hostnamePath: join(dir, 'hostname') };
  let hosts: string;
  if (opts.mode === 'host') {
    const hostHosts = readTextOr('/etc/hosts', '127.0.0.1\tlocalhost\n');
    const extra = (opts.extraHosts ?? []).map((h) => `${h.ip}\t${h.name}\n`).join('');
    hosts = (hostHosts.endsWith('\n') || !hostHosts ? hostHosts : `${hostHosts}\n`) + extra;
  } else {
    hosts = containerHosts(opts);
  }
  const hostResolv = readTextOr(HOST_RESOLV_CONF, '');
  const upstream = readTextOr(UPSTREAM_RESOLV_CONF, '');
  writeFileSync(files.hostsPath, hosts);
  writeFileSync(files.resolvConfPath, containerResolvConf(opts.mode, hostResolv, upstream, opts));
  writeFileSync(files.hostnamePath, `${opts.hostname}\n`);
  return files;
}
