/**
 * A monitor that fails has no stderr anyone reads: it records why on the container, where
 * `inspect` shows it, and removes a `--rm` container as it would have after a normal exit.
 * The failure is made real: the container's log path is a directory, which the monitor cannot open.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-monitor-fail-');

/** Creates a container and puts a directory where its log file goes. */
function createWithBrokenLog(args: readonly string[]): string {
  const c = t.run(['create', ...args, 'bb:1', 'true']);
  assert.equal(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  const logPath = t.run(['inspect', '-f', '{{.LogPath}}', id]).stdout.trim();
  assert.ok(logPath.startsWith(t.root), logPath);
  rmSync(logPath, { force: true });
  mkdirSync(logPath);
  return id;
}

describe('a failing monitor', () => {
  it('records its reason on the container (inspect .State.Error) and the start fails', () => {
    const id = createWithBrokenLog(['--name', 'mfail']);
    const start = t.run(['start', id]);
    assert.notEqual(start.code, 0, start.stdout);
    const state = t.run(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}', id]);
    assert.equal(state.code, 0, state.stderr);
    assert.match(state.stdout, /^exited 137 the container's monitor failed: .*EISDIR/);
  });

  it('removes a --rm container, as its monitor would have', () => {
    const id = createWithBrokenLog(['--rm', '--name', 'mfailrm']);
    assert.notEqual(t.run(['start', id]).code, 0);
    assert.match(t.run(['inspect', id]).stderr, /No such object/);
  });
});
