/** --network none and host, and the options setup refuses. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { setupNetwork, teardownNetwork } from '../../src/network/index.ts';
import { newId, tempDir, removeTempDirs } from './network-util.ts';

after(removeTempDirs);

describe('--network none', () => {
  it('leaves the netns to runc and still writes the /etc files', async () => {
    const id = newId();
    const att = await setupNetwork({ containerId: id, mode: 'none', publish: [], hostname: 'quiet', stateDir: tempDir('berth-net-none-') });
    try {
      assert.equal(att.mode, 'none');
      assert.equal(att.netnsPath, undefined, 'runc makes the namespace');
      assert.ok(!existsSync(`/run/netns/berth-${id.slice(0, 12)}`));
      assert.equal(att.ipAddress, undefined);
      assert.ok(existsSync(att.resolvConfPath));
      const hosts = readFileSync(att.hostsPath, 'utf8');
      assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
      assert.doesNotMatch(hosts, /\tquiet$/m);
      assert.equal(readFileSync(att.hostnamePath, 'utf8'), 'quiet\n');
    } finally {
      await teardownNetwork(att);
    }
    assert.ok(!existsSync(att.stateDir), 'state dir removed');
  });

  it('refuses published ports', async () => {
    await assert.rejects(
      setupNetwork({ containerId: newId(), mode: 'none', publish: ['8080:80'], hostname: 'x', stateDir: tempDir('berth-net-none-') }),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /conflicting options/.test(e.message),
    );
  });
});

describe('--network host', () => {
  it('makes no netns, copies the host files and discards -p', async () => {
    const att = await setupNetwork({ containerId: newId(), mode: 'host', publish: ['8080:80'], hostname: 'hosty', stateDir: tempDir('berth-net-host-') });
    try {
      assert.equal(att.mode, 'host');
      assert.equal(att.netnsPath, undefined);
      assert.deepEqual(att.ports, []);
      assert.equal(readFileSync(att.hostsPath, 'utf8'), readFileSync('/etc/hosts', 'utf8'));
      const hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
      assert.equal(readFileSync(att.resolvConfPath, 'utf8'), hostResolv.endsWith('\n') ? hostResolv : `${hostResolv}\n`);
      assert.equal(readFileSync(att.hostnamePath, 'utf8'), 'hosty\n');
    } finally {
      await teardownNetwork(att);
    }
    assert.ok(!existsSync(att.stateDir), 'state dir removed');
  });
});

describe('setup refusals', () => {
  const cases: Array<{ name: string; mode: string; publish: string[]; code: string; message: RegExp }> = [
    { name: 'unknown network', mode: 'nosuchnet', publish: [], code: 'NOT_FOUND', message: /network nosuchnet not found/ },
    { name: 'bad -p', mode: 'bridge', publish: ['99999:80'], code: 'INVALID_ARGUMENT', message: /ports are 1-65535/ },
    { name: 'host address not on this host', mode: 'bridge', publish: ['198.51.100.7:18081:80'], code: 'INVALID_ARGUMENT', message: /not one of this host's/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const id = newId();
      await assert.rejects(
        setupNetwork({ containerId: id, mode: c.mode, publish: c.publish, hostname: 'x', stateDir: tempDir('berth-net-refuse-') }),
        (e: unknown) => isBerthError(e) && e.code === c.code && c.message.test(e.message),
      );
      assert.ok(!existsSync(`/run/netns/berth-${id.slice(0, 12)}`), 'a refused setup leaves no netns');
    });
  }
});
