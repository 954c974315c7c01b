/** The /etc files a container gets: hostname, hosts, and a resolv.conf that works from a netns. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A resolver on loopback (systemd-resolved, dnsmasq) is unreachable from a netns: use the upstream list. */
export async function containerResolvConf(mode: string): Promise<string> {
  const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  if (mode === 'host' || !/^nameserver\s+127\./m.test(host)) return host || 'nameserver 127.0.0.1\n';
  const upstream = await readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => '');
  if (upstream) return upstream;
  return host.replace(/^nameserver\s+127\..*$/gm, '').trim() + '\n';
}

export async function writeEtcFiles(dir: string, opts: { mode: string; hostname: string; ip?: string }): Promise<{ hostsPath: string; resolvConfPath: string; hostnamePath: string }> {
  const hostsPath = join(dir, 'hosts');
  const resolvConfPath = join(dir, 'resolv.conf');
  const hostnamePath = join(dir, 'hostname');
  let hosts: string;
  if (opts.mode === 'host') {
    hosts = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
  } else {
    hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'].join('\n') + '\n';
    if (opts.ip) hosts += `${opts.ip}\t${opts.hostname}\n`;
  }
  await writeFile(hostsPath, hosts);
  await writeFile(resolvConfPath, await containerResolvConf(opts.mode));
  await writeFile(hostnamePath, `${opts.hostname}\n`);
  return { hostsPath, resolvConfPath, hostnamePath };
}
