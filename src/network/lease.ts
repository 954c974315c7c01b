/**
 * IPv4 leases kept exactly as CNI's host-local plugin keeps them, so that the plugin and berth
 * hand out addresses from one directory side by side (network/veth.ts takes them in process;
 * the plugin still does on the paths that run it): one file per leased address, named by it
 * and holding `<container id>\r\n<interface>`, created with O_EXCL, which is what makes a
 * lease exclusive for both; and `last_reserved_ip.0`, after which the next search starts, so
 * that a released address is handed out again only once the range has gone round.
 */
import { closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';

export interface Lease {
  readonly address: string;
  readonly prefixLength: number;
  readonly gateway: string;
}

const LAST_RESERVED = 'last_reserved_ip.0';

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * host-local's range for a subnet given alone: the gateway is its first address, and leases go
 * from there (the gateway skipped) to the last address before the broadcast one.
 */
export function subnetRange(subnet: string): { first: number; last: number; gateway: number; prefixLength: number } | undefined {
  const [ip, bits] = subnet.split('/');
  const base = ipToInt(ip ?? '');
  const prefixLength = Number(bits);
  if (base === undefined || !Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > 30) return undefined;
  const size = 2 ** (32 - prefixLength);
  const network = base - (base % size);
  return { first: network + 1, last: network + size - 2, gateway: network + 1, prefixLength };
}

/** Leases `ifName` of `containerId` the next free address of `subnet` in `dir` (the network's lease dir). */
export function takeLease(dir: string, subnet: string, containerId: string, ifName: string): Lease {
  const range = subnetRange(subnet);
  if (!range) throw new BerthError('INVALID_ARGUMENT', `lease an address in ${subnet}: not an IPv4 subnet with room for hosts`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const taken = new Set(readdirSync(dir));
  let last: number | undefined;
  try {
    last = ipToInt(readFileSync(join(dir, LAST_RESERVED), 'utf8').trim());
  } catch {
    // none yet: the search starts at the range's start
  }
  const size = range.last - range.first + 1;
  const start = last !== undefined && last >= range.first && last <= range.last ? last + 1 - range.first : 0;
  for (let i = 0; i < size; i++) {
    const n = range.first + ((start + i) % size);
    const address = intToIp(n);
    if (n === range.gateway || taken.has(address)) continue;
    let fd: number;
    try {
      fd = openSync(join(dir, address), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') continue; // leased since the listing, by berth or the plugin
      throw e;
    }
    try {
      writeSync(fd, `${containerId}\r\n${ifName}`);
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(dir, LAST_RESERVED), address);
    return { address, prefixLength: range.prefixLength, gateway: intToIp(range.gateway) };
  }
  throw new BerthError('FAILED_PRECONDITION', `lease an address in ${subnet}: every address is taken`, {
    hint: 'remove stopped containers (berth container prune), or use a larger subnet',
  });
}

/** Removes every lease of `ifName` of `containerId` in `dir`, as host-local's DEL does (also its older files holding the id alone). */
export function releaseLeases(dir: string, containerId: string, ifName: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    if (name === 'lock' || name.startsWith('last_reserved_ip')) continue;
    let owner: string;
    try {
      owner = readFileSync(join(dir, name), 'utf8').trim();
    } catch {
      continue; // released meanwhile
    }
    if (owner === `${containerId}\r\n${ifName}` || owner === containerId) rmSync(join(dir, name), { force: true });
  }
}
