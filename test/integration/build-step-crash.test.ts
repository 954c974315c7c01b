/** A build killed with -9 during a RUN leaves the step's runc container running; prune reclaims it. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { defaultRunRoot } from '../../src/store/root.ts';
import { BERTH } from '../helpers/berth.ts';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-bstep-');
const ctx = mkdtempSync(join(tmpdir(), 'berth-bstep-ctx-'));
const runcRoot = join(defaultRunRoot(t.root), 'runc');
after(() => {
  for (const id of steps()) spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id]);
  t.cleanup();
  rmSync(ctx, { recursive: true, force: true });
});

function steps(): string[] {
  try {
    return readdirSync(runcRoot).filter((n) => n.startsWith('build-'));
  } catch {
    return [];
  }
}

function running(id: string): boolean {
  const r = spawnSync('runc', ['--root', runcRoot, 'state', id], { encoding: 'utf8' });
  return r.status === 0 && (JSON.parse(r.stdout) as { status: string }).status === 'running';
}

function mountsUnderRoot(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[1]?.startsWith(`${t.root}/`));
}

it('prune kills and deletes the step container of a killed build, and the retry builds', async () => {
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nARG S=30\nRUN sleep $S\n');
  const child = spawn(BERTH, ['--root', t.root, 'build', '-q', '-t', 'slow:1', ctx], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    const deadline = Date.now() + 20_000;
    while (!steps().some(running)) {
      assert.ok(Date.now() < deadline, 'the RUN step started');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  assert.ok(steps().some(running), 'the step container outlives the killed build');

  const check = t.run(['system', 'check']);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /leftover: runc container of build step build-/);
  const prune = t.run(['system', 'prune', '-f']);
  assert.equal(prune.code, 0, prune.stderr);
  assert.equal(prune.stderr, '');

  const list = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' });
  assert.equal(list.stdout.trim(), '', 'no runc container left');
  assert.deepEqual(mountsUnderRoot(), []);
  const after = t.run(['system', 'check']);
  assert.equal(after.code, 0, after.stderr);
  assert.doesNotMatch(after.stdout, /leftover:/);

  // The same build again, its step short this time.
  const retry = t.run(['build', '-q', '--build-arg', 'S=0', '-t', 'slow:1', ctx]);
  assert.equal(retry.code, 0, retry.stderr);
});
