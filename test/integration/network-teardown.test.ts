/** Teardown leaves nothing behind, twice is fine, parallel setups get distinct addresses, ports are exclusive. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { ATTACHMENTS_DIR, IPAM_DIR, PORTS_DIR } from '../../src/network/bridge.ts';
import { isBerthError } from '../../src/errors/index.ts';
import { checkNetwork, loadAttachment, setupNetwork, teardownNetwork, teardownNetworkDir, type NetworkAttachment } from '../../src/network/index.ts';
import { iptablesSave, newId, tempDir, removeTempDirs } from './network-util.ts';

after(removeTempDirs);

function hostVeth(att: NetworkAttachment): string {
  const ifaces = (att.cniResult as { interfaces?: Array<{ name: string; sandbox?: string }> }).interfaces ?? [];
  const veth = ifaces.find((i) => !i.sandbox && i.name.startsWith('veth'));
  assert.ok(veth, 'the result names the host end of the veth');
  return veth.name;
}

function leasePath(att: NetworkAttachment): string {
  return `${IPAM_DIR}/${att.cniConfig!.name}/${att.ipAddress}`;
}

async function freeHostPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function assertGone(att: NetworkAttachment, veth: string, lease: string): void {
  assert.ok(!existsSync(att.netnsPath!), 'netns removed');
  assert.ok(!existsSync(`/sys/class/net/${veth}`), `host veth ${veth} removed`);
  assert.ok(!existsSync(lease), 'IP lease released');
  assert.ok(!existsSync(att.stateDir), 'state dir removed');
  const rules = iptablesSave();
  assert.doesNotMatch(rules, new RegExp(att.containerId), 'no iptables rule names the container');
  assert.ok(!rules.includes(` ${att.ipAddress}/32 `), 'no iptables rule (firewall, masquerade) names its address');
  for (const p of att.ports) assert.ok(!existsSync(`${PORTS_DIR}/${p.protocol}-${p.hostPort}`), `reservation of ${p.hostPort} released`);
}

describe('teardown', () => {
  it('removes the veth, netns, rules, lease and reservations; a second teardown is a no-op', async () => {
    const att = await setupNetwork({
      containerId: newId(),
      mode: 'bridge',
      publish: ['127.0.0.1::80', '53/udp'],
      hostname: 't',
      stateDir: tempDir('berth-net-td-'),
    });
    const veth = hostVeth(att);
    const lease = leasePath(att);
    try {
      assert.ok(existsSync(`/sys/class/net/${veth}`));
      assert.equal(readFileSync(lease, 'utf8').split(/\r?\n/)[0], att.containerId);
      assert.match(iptablesSave(), new RegExp(att.containerId));
      await checkNetwork(att);
    } catch (e) {
      await teardownNetwork(att);
      throw e;
    }
    assert.deepEqual(await teardownNetwork(att), { warnings: [] });
    assertGone(att, veth, lease);
    assert.deepEqual(await teardownNetwork(att), { warnings: [] });
    assertGone(att, veth, lease);
  });

  it('undoes a setup whose record was lost, from the state dir alone', async () => {
    const stateDir = tempDir('berth-net-lost-');
    const att = await setupNetwork({ containerId: newId(), mode: 'bridge', publish: [], hostname: 't', stateDir });
    const veth = hostVeth(att);
    const lease = leasePath(att);
    assert.equal((await loadAttachment(stateDir))?.ipAddress, att.ipAddress);
    assert.deepEqual(await teardownNetworkDir(stateDir), { warnings: [] });
    assertGone(att, veth, lease);
  });

  const crashes: Array<{ name: string; lose: (att: NetworkAttachment) => void }> = [
    { name: 'its state dir lost', lose: (att) => rmSync(att.stateDir, { recursive: true, force: true }) },
    {
      name: 'every record lost',
      lose: (att) => {
        rmSync(att.stateDir, { recursive: true, force: true });
        rmSync(`${ATTACHMENTS_DIR}/${att.containerId}.json`, { force: true });
      },
    },
  ];
  for (const crash of crashes) {
    it(`a stale netns from a crashed run (${crash.name}) is undone by the next setup of the same container`, async () => {
      const id = newId();
      const stateDir = tempDir('berth-net-stale-');
      const first = await setupNetwork({ containerId: id, mode: 'bridge', publish: ['127.0.0.1::80'], hostname: 't', stateDir });
      const firstVeth = hostVeth(first);
      const firstLease = leasePath(first);
      crash.lose(first);
      const second = await setupNetwork({ containerId: id, mode: 'bridge', publish: [], hostname: 't', stateDir });
      try {
        assert.ok(!existsSync(`/sys/class/net/${firstVeth}`), 'the old veth is gone');
        assert.ok(existsSync(`/sys/class/net/${hostVeth(second)}`));
        if (first.ipAddress !== second.ipAddress) {
          assert.ok(!existsSync(firstLease), 'the old lease is released');
          assert.ok(!iptablesSave().includes(` ${first.ipAddress}/32 `), 'the old address has no rules left');
        }
        assert.ok(!existsSync(`${PORTS_DIR}/tcp-${first.ports[0]!.hostPort}`), 'the old reservation is released');
        assert.ok(!iptablesSave().includes(`--dports ${first.ports[0]!.hostPort} `), 'the old DNAT rule is gone');
        await checkNetwork(second);
      } finally {
        await teardownNetwork(second);
      }
      assert.doesNotMatch(iptablesSave(), new RegExp(id));
    });
  }
});

describe('concurrency', () => {
  it('two setups in parallel get distinct addresses and ports, and both tear down clean', async () => {
    const make = () => setupNetwork({ containerId: newId(), mode: 'bridge', publish: ['80'], hostname: 'p', stateDir: tempDir('berth-net-par-') });
    const [a, b] = await Promise.all([make(), make()]);
    const gone = [a, b].map((att) => ({ att, veth: hostVeth(att), lease: leasePath(att) }));
    try {
      assert.ok(a.ipAddress && b.ipAddress);
      assert.notEqual(a.ipAddress, b.ipAddress);
      assert.notEqual(a.ports[0]!.hostPort, b.ports[0]!.hostPort);
      for (const g of gone) assert.equal(readFileSync(g.lease, 'utf8').split(/\r?\n/)[0], g.att.containerId);
    } finally {
      await Promise.all([teardownNetwork(a), teardownNetwork(b)]);
    }
    for (const g of gone) assertGone(g.att, g.veth, g.lease);
  });
});

describe('host port exclusivity', () => {
  it('a port one container publishes is refused to another until the first is torn down', async () => {
    const port = await freeHostPort();
    const spec = `127.0.0.1:${port}:80`;
    const first = await setupNetwork({ containerId: newId(), mode: 'bridge', publish: [spec], hostname: 'a', stateDir: tempDir('berth-net-excl-') });
    const secondId = newId();
    try {
      await assert.rejects(
        setupNetwork({ containerId: secondId, mode: 'bridge', publish: [spec], hostname: 'b', stateDir: tempDir('berth-net-excl-') }),
        (e: unknown) => isBerthError(e, 'CONFLICT') && /port is already allocated/.test(e.message),
      );
      assert.ok(!existsSync(`/run/netns/berth-${secondId.slice(0, 12)}`), 'the refused setup was rolled back');
    } finally {
      await teardownNetwork(first);
    }
    const second = await setupNetwork({ containerId: secondId, mode: 'bridge', publish: [spec], hostname: 'b', stateDir: tempDir('berth-net-excl-') });
    assert.equal(second.ports[0]!.hostPort, port);
    await teardownNetwork(second);
  });

  it('a port a host process listens on is refused; a host range skips it', async () => {
    const srv = createServer();
    const port = await new Promise<number>((resolve) => srv.listen(0, '0.0.0.0', () => resolve((srv.address() as { port: number }).port)));
    try {
      await assert.rejects(
        setupNetwork({ containerId: newId(), mode: 'bridge', publish: [`${port}:80`], hostname: 'c', stateDir: tempDir('berth-net-excl-') }),
        (e: unknown) => isBerthError(e, 'CONFLICT'),
      );
      const att = await setupNetwork({
        containerId: newId(),
        mode: 'bridge',
        publish: [`${port}-${port + 1}:80`],
        hostname: 'c',
        stateDir: tempDir('berth-net-excl-'),
      });
      try {
        assert.equal(att.ports[0]!.hostPort, port + 1);
        assert.equal(att.ports[0]!.hostPortEnd, undefined);
      } finally {
        await teardownNetwork(att);
      }
    } finally {
      srv.close();
    }
  });
});
