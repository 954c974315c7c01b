/** Creating and removing user networks: the record in the state root plus the machine state it owns. */
import { BerthError } from '../errors/index.ts';
import type { Database } from '../store/db.ts';
import { hostRoutes, removeBridge } from './bridge.ts';
import { removeDnsNetwork } from './dns.ts';
import { bridgeOf, NetworkRecords, type NetworkRecord } from './records.ts';

export async function createUserNetwork(db: Database, name: string, opts: { subnet?: string; gateway?: string; labels?: Record<string, string> } = {}): Promise<NetworkRecord> {
  const routes = (await hostRoutes()).map((r) => r.dst);
  return new NetworkRecords(db).create(name, { ...opts, hostRoutes: routes });
}

/**
 * Removes a network no running container is attached to (`attached` lists those that are,
 * by name), as docker refuses a network with active endpoints. Returns teardown warnings.
 */
export async function removeUserNetwork(db: Database, rec: NetworkRecord, attached: readonly string[]): Promise<string[]> {
  if (attached.length) {
    throw new BerthError('CONFLICT', `error while removing network: network ${rec.name} id ${rec.id} has active endpoints (${attached.join(', ')})`, {
      hint: 'stop or remove those containers first',
    });
  }
  await removeDnsNetwork({ bridge: rec.bridge, gateway: rec.gateway });
  const warnings = await removeBridge(bridgeOf(rec));
  new NetworkRecords(db).delete(rec.id);
  return warnings;
}
