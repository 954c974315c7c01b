/**
 * The in-process attach (network/veth.ts) against the CNI plugins it stands in for: what one
 * makes, the other checks and undoes, and what is inside the namespace is the same.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { bridgeConfList, DEFAULT_BRIDGE, IPAM_DIR } from '../../src/network/bridge.ts';
import * as plugins from '../../src/network/cni.ts';
import { setupNetwork, teardownNetwork } from '../../src/network/index.ts';
import { createNetns, deleteNetns } from '../../src/network/netns.ts';
import * as inProcess from '../../src/network/veth.ts';
import { newId, nsRun, removeTempDirs, tempDir } from './network-util.ts';

type Result = { interfaces: Array<{ name: string; mac: string; sandbox?: string }>; ips: Array<{ address: string; gateway: string; interface: number }> };
const conf = bridgeConfList(DEFAULT_BRIDGE, { portmap: false });
const names: string[] = [];

before(async () => {
  // The default bridge up with its gateway (the in-process attach needs it; a first setup makes it).
  const att = await setupNetwork({ containerId: newId(), mode: 'bridge', publish: [], hostname: 'b', stateDir: tempDir('berth-veth-') });
  await teardownNetwork(att);
});
after(async () => {
  for (const n of names) await deleteNetns(n);
  removeTempDirs();
});

async function netns(): Promise<{ containerId: string; netns: string; ifName: string }> {
  const containerId = newId();
  const name = `berth-vt-${containerId.slice(0, 8)}`;
  names.push(name);
  return { containerId, netns: (await createNetns(name)).path, ifName: 'eth0' };
}

/** eth0's address, its default route, and the lease and host end a result names. */
function state(inv: { containerId: string; netns: string }, result: Result) {
  const host = result.interfaces.find((i) => !i.sandbox && i.name.startsWith('veth'))!.name;
  const address = result.ips[0]!.address;
  const lease = `${IPAM_DIR}/${conf.name}/${address.split('/')[0]}`;
  return {
    host,
    lease,
    leased: existsSync(lease) && readFileSync(lease, 'utf8') === `${inv.containerId}\r\neth0`,
    hostUp: existsSync(`/sys/class/net/${host}/brport`) && readFileSync(`/sys/class/net/${host}/operstate`, 'utf8').trim() === 'up',
    inside: nsRun(inv.netns, ['ip', '-4', '-o', 'addr', 'show', 'eth0']).stdout.includes(`inet ${address} `),
    route: nsRun(inv.netns, ['ip', '-4', 'route', 'show', 'default']).stdout.trim(),
  };
}

describe('in-process attach and the CNI plugins', () => {
  it('the in-process attach passes the plugins CHECK, and their DEL undoes it', async () => {
    const inv = await netns();
    const result = (await inProcess.addNetwork(conf, inv, {})) as Result;
    const s = state(inv, result);
    assert.deepEqual([s.leased, s.hostUp, s.inside], [true, true, true]);
    assert.equal(s.route, `default via ${result.ips[0]!.gateway} dev eth0 `.trim());
    assert.equal(readFileSync(`/sys/class/net/${s.host}/brport/hairpin_mode`, 'utf8').trim(), '1');
    await plugins.checkNetwork(conf, inv, {}, result);
    assert.deepEqual(await plugins.delNetwork(conf, inv, {}, result), []);
    assert.ok(!existsSync(s.lease), 'lease released');
    assert.ok(!existsSync(`/sys/class/net/${s.host}`), 'veth deleted');
  });

  it("the plugins' attach is undone in process, even with no result to go by", async () => {
    for (const cached of [true, false]) {
      const inv = await netns();
      const result = (await plugins.addNetwork(conf, inv, {})) as Result;
      const s = state(inv, result);
      assert.deepEqual([s.leased, s.hostUp, s.inside], [true, true, true]);
      assert.deepEqual(await inProcess.delNetwork(conf, inv, {}, cached ? result : undefined), []);
      assert.ok(!existsSync(s.lease), 'lease released');
      assert.ok(!existsSync(`/sys/class/net/${s.host}`), 'veth deleted');
      assert.deepEqual(await inProcess.delNetwork(conf, inv, {}, result), [], 'a second DEL is a no-op');
    }
  });

  it('a namespace that is not there is an error on ADD and nothing to do on DEL', async () => {
    const inv = { containerId: newId(), netns: '/run/netns/berth-vt-missing', ifName: 'eth0' };
    await assert.rejects(inProcess.addNetwork(conf, inv, {}), /berth-vt-missing/);
    const dir = `${IPAM_DIR}/${conf.name}`;
    const owners = readdirSync(dir).map((f) => readFileSync(`${dir}/${f}`, 'utf8'));
    assert.ok(!owners.some((o) => o.startsWith(inv.containerId)), 'the failed ADD released its lease');
    assert.deepEqual(await inProcess.delNetwork(conf, inv, {}, undefined), []);
  });
});
