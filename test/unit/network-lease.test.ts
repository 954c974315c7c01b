/** Address leases in host-local's files: the order it hands them out in, exclusivity, release, bad input. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { releaseLeases, subnetRange, takeLease } from '../../src/network/lease.ts';

const root = mkdtempSync(join(tmpdir(), 'berth-lease-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => join(root, `net${dirs++}`);

describe('leases', () => {
  it('hands out addresses after the gateway, in turn, in host-local format', () => {
    const dir = newDir();
    const a = takeLease(dir, '10.9.0.0/16', 'a'.repeat(64), 'eth0');
    const b = takeLease(dir, '10.9.0.0/16', 'b'.repeat(64), 'eth0');
    assert.deepEqual(a, { address: '10.9.0.2', prefixLength: 16, gateway: '10.9.0.1' });
    assert.equal(b.address, '10.9.0.3');
    assert.equal(readFileSync(join(dir, '10.9.0.2'), 'utf8'), `${'a'.repeat(64)}\r\neth0`);
    assert.equal(readFileSync(join(dir, 'last_reserved_ip.0'), 'utf8'), '10.9.0.3');
    // Released addresses come back only once the range has gone round.
    releaseLeases(dir, 'a'.repeat(64), 'eth0');
    assert.equal(takeLease(dir, '10.9.0.0/16', 'c'.repeat(64), 'eth0').address, '10.9.0.4');
  });

  it('skips an address another process leased, and wraps round past the broadcast address', () => {
    const dir = newDir();
    takeLease(dir, '192.168.7.0/29', 'x', 'eth0'); // .2
    writeFileSync(join(dir, '192.168.7.3'), 'plugin\r\neth0'); // as the plugin would have
    writeFileSync(join(dir, 'last_reserved_ip.0'), '192.168.7.6'); // the range's last (.7 is broadcast)
    assert.equal(takeLease(dir, '192.168.7.0/29', 'y', 'eth0').address, '192.168.7.4');
    for (const want of ['192.168.7.5', '192.168.7.6']) assert.equal(takeLease(dir, '192.168.7.0/29', 'z', 'eth0').address, want);
    assert.throws(
      () => takeLease(dir, '192.168.7.0/29', 'full', 'eth0'),
      (e) => isBerthError(e) && e.code === 'FAILED_PRECONDITION',
    );
  });

  it('releases only the leases of that container and interface (and the old id-only files)', () => {
    const dir = newDir();
    takeLease(dir, '10.1.0.0/24', 'mine', 'eth0');
    takeLease(dir, '10.1.0.0/24', 'mine', 'eth1');
    takeLease(dir, '10.1.0.0/24', 'other', 'eth0');
    writeFileSync(join(dir, '10.1.0.99'), 'mine');
    releaseLeases(dir, 'mine', 'eth0');
    assert.deepEqual(readdirSync(dir).sort(), ['10.1.0.3', '10.1.0.4', 'last_reserved_ip.0']);
    releaseLeases(join(root, 'missing'), 'mine', 'eth0'); // no dir: nothing to release
  });

  it('refuses subnets without room for hosts, and malformed ones', () => {
    for (const bad of ['10.0.0.0/31', '10.0.0.0/32', '10.0.0.0/0', '10.0.0/16', '300.0.0.0/8', 'fd00::/64', '../../etc/16', '10.0.0.0']) {
      assert.equal(subnetRange(bad), undefined, bad);
      assert.throws(
        () => takeLease(newDir(), bad, 'x', 'eth0'),
        (e) => isBerthError(e) && e.code === 'INVALID_ARGUMENT',
        bad,
      );
    }
    assert.deepEqual(subnetRange('10.87.3.4/16'), {
      first: ipInt(10, 87, 0, 1),
      last: ipInt(10, 87, 255, 254),
      gateway: ipInt(10, 87, 0, 1),
      prefixLength: 16,
    });
  });
});

function ipInt(a: number, b: number, c: number, d: number): number {
  return ((a * 256 + b) * 256 + c) * 256 + d;
}
