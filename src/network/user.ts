/** Creating and removing user networks: the record in the state root plus the machine state it owns. */
import { BerthError } from '../errors/index.ts';
import { recordEvent } from '../store/events.ts';
import { hostRoutes, removeBridge } from './bridge.ts';
import { removeDnsNetwork } from './dns.ts';
import { rootlessUserNetworkError } from './rootless/index.ts';
import { isRootless } from '../sys/rootless.ts';
import { bridgeOf, createNetworkRecord, type NetworkRecord, type NetworkRecords } from './records.ts';

export async function createUserNetwork(
  records: NetworkRecords,
  name: string,
  opts: { subnet?: string; gateway?: string; labels?: Record<string, string> } = {},
): Promise<NetworkRecord> {
  if (isRootless()) throw rootlessUserNetworkError();
  const checked = checkAddresses(opts);
  const routes = (await hostRoutes()).map((r) => r.dst);
  return createNetworkRecord(records, name, { ...opts, ...checked, hostRoutes: routes });
}

/** An IPv4 address as Go's net.ParseIP takes it (four decimal octets, no leading zeros), as a number. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function ipv4Text(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * `--subnet` and `--gateway` checked with docker's words: a subnet must be an IPv4 CIDR
 * (Go's net.ParseCIDR) with room for a gateway and a container, and is kept as its network
 * address; a gateway needs a subnet, must lie inside it, and must not be its network or
 * broadcast address.
 */
export function checkAddresses(opts: { subnet?: string; gateway?: string }): { subnet?: string; gateway?: string } {
  if (opts.subnet === undefined) {
    if (opts.gateway !== undefined)
      throw new BerthError('INVALID_ARGUMENT', 'every ip-range or gateway must have a corresponding subnet', { hint: 'give --subnet with --gateway' });
    return {};
  }
  const m = /^([^/]*)\/(\d{1,3})$/.exec(opts.subnet);
  const ip = m ? parseIPv4(m[1]!) : undefined;
  const bits = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(bits <= 32)) {
    throw new BerthError('INVALID_ARGUMENT', `Invalid subnet ${opts.subnet} : invalid CIDR address: ${opts.subnet}`, {
      hint: 'give an IPv4 CIDR such as 10.99.0.0/24',
    });
  }
  if (bits > 30)
    throw new BerthError('INVALID_ARGUMENT', 'failed to allocate gateway (): No available addresses on this pool', {
      hint: 'a subnet needs a prefix of /30 or shorter',
    });
  const size = 2 ** (32 - bits);
  const first = Math.floor(ip / size) * size;
  const subnet = `${ipv4Text(first)}/${bits}`;
  if (opts.gateway === undefined) return { subnet };
  const gw = parseIPv4(opts.gateway);
  if (gw === undefined || gw < first || gw >= first + size)
    throw new BerthError('INVALID_ARGUMENT', `no matching subnet for gateway ${opts.gateway}`, { hint: `the gateway must be an address inside ${subnet}` });
  if (gw === first || gw === first + size - 1)
    throw new BerthError('INVALID_ARGUMENT', `failed to allocate gateway (${opts.gateway}): Address already in use`, {
      hint: 'the network and broadcast addresses cannot be the gateway',
    });
  return { subnet, gateway: ipv4Text(gw) };
}

/**
 * Removes a network no running container is attached to (`attached` lists those that are,
 * by name), as docker refuses a network with active endpoints. Returns teardown warnings.
 */
export async function removeUserNetwork(records: NetworkRecords, rec: NetworkRecord, attached: readonly string[]): Promise<string[]> {
  if (attached.length) {
    throw new BerthError('CONFLICT', `error while removing network: network ${rec.name} id ${rec.id} has active endpoints (${attached.join(', ')})`, {
      hint: 'stop or remove those containers first',
    });
  }
  await removeDnsNetwork({ bridge: rec.bridge, gateway: rec.gateway });
  const warnings = await removeBridge(bridgeOf(rec));
  records.delete(rec.id);
  recordEvent('network', 'destroy', rec.id, { name: rec.name, type: 'bridge' });
  return warnings;
}
