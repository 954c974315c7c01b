/**
 * The network use cases the API adds, on a real metadata file and no machine state: the
 * list filters as tables, and connect/disconnect of a container record (one network per
 * container; a running one is refused), with the events they record.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ContainerRecord } from '../../src/container/records.ts';
import { initialState, type ContainerConfigRecord, type ContainerState } from '../../src/container/types.ts';
import { isBerthError } from '../../src/errors/index.ts';
import { createNetworkRecord } from '../../src/network/records.ts';
import type { Digest } from '../../src/oci/digest.ts';
import { connectNetwork, disconnectNetwork } from '../../src/services/network-connect.ts';
import { filterNetworks, listNetworks } from '../../src/services/networks.ts';
import { Metadata } from '../../src/store/metadata.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-netconnect-'));
const m = new Metadata<ContainerConfigRecord, ContainerState>(join(dir, 'metadata.db'));
after(() => {
  m.close();
  rmSync(dir, { recursive: true, force: true });
});
const deps = { networks: m.networks, containers: m.containers };

const front = createNetworkRecord(m.networks, 'front', { hostRoutes: [], labels: { team: 'web', tier: 'a' } });
createNetworkRecord(m.networks, 'back', { hostRoutes: [], labels: { team: 'db' } });

function container(id: string, name: string, network: string, status: ContainerState['status'] = 'created'): ContainerRecord {
  const config = {
    path: 'true',
    args: [],
    env: [],
    user: '',
    workdir: '',
    hostname: id.slice(0, 12),
    tty: false,
    interactive: false,
    network,
    networkAliases: [],
    publish: [],
    mounts: [],
    volumes: [],
    autoRemove: false,
    labels: {},
    stopSignal: 'SIGTERM',
    stopTimeout: 10,
    runtime: {},
  } satisfies ContainerConfigRecord;
  const rec = {
    id,
    name,
    imageId: `sha256:${'a'.repeat(64)}` as Digest,
    imageRef: 'bb:1',
    created: new Date().toISOString(),
    config,
    state: { ...initialState(), status },
  };
  m.containers.insert(rec);
  return rec;
}

describe('filterNetworks', () => {
  const names = (f: Record<string, string[]>) => filterNetworks(deps, listNetworks(deps), new Map(Object.entries(f))).map((r) => r.Name);
  const cases: Array<[string, Record<string, string[]>, string[]]> = [
    ['no filter: the predefined and the user networks, by name', {}, ['back', 'bridge', 'front', 'host', 'none']],
    ['name is a pattern found in the name', { name: ['ro'] }, ['front']],
    ['name alternatives', { name: ['^front$', '^back$'] }, ['back', 'front']],
    ['id prefix', { id: [`^${front.id.slice(0, 6)}`] }, ['front']],
    ['driver', { driver: ['null'] }, ['none']],
    ['type custom', { type: ['custom'] }, ['back', 'front']],
    ['type builtin', { type: ['builtin'] }, ['bridge', 'host', 'none']],
    ['label key', { label: ['team'] }, ['back', 'front']],
    ['label key=value', { label: ['team=web'] }, ['front']],
    ['every label must hold', { label: ['team=web', 'tier=b'] }, []],
    ['keys all apply', { type: ['custom'], label: ['team=db'] }, ['back']],
    ['dangling: user networks no container names', { dangling: ['true'] }, ['back', 'front']],
  ];
  for (const [what, f, want] of cases) it(what, () => assert.deepEqual(names(f), want));
  const bads: Array<Record<string, string[]>> = [{ colour: ['x'] }, { type: ['weird'] }, { dangling: ['maybe'] }];
  for (const bad of bads) {
    it(`refuses ${JSON.stringify(bad)}`, () =>
      assert.throws(
        () => names(bad),
        (e) => isBerthError(e, 'INVALID_ARGUMENT'),
      ));
  }
});

describe('connect and disconnect', () => {
  it('moves a created container from the default bridge to a network, with aliases, and off it again', () => {
    const rec = container('1'.repeat(64), 'c1', 'bridge');
    const before = m.events.lastId();
    connectNetwork(deps, 'front', 'c1', { aliases: ['web', 'web'] });
    assert.equal(m.containers.require('c1').config.network, 'front');
    assert.deepEqual(m.containers.require('c1').config.networkAliases, ['web']);
    // Connected again (compose adds its aliases): they add up.
    connectNetwork(deps, front.id, 'c1', { aliases: ['svc'] });
    assert.deepEqual(m.containers.require('c1').config.networkAliases, ['web', 'svc']);
    disconnectNetwork(deps, 'front', rec.id);
    assert.equal(m.containers.require('c1').config.network, 'none');
    assert.deepEqual(
      m.events.list({ afterId: before }).map((e) => [e.type, e.action, e.actorId, e.attributes.container, e.attributes.name]),
      [
        ['network', 'connect', front.id, rec.id, 'front'],
        ['network', 'connect', front.id, rec.id, 'front'],
        ['network', 'disconnect', front.id, rec.id, 'front'],
      ],
    );
    // Dangling again: nothing names front now.
    assert.deepEqual(
      filterNetworks(deps, listNetworks(deps), new Map([['dangling', ['false']]])).map((r) => r.Name),
      ['bridge', 'host', 'none'],
    );
  });

  const refusals: Array<[string, () => void, string]> = [
    [
      'a second chosen network',
      () => {
        container('2'.repeat(64), 'c2', 'back');
        connectNetwork(deps, 'front', 'c2');
      },
      'UNSUPPORTED',
    ],
    [
      'another network for a running container',
      () => {
        container('3'.repeat(64), 'c3', 'bridge', 'running');
        connectNetwork(deps, 'front', 'c3');
      },
      'UNSUPPORTED',
    ],
    [
      'the network a running container is on',
      () => {
        container('4'.repeat(64), 'c4', 'back', 'running');
        connectNetwork(deps, 'back', 'c4');
      },
      'FAILED_PRECONDITION',
    ],
    ['disconnecting a running container', () => disconnectNetwork(deps, 'back', 'c4'), 'UNSUPPORTED'],
    ['a network the container is not on', () => disconnectNetwork(deps, 'front', 'c2'), 'FAILED_PRECONDITION'],
    ['aliases on a predefined network', () => connectNetwork(deps, 'bridge', 'c2', { aliases: ['x'] }), 'INVALID_ARGUMENT'],
    [
      'a host-network container',
      () => {
        container('5'.repeat(64), 'c5', 'host');
        connectNetwork(deps, 'front', 'c5');
      },
      'FAILED_PRECONDITION',
    ],
    ['an unknown container', () => connectNetwork(deps, 'front', 'nosuch'), 'NOT_FOUND'],
    ['an unknown network', () => connectNetwork(deps, 'nosuch', 'c2'), 'NOT_FOUND'],
  ];
  for (const [what, fn, code] of refusals) {
    it(`refuses ${what} (${code})`, () => assert.throws(fn, (e) => isBerthError(e) && e.code === code));
  }

  it('a refused change leaves the record as it was', () => {
    assert.equal(m.containers.require('c2').config.network, 'back');
    assert.equal(m.containers.require('c3').config.network, 'bridge');
    // Forced, a disconnect from a network the container is not on is no error.
    disconnectNetwork(deps, 'front', 'c2', { force: true });
    assert.equal(m.containers.require('c2').config.network, 'back');
  });
});
