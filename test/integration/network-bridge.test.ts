/** The bridge network on the real CNI plugins: addressing, routes, published ports, NAT, DNS files. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_BRIDGE, setupNetwork, teardownNetwork, type NetworkAttachment } from '../../src/network/index.ts';
import { bridgeChains, cidrsOverlap } from '../../src/network/bridge.ts';
import { aptMirrorUrl, hostHttpGet, iptablesSave, newId, nsHttpGet, nsRun, startHttpd, stopServer, tempDir, removeTempDirs } from './network-util.ts';

after(removeTempDirs);

describe('bridge network', () => {
  const id = newId();
  let att: NetworkAttachment;
  before(async () => {
    att = await setupNetwork({
      containerId: id,
      mode: 'bridge',
      publish: ['127.0.0.1::8080', '0.0.0.0::8080', '8081/udp'],
      hostname: 'web1',
      stateDir: tempDir('berth-net-bridge-'),
    });
  });
  after(async () => {
    await teardownNetwork(att);
  });

  it('gives eth0 an address in the subnet, a gateway and a MAC', () => {
    assert.equal(att.mode, 'bridge');
    assert.ok(att.ipAddress && cidrsOverlap(`${att.ipAddress}/32`, DEFAULT_BRIDGE.subnet), `${att.ipAddress} in ${DEFAULT_BRIDGE.subnet}`);
    assert.ok(att.gateway && cidrsOverlap(`${att.gateway}/32`, DEFAULT_BRIDGE.subnet));
    assert.match(att.macAddress ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const addr = nsRun(att.netnsPath!, ['busybox', 'ip', '-4', 'addr', 'show', 'eth0']);
    assert.equal(addr.code, 0, addr.stderr);
    assert.match(addr.stdout, new RegExp(`inet ${att.ipAddress!.replaceAll('.', '\\.')}/${att.ipPrefixLength}`));
  });

  it('has lo up and a default route through the gateway', () => {
    const route = nsRun(att.netnsPath!, ['busybox', 'ip', 'route']);
    assert.match(route.stdout, new RegExp(`^default via ${att.gateway!.replaceAll('.', '\\.')} dev eth0`, 'm'));
    const lo = nsRun(att.netnsPath!, ['busybox', 'ip', 'link', 'show', 'lo']);
    assert.match(lo.stdout, /<[^>]*\bUP\b[^>]*>/);
  });

  it('reaches the gateway from inside', () => {
    const ping = nsRun(att.netnsPath!, ['busybox', 'ping', '-c', '1', '-W', '3', att.gateway!]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /1 packets received/);
  });

  it('resolves random host ports and reports them', () => {
    assert.equal(att.ports.length, 3);
    for (const p of att.ports) assert.ok(p.hostPort > 0 && p.hostPort <= 65535, JSON.stringify(p));
    assert.deepEqual(
      att.ports.map((p) => [p.hostIp, p.containerPort, p.protocol]),
      [
        ['127.0.0.1', 8080, 'tcp'],
        ['0.0.0.0', 8080, 'tcp'],
        ['', 8081, 'udp'],
      ],
    );
    assert.equal(new Set(att.ports.map((p) => p.hostPort)).size, 3);
  });

  describe('published ports from the host', () => {
    let server: ReturnType<typeof startHttpd>;
    before(() => {
      server = startHttpd(att.netnsPath!, 8080, 'hello from the container\n');
    });
    after(() => stopServer(server));

    it('127.0.0.1:PORT reaches the container (portmap SNAT and route_localnet)', async () => {
      const port = att.ports[0]!.hostPort;
      assert.equal(await hostHttpGet(`http://127.0.0.1:${port}/`), 'hello from the container\n');
      assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${DEFAULT_BRIDGE.bridge}/route_localnet`, 'utf8').trim(), '1');
    });

    it('a 0.0.0.0 publish answers on a non-loopback address of the host', async () => {
      // The bridge's own address is a host address that stays inside this machine.
      const port = att.ports[1]!.hostPort;
      assert.equal(await hostHttpGet(`http://${att.gateway}:${port}/`), 'hello from the container\n');
    });

    it('the container reaches its own server through its address', () => {
      const r = nsHttpGet(att.netnsPath!, `http://${att.ipAddress}:8080/`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '200\nhello from the container\n\n');
    });
  });

  it("masquerades the subnet with the bridge's own rules and enables forwarding", () => {
    const rules = iptablesSave();
    const { nat, forward } = bridgeChains(DEFAULT_BRIDGE);
    const esc = (x: string) => x.replaceAll('.', '\\.').replaceAll('/', '\\/');
    assert.match(rules, new RegExp(`^-A POSTROUTING -j ${nat}$`, 'm'));
    assert.match(rules, new RegExp(`^-A ${nat} -s ${esc(DEFAULT_BRIDGE.subnet)} ! -o ${DEFAULT_BRIDGE.bridge} -j MASQUERADE$`, 'm'));
    assert.match(rules, new RegExp(`^-A FORWARD -j ${forward}$`, 'm'));
    assert.match(rules, new RegExp(`^-A ${forward} -i ${DEFAULT_BRIDGE.bridge} -j ACCEPT$`, 'm'));
    assert.equal(rules.split('\n').filter((l) => l === `-A POSTROUTING -j ${nat}`).length, 1, 'one jump, however many containers started');
    assert.ok(!rules.includes(`-s ${att.ipAddress}/32`), 'no per-container masquerade rule');
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1');
  });

  it('writes hosts, hostname and a usable resolv.conf', () => {
    const hosts = readFileSync(att.hostsPath, 'utf8');
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(hosts, /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
    assert.match(hosts, new RegExp(`^${att.ipAddress!.replaceAll('.', '\\.')}\\tweb1$`, 'm'));
    assert.equal(readFileSync(att.hostnamePath, 'utf8'), 'web1\n');
    const resolv = readFileSync(att.resolvConfPath, 'utf8');
    const servers = [...resolv.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]!);
    assert.ok(servers.length > 0, resolv);
    for (const s of servers) assert.ok(!s.startsWith('127.') && s !== '::1', `${s} is unreachable from a netns`);
  });

  it('reaches the Debian mirror from inside, by name, through NAT', () => {
    const r = nsHttpGet(att.netnsPath!, `${aptMirrorUrl()}/dists/bookworm/Release`, 15_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^200\n/);
  });
});
