/** The container's resolv.conf and hosts text, and the subnet arithmetic, as pure functions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrsOverlap } from '../../src/network/bridge.ts';
import { containerHosts, containerResolvConf, type DnsOptions } from '../../src/network/index.ts';

describe('containerResolvConf', () => {
  const stub = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n';
  const upstream = '# resolved upstream\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example\n';
  const cases: Array<{ name: string; mode: string; host: string; upstream?: string; opts?: DnsOptions; want: string }> = [
    { name: 'a plain host file is copied as it is', mode: 'bridge', host: 'nameserver 10.255.255.53\n', want: 'nameserver 10.255.255.53\n' },
    { name: 'a missing final newline is added', mode: 'bridge', host: 'nameserver 10.1.1.1', want: 'nameserver 10.1.1.1\n' },
    { name: 'host mode keeps a loopback stub', mode: 'host', host: stub, upstream, want: stub },
    {
      name: 'a loopback stub gives way to the upstream list',
      mode: 'bridge',
      host: stub,
      upstream,
      want: 'search corp.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions edns0 trust-ad\n',
    },
    {
      name: 'a loopback stub without upstream is dropped, no public resolver is made up',
      mode: 'bridge',
      host: stub,
      upstream: '',
      want: 'search corp.example\noptions edns0 trust-ad\n',
    },
    { name: 'loopback lines go, others stay', mode: 'none', host: 'nameserver 127.0.0.1\nnameserver 10.9.9.9\n', upstream: '', want: 'nameserver 10.9.9.9\n' },
    {
      name: '--dns replaces the nameservers, keeps search',
      mode: 'bridge',
      host: 'search a.example\nnameserver 10.1.1.1\n',
      opts: { dns: ['10.2.2.2'] },
      want: 'search a.example\nnameserver 10.2.2.2\n',
    },
    {
      name: '--dns-search and --dns-option replace theirs',
      mode: 'bridge',
      host: 'nameserver 10.1.1.1\noptions ndots:2\n',
      opts: { dnsSearch: ['b.example'], dnsOptions: ['ndots:5'] },
      want: 'search b.example\nnameserver 10.1.1.1\noptions ndots:5\n',
    },
    { name: 'an empty host file gives an empty file', mode: 'bridge', host: '', upstream: '', want: '' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(containerResolvConf(c.mode, c.host, c.upstream ?? '', c.opts), c.want));
  }
});

describe('containerHosts', () => {
  const base =
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
  it('without an address (none): only the loopback names', () => assert.equal(containerHosts({ hostname: 'web' }), base));
  it('with an address: the container names itself last', () =>
    assert.equal(containerHosts({ hostname: 'web', ipAddress: '10.87.0.5' }), `${base}10.87.0.5\tweb\n`));
  it('--add-host entries come before the own line', () => {
    assert.equal(
      containerHosts({ hostname: 'web', ipAddress: '10.87.0.5', extraHosts: [{ name: 'db', ip: '10.87.0.6' }] }),
      `${base}10.87.0.6\tdb\n10.87.0.5\tweb\n`,
    );
  });
});

describe('cidrsOverlap', () => {
  const cases: Array<[string, string, boolean]> = [
    ['10.87.0.0/16', '10.87.3.0/24', true],
    ['10.87.0.0/16', '10.88.0.0/16', false],
    ['10.0.0.0/8', '10.87.0.0/16', true],
    ['192.0.2.0/24', '10.87.0.0/16', false],
    ['10.87.255.255', '10.87.0.0/16', true],
    ['10.86.255.255/32', '10.87.0.0/16', false],
  ];
  for (const [a, b, want] of cases) it(`${a} ∩ ${b}`, () => assert.equal(cidrsOverlap(a, b), want));
});
