/** Leases: live and dead owners, what a lease covers, and one writer per partial download. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../src/store/db.ts';
import { coveredBy, ownerAlive, processStart, ProcessLease, readLeases } from '../../src/store/leases.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-leases-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('lease owners', () => {
  const self = `${process.pid}:${processStart('self')}`;
  for (const [id, alive, why] of [
    [self, true, 'this process'],
    [`${process.pid}:1`, false, 'this pid with another start time (a reused pid)'],
    ['999999999:1', false, 'a pid that does not exist'],
    [`${process.pid}:`, false, 'no start time'],
  ] as const) {
    it(`${why}: ${alive ? 'alive' : 'dead'}`, () => assert.equal(ownerAlive(id), alive));
  }

  it('covers what changed at or after the earliest live lease, and nothing without one', () => {
    const names = new Map();
    assert.equal(coveredBy({ since: 1000, names, dead: [] }, 999), false);
    assert.equal(coveredBy({ since: 1000, names, dead: [] }, 1000), true);
    assert.equal(coveredBy({ since: undefined, names, dead: [] }, 5e12), false);
  });
});

describe('ProcessLease', () => {
  const db = openDatabase(join(dir, 'metadata.db'));
  after(() => db.close());

  it('names what it uses, and a dead owner\'s lease is reported as dead, not live', () => {
    const lease = new ProcessLease(db);
    lease.add('blob', ['sha256:aa', 'sha256:bb']);
    db.prepare('INSERT INTO leases (id, pid, since) VALUES (?, ?, ?)').run('999999999:7', 999999999, 0);
    db.prepare("INSERT INTO lease_resources (lease_id, kind, name) VALUES ('999999999:7', 'blob', 'sha256:cc')").run();
    const live = readLeases(db);
    assert.deepEqual([...(live.names.get('blob') ?? [])].sort(), ['sha256:aa', 'sha256:bb']);
    assert.deepEqual(live.dead, ['999999999:7']);
    assert.ok(live.since !== undefined && live.since <= Date.now());
    lease.release();
    assert.equal(readLeases(db).names.get('blob'), undefined);
  });

  it('takes a dead writer\'s partial download over at once', async () => {
    db.prepare('INSERT OR REPLACE INTO leases (id, pid, since) VALUES (?, ?, ?)').run('999999998:7', 999999998, 0);
    db.prepare("INSERT INTO lease_resources (lease_id, kind, name) VALUES ('999999998:7', 'ingest', 'abc')").run();
    const lease = new ProcessLease(db);
    const unlock = await lease.lockIngest('abc');
    const owners = db.prepare("SELECT lease_id FROM lease_resources WHERE kind = 'ingest' AND name = 'abc'").all() as Array<{ lease_id: string }>;
    assert.deepEqual(owners.map((o) => o.lease_id), [`${process.pid}:${processStart('self')}`]);
    unlock();
    lease.release();
  });

  it('waits while a live process writes it, and goes on once that one is done', async () => {
    // Another live process (a sleeping child) holds the lock.
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const owner = `${child.pid}:${processStart(child.pid!)}`;
      db.prepare('INSERT INTO leases (id, pid, since) VALUES (?, ?, ?)').run(owner, child.pid, Date.now());
      db.prepare("INSERT INTO lease_resources (lease_id, kind, name) VALUES (?, 'ingest', 'def')").run(owner);
      const lease = new ProcessLease(db);
      let got = false;
      const waiting = lease.lockIngest('def').then((unlock) => {
        got = true;
        return unlock;
      });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(got, false, 'the lock of a live writer must not be taken');
      child.kill('SIGKILL');
      (await waiting)();
      assert.equal(got, true);
      lease.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
