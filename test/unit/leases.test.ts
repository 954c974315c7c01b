/** Leases: live and dead owners, what a lease covers, and one writer per partial download. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../src/store/db.ts';
import { coveredBy, LeaseRecords, ownerAlive, processStart, ProcessLease } from '../../src/store/leases.ts';

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
  const records = new LeaseRecords(db);
  after(() => db.close());

  it("names what it uses, and a dead owner's lease is reported as dead, not live", () => {
    const lease = new ProcessLease(records);
    lease.add('blob', ['sha256:aa', 'sha256:bb']);
    records.put('999999999:7', 999999999, 0);
    records.addNames('999999999:7', 'blob', ['sha256:cc']);
    const live = records.read();
    assert.deepEqual([...(live.names.get('blob') ?? [])].sort(), ['sha256:aa', 'sha256:bb']);
    assert.deepEqual(live.dead, ['999999999:7']);
    assert.ok(live.since !== undefined && live.since <= Date.now());
    lease.release();
    assert.equal(records.read().names.get('blob'), undefined);
  });

  it("takes a dead writer's partial download over at once", async () => {
    records.put('999999998:7', 999999998, 0);
    records.addNames('999999998:7', 'ingest', ['abc']);
    const lease = new ProcessLease(records);
    const unlock = await lease.lockIngest('abc');
    assert.deepEqual(records.holders('ingest', 'abc'), [`${process.pid}:${processStart('self')}`]);
    unlock();
    lease.release();
  });

  it('waits while a live process writes it, and goes on once that one is done', async () => {
    // Another live process (a sleeping child) holds the lock.
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const owner = `${child.pid}:${processStart(child.pid!)}`;
      records.put(owner, child.pid!, Date.now());
      records.addNames(owner, 'ingest', ['def']);
      const lease = new ProcessLease(records);
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

  it('a server releases its lease when the last piece of work in flight ends, and takes a new one on the next write', () => {
    const lease = new ProcessLease(records);
    const self = `${process.pid}:${processStart('self')}`;
    const endA = lease.enter();
    const endB = lease.enter();
    lease.add('blob', ['sha256:served']);
    assert.ok(records.read().names.get('blob')?.has('sha256:served'));
    endA();
    endA(); // a second end of the same piece counts once
    assert.ok(records.read().names.get('blob')?.has('sha256:served'), 'B is still in flight');
    endB();
    assert.equal(records.read().names.get('blob')?.has('sha256:served') ?? false, false);
    assert.equal(records.read().since, undefined);
    const endC = lease.enter();
    lease.hold();
    assert.ok(records.read().since !== undefined, `${self} holds a lease again`);
    endC();
    assert.equal(records.read().since, undefined);
  });
});
