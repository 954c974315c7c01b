/**
 * Names on user networks, answered by aardvark-dns (Podman's DNS server, Debian package
 * `aardvark-dns`) listening on each network's gateway. One aardvark process serves the whole
 * machine from one config dir: a file per network (named after its bridge, so names never
 * clash across state roots), first line the gateway, then one line per container
 * (`id ipv4s ipv6s names`). It forwards every other query to the host's resolvers, and
 * re-reads its files on SIGHUP.
 *
 * Concurrent berth processes each keep one entry file per container and rebuild the network's
 * file from the entries (write, then rename), repeating until what they wrote matches the
 * entries they see: a rebuild that raced another one never hides a container for long.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../store/atomic.ts';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { MACHINE_NET_DIR } from './bridge.ts';
import { settings } from '../config/index.ts';

export const DNS_DIR = `${MACHINE_NET_DIR}/dns`;
const CONFIG_DIR = `${DNS_DIR}/config`;
const AARDVARK =
  settings().aardvarkDns ??
  ['/usr/lib/podman/aardvark-dns', '/usr/libexec/podman/aardvark-dns', '/usr/bin/aardvark-dns'].find((p) => existsSync(p)) ??
  'aardvark-dns';

export interface DnsNetwork {
  /** The bridge: the config file's name. */
  readonly bridge: string;
  readonly gateway: string;
}

const entriesDir = (net: DnsNetwork) => join(DNS_DIR, 'entries', net.bridge);

/** The network's entry files, sorted; another writer's temp file is not an entry yet. */
async function entryNames(net: DnsNetwork): Promise<string[]> {
  return (await readdir(entriesDir(net)).catch(() => [] as string[])).filter((n) => !n.endsWith('.tmp')).sort();
}

async function rebuild(net: DnsNetwork): Promise<void> {
  const file = join(CONFIG_DIR, net.bridge);
  for (let attempt = 0; attempt < 5; attempt++) {
    const names = await entryNames(net);
    const lines = await Promise.all(names.map((n) => readFile(join(entriesDir(net), n), 'utf8').catch(() => '')));
    const text = `${net.gateway}\n${lines.filter(Boolean).join('')}`;
    await mkdir(CONFIG_DIR, { recursive: true });
    await writeFileAtomic(file, text);
    const again = await entryNames(net);
    if (again.join() === names.join() && (await readFile(file, 'utf8').catch(() => '')) === text) return;
  }
}

/** The running aardvark's pid. A stale pid file may name a pid reused by another program: it must not get our SIGHUP. */
async function aardvarkPid(): Promise<number | undefined> {
  const pid = Number((await readFile(join(CONFIG_DIR, 'aardvark.pid'), 'utf8').catch(() => '')).trim());
  if (!pid) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('aardvark-dns') && cmdline.includes(CONFIG_DIR) ? pid : undefined;
}

/** Makes aardvark (re)read its files: SIGHUP to the running one, or start one (it daemonizes). */
async function reload(): Promise<void> {
  const pid = await aardvarkPid();
  if (pid) {
    process.kill(pid, 'SIGHUP');
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(AARDVARK, ['--config', CONFIG_DIR, '-p', '53', 'run'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(new BerthError('UNAVAILABLE', `start aardvark-dns: ${e.message}`, { hint: 'install aardvark-dns: container names on user networks need it' })),
    );
    // `run` forks the server and exits once it listens.
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new BerthError('RUNTIME', `aardvark-dns exited with ${code}: ${err.trim()}`))));
  });
}

/** Publishes `names` → `ip` on the network; the container must be attached (its gateway exists). */
export async function addDnsEntry(net: DnsNetwork, containerId: string, ip: string, names: readonly string[]): Promise<void> {
  await mkdir(entriesDir(net), { recursive: true });
  await writeFileAtomic(join(entriesDir(net), containerId), `${containerId} ${ip}  ${[...new Set(names)].join(',')}\n`);
  await rebuild(net);
  await reload();
}

export async function removeDnsEntry(net: DnsNetwork, containerId: string): Promise<void> {
  const path = join(entriesDir(net), containerId);
  if (!existsSync(path)) return;
  await rm(path, { force: true });
  await rebuild(net);
  if (await aardvarkPid()) await reload();
}

/** Forgets a removed network: its file and entries; aardvark stops listening on its gateway. */
export async function removeDnsNetwork(net: DnsNetwork): Promise<void> {
  await rm(entriesDir(net), { recursive: true, force: true });
  await rm(join(CONFIG_DIR, net.bridge), { force: true });
  if (await aardvarkPid()) await reload();
}
