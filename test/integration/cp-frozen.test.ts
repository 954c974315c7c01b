/** A `berth cp` killed with -9 leaves its container frozen; reconcile (ps) and `system prune` thaw it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultRunRoot } from '../../src/store/root.ts';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-cpfrz-');
let id = '';
let runcRoot = '';

function runcStatus(): string {
  const r = spawnSync('runc', ['--root', runcRoot, 'state', id], { encoding: 'utf8' });
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string }).status : 'none';
}

/** Freezes the container as `berth cp` does, its lock naming a process that has exited. */
function freezeAsDeadCp(): void {
  const dead = spawnSync('true').pid;
  assert.ok(dead);
  assert.equal(spawnSync('runc', ['--root', runcRoot, 'pause', id]).status, 0);
  writeFileSync(join(defaultRunRoot(t.root), 'containers', id, 'cp.lock'), String(dead));
  assert.equal(runcStatus(), 'paused');
}

function counter(): number {
  const r = t.run(['exec', id, 'cat', '/tmp/n']);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

async function makesProgress(): Promise<void> {
  const a = counter();
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(counter() > a, 'the container process counts again');
}

before(() => {
  const r = t.run(['run', '-d', 'bb:1', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done']);
  assert.equal(r.code, 0, r.stderr);
  id = r.stdout.trim();
  runcRoot = join(defaultRunRoot(t.root), 'runc');
});
after(() => {
  spawnSync('runc', ['--root', runcRoot, 'resume', id]);
  t.run(['rm', '-f', id]);
  t.cleanup();
});

describe('a container frozen by a dead cp', () => {
  it('ps thaws it', async () => {
    freezeAsDeadCp();
    const r = t.run(['ps']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(runcStatus(), 'running');
    await makesProgress();
  });

  it('system check lists it and system prune thaws it', async () => {
    freezeAsDeadCp();
    const c = t.run(['system', 'check']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, new RegExp(`leftover: container ${id.slice(0, 12)} frozen by a dead cp`));
    assert.equal(runcStatus(), 'paused', 'check only looks');
    const p = t.run(['system', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(runcStatus(), 'running');
    assert.doesNotMatch(t.run(['system', 'check']).stdout, /frozen by a dead cp/);
    await makesProgress();
  });

  it('a live cp holder is left alone', () => {
    assert.equal(spawnSync('runc', ['--root', runcRoot, 'pause', id]).status, 0);
    writeFileSync(join(defaultRunRoot(t.root), 'containers', id, 'cp.lock'), String(process.pid));
    try {
      assert.equal(t.run(['ps']).code, 0);
      assert.equal(runcStatus(), 'paused');
      assert.doesNotMatch(t.run(['system', 'check']).stdout, /frozen by a dead cp/);
    } finally {
      spawnSync('runc', ['--root', runcRoot, 'resume', id]);
      rmSync(join(defaultRunRoot(t.root), 'containers', id, 'cp.lock'), { force: true });
    }
  });
});
