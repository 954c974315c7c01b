/** User networks (`network create`): their own bridge, and containers that reach each other by name. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { busyboxRoot } from '../helpers/busybox.ts';
import { aptMirrorUrl, iptablesSave } from './network-util.ts';

const t = busyboxRoot('berth-netnamed-');

function inspect(name: string): {
  Id: string;
  IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
  Options: Record<string, string>;
  Containers: Record<string, { Name: string }>;
} {
  const r = t.run(['network', 'inspect', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

function linkExists(name: string): boolean {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(` ${name}:`);
}

describe('network create, ls, inspect', () => {
  it('creates a bridge network with a subnet of its own and lists it beside the predefined ones', () => {
    const id = t.run(['network', 'create', 'lsnet']).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const names = t.run(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']).stdout.split('\n').filter(Boolean);
    assert.deepEqual(names, ['bridge bridge', 'host host', 'lsnet bridge', 'none null']);
    const view = inspect('lsnet');
    const { Subnet: subnet, Gateway: gateway } = view.IPAM.Config[0]!;
    assert.match(subnet, /^10\.89\.\d+\.0\/24$/);
    assert.equal(gateway, subnet.replace(/0\/24$/, '1'));
    // As docker's: the options it was created with (none), not the bridge's name, which is br-<id12>.
    assert.deepEqual(view.Options, {});
    assert.equal(t.run(['network', 'inspect', id.slice(0, 8), '-f', '{{.Name}}']).stdout, 'lsnet\n');
    assert.equal(t.run(['network', 'rm', 'lsnet']).code, 0);
  });

  const refusals: Array<[string, string[], RegExp]> = [
    ['a duplicate name', ['network', 'create', 'twice'], /already exists/],
    ['a predefined name', ['network', 'create', 'bridge'], /pre-defined bridge network/],
    ['an invalid name', ['network', 'create', '-bad'], /invalid network name|unknown shorthand flag/],
    ['an overlapping subnet', ['network', 'create', '--subnet', '10.89.0.0/16', 'overlap'], /overlaps/],
    ['removing a predefined network', ['network', 'rm', 'host'], /pre-defined network/],
    ['an unknown network for run', ['run', '--rm', '--network', 'nosuch', 'bb:1', 'true'], /network nosuch not found/],
    ['an alias on the default bridge', ['run', '--rm', '--network-alias', 'x', 'bb:1', 'true'], /only supported for user-defined networks/],
  ];
  for (const [what, args, message] of refusals) {
    // docker's statuses: 125 for run's own errors and for a bad flag, 1 for the engine's refusals.
    const code = args[0] === 'run' || what === 'an invalid name' ? 125 : 1;
    it(`refuses ${what} with ${code}`, () => {
      if (what === 'a duplicate name') assert.equal(t.run(['network', 'create', 'twice']).code, 0);
      const r = t.run(args);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
    });
  }
});

describe('containers on a user network', () => {
  it('reach each other by name, alias and short id, and still resolve outside names', () => {
    assert.equal(t.run(['network', 'create', 'mlnet']).code, 0);
    const id = t
      .run(['run', '-d', '--name', 'web', '--network', 'mlnet', '--network-alias', 'api', 'bb:1', 'httpd', '-f', '-p', '8080', '-h', '/etc'])
      .stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    for (const name of ['web', 'api', id.slice(0, 12)]) {
      const r = t.run(['run', '--rm', '--network', 'mlnet', 'bb:1', 'wget', '-q', '-O-', `http://${name}:8080/hostname`]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, `${id.slice(0, 12)}\n`);
    }
    const outside = t.run(['run', '--rm', '--network', 'mlnet', 'bb:1', 'wget', '-q', '-O', '/dev/null', `${aptMirrorUrl()}/dists/bookworm/Release`]);
    assert.equal(outside.code, 0, outside.stderr);
    const gateway = inspect('mlnet').IPAM.Config[0]!.Gateway;
    assert.equal(t.run(['run', '--rm', '--network', 'mlnet', 'bb:1', 'cat', '/etc/resolv.conf']).stdout.match(/^nameserver (.*)$/m)?.[1], gateway);
    assert.deepEqual(
      Object.values(inspect('mlnet').Containers).map((e) => e.Name),
      ['web'],
    );
  });

  it('a name is gone from DNS once its container stops', () => {
    const bridge = `br-${inspect('mlnet').Id.slice(0, 12)}`;
    assert.match(readFileSync(`/run/berth/dns/config/${bridge}`, 'utf8'), / web,[0-9a-f]{12},api\n/);
    assert.equal(t.run(['stop', '-t', '1', 'web']).code, 0);
    assert.doesNotMatch(readFileSync(`/run/berth/dns/config/${bridge}`, 'utf8'), /\bweb\b/);
    // busybox-static's resolver crashes on NXDOMAIN (139); a name still known would fail to connect (1) instead.
    const r = t.run(['run', '--rm', '--network', 'mlnet', 'bb:1', 'wget', '-T', '2', '-O-', 'http://web:8080/hostname']);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, /Connection refused|can't connect/);
  });

  it('rm refuses a network in use, then removes the bridge, its rules and its DNS file', () => {
    const bridge = `br-${inspect('mlnet').Id.slice(0, 12)}`;
    assert.equal(t.run(['start', 'web']).code, 0);
    const busy = t.run(['network', 'rm', 'mlnet']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /has active endpoints \(web\)/);
    assert.ok(linkExists(bridge));
    assert.equal(t.run(['rm', '-f', 'web']).code, 0);
    assert.equal(t.run(['network', 'rm', 'mlnet']).stdout, 'mlnet\n');
    assert.ok(!linkExists(bridge), 'bridge deleted');
    assert.ok(!iptablesSave().includes(bridge), 'no iptables rule names the bridge');
    assert.ok(!existsSync(`/run/berth/dns/config/${bridge}`), 'DNS config removed');
  });

  it('prune removes the networks no container uses', () => {
    assert.equal(t.run(['network', 'create', 'idle']).code, 0);
    assert.equal(t.run(['network', 'create', 'kept']).code, 0);
    assert.equal(t.run(['create', '--network', 'kept', 'bb:1', 'true']).code, 0);
    const r = t.run(['network', 'prune', '-f']);
    assert.match(r.stdout, /^Deleted Networks:\n/);
    assert.match(r.stdout, /\bidle\b/);
    assert.doesNotMatch(r.stdout, /\bkept\b/);
    assert.match(t.run(['network', 'ls', '--format', '{{.Name}}']).stdout, /^kept$/m);
  });
});
