/**
 * What the config file and certs.d say about one registry host: whether it is insecure (plain
 * http and unverified TLS allowed), the mirrors tried before it, and its TLS files.
 *
 * As docker: 127.0.0.0/8, ::1 and localhost are insecure by default; other hosts only when
 * `insecure-registries` lists them, by host[:port] or by a CIDR holding one of their addresses.
 * `registry-mirrors` serve Docker Hub; `registry-host-mirrors` (berth's key, after containerd's
 * hosts.toml) serve any registry. certs.d/<host[:port]>/ holds CAs (`*.crt`, added to the
 * trusted ones) and client certificates (`*.cert` with the `*.key` of the same name), read from
 * /etc/berth/certs.d and then /etc/docker/certs.d, or from BERTH_CERTS_D alone.
 */
import { lookup } from 'node:dns/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { settings } from '../config/index.ts';
import { fileConfig, isRegistryHost } from '../config/file.ts';
import { inCidr } from './proxy.ts';

/** Docker's built-in insecure range, shown by `info` with the configured ones. */
export const DEFAULT_INSECURE_CIDRS = ['127.0.0.0/8', '::1/128'];

function bareHost(registry: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (m) return m[1]!;
  return registry.replace(/:\d+$/, '');
}

export function isLoopbackRegistry(registry: string): boolean {
  const h = bareHost(registry).toLowerCase();
  return h === 'localhost' || (isIP(h) === 4 && h.startsWith('127.')) || h === '::1';
}

/** The insecure entries of the config file: CIDRs, and hosts with or without a port. */
export function insecureEntries(): { cidrs: string[]; hosts: string[] } {
  const all = fileConfig()['insecure-registries'] ?? [];
  return { cidrs: all.filter((e) => e.includes('/')), hosts: all.filter((e) => !e.includes('/')).map((h) => h.toLowerCase()) };
}

/**
 * Whether `registry` (host[:port]) may be spoken to in plain http and with unverified TLS.
 * A name is resolved only when a CIDR could hold it.
 */
export async function isInsecureRegistry(registry: string): Promise<boolean> {
  if (isLoopbackRegistry(registry)) return true;
  const { cidrs, hosts } = insecureEntries();
  const name = registry.toLowerCase();
  if (hosts.includes(name) || hosts.includes(bareHost(name))) return true;
  if (cidrs.length === 0) return false;
  const host = bareHost(registry);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return false; // the connection that follows says that the name does not resolve
    }
  }
  return addresses.some((a) => cidrs.some((c) => inCidr(a, c)));
}

/** The mirrors tried, in order, before `registry` itself; each a base URL without a path. */
export function mirrorsOf(registry: string): string[] {
  const config = fileConfig();
  const byHost = config['registry-host-mirrors'] ?? {};
  const own = Object.entries(byHost).find(([h]) => h.toLowerCase() === registry.toLowerCase())?.[1] ?? [];
  const hub = registry === 'docker.io' ? (config['registry-mirrors'] ?? []) : [];
  return [...new Set([...own, ...hub].map((m) => new URL(m).origin))];
}

export interface HostTls {
  /** CAs trusted besides the usual ones. */
  readonly ca: Buffer[];
  /** Client certificates and their keys, pairwise. */
  readonly cert: Buffer[];
  readonly key: Buffer[];
}

function certsDirs(): string[] {
  const named = settings().certsDir;
  return named ? [named] : ['/etc/berth/certs.d', '/etc/docker/certs.d'];
}

/** certs.d's files for `registry` (host[:port]), from every certs.d that has its directory. */
export function hostTls(registry: string): HostTls {
  const out: HostTls = { ca: [], cert: [], key: [] };
  // The name becomes a path: only a well-formed host[:port] is looked up.
  if (!isRegistryHost(registry)) return out;
  for (const base of certsDirs()) {
    const dir = join(base, registry);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    const read = (name: string) => {
      try {
        return readFileSync(join(dir, name));
      } catch (e) {
        throw new BerthError('INVALID_ARGUMENT', `cannot read ${join(dir, name)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
          hint: 'the files of certs.d/<registry>/ must be readable by berth',
        });
      }
    };
    for (const name of names) {
      if (name.endsWith('.crt')) out.ca.push(read(name));
      else if (name.endsWith('.cert')) {
        const keyName = `${name.slice(0, -'.cert'.length)}.key`;
        if (!names.includes(keyName)) {
          throw new BerthError('INVALID_ARGUMENT', `missing key ${keyName} for client certificate ${join(dir, name)}`, {
            hint: 'a client certificate in certs.d needs its key beside it, named as it with .key',
          });
        }
        out.cert.push(read(name));
        out.key.push(read(keyName));
      } else if (name.endsWith('.key') && !names.includes(`${name.slice(0, -'.key'.length)}.cert`)) {
        throw new BerthError('INVALID_ARGUMENT', `missing client certificate ${name.slice(0, -'.key'.length)}.cert for key ${join(dir, name)}`, {
          hint: 'a key in certs.d needs its client certificate beside it, named as it with .cert',
        });
      }
    }
    if (out.ca.length || out.cert.length) break; // as docker: the first directory that has files for the host
  }
  return out;
}

/** docker's `RegistryConfig` of `info`, from the config file. */
export interface RegistryConfig {
  readonly AllowNondistributableArtifactsCIDRs: string[];
  readonly AllowNondistributableArtifactsHostnames: string[];
  readonly InsecureRegistryCIDRs: string[];
  readonly IndexConfigs: Record<string, { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }>;
  readonly Mirrors: string[];
  /** berth's: `registry-host-mirrors`, each mirror as docker writes one (with a trailing `/`). */
  readonly HostMirrors: Record<string, string[]>;
}

export function registryConfig(): RegistryConfig {
  const config = fileConfig();
  const slash = (m: string) => `${new URL(m).origin}/`;
  const mirrors = (config['registry-mirrors'] ?? []).map(slash);
  const { cidrs, hosts } = insecureEntries();
  const indexConfigs: RegistryConfig['IndexConfigs'] = {
    'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true },
  };
  const hostMirrors: Record<string, string[]> = {};
  for (const [host, list] of Object.entries(config['registry-host-mirrors'] ?? {})) {
    hostMirrors[host] = list.map(slash);
    if (host !== 'docker.io') indexConfigs[host] = { Name: host, Mirrors: hostMirrors[host], Secure: !hosts.includes(host.toLowerCase()), Official: false };
  }
  for (const host of hosts) indexConfigs[host] ??= { Name: host, Mirrors: [], Secure: false, Official: false };
  return {
    AllowNondistributableArtifactsCIDRs: [],
    AllowNondistributableArtifactsHostnames: [],
    InsecureRegistryCIDRs: [...new Set([...cidrs, ...DEFAULT_INSECURE_CIDRS])],
    IndexConfigs: indexConfigs,
    Mirrors: mirrors,
    HostMirrors: hostMirrors,
  };
}
