/**
 * The monitor standby of `berth serve` (container/monitor-standby.ts): a start through the
 * server runs under the standby it kept ready, a new one takes its place, back-to-back runs
 * work, the standby goes with the server (SIGTERM or SIGKILL), and a standby refuses any
 * order but the full id of an existing container.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';
import { BERTH } from '../helpers/berth.ts';

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** Live processes `berth __monitor --standby` whose command line names `root`. */
function standbysOf(root: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      const argv = cmdline(pid);
      return argv.includes('__monitor') && argv.includes('--standby') && argv.includes(root);
    });
}

async function until<T>(what: string, probe: () => T | undefined, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The standby that `s` keeps, once it is there (a child of the server). */
function readyStandby(s: ServeHandle, not?: number): Promise<number> {
  return until('a standby of the server', () => standbysOf(s.root).find((pid) => parentOf(pid) === s.pid && pid !== not));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return cmdline(pid).length > 1; // a zombie has an empty command line
  } catch {
    return false;
  }
}

describe('berth serve: the monitor standby', () => {
  let s: ServeHandle;

  before(async () => {
    s = await startServe({ busybox: true });
  });
  after(async () => {
    if (s) await s.stop();
  });

  test('a run goes through the standby, a new one is made ready, and a second run right after works too', async () => {
    const standby = await readyStandby(s);
    const id = s.docker(['run', '-d', 'bb:1', 'sleep', '60']);
    assert.equal(id.code, 0, id.stderr);
    const cid = id.stdout.trim();
    const pid = Number(s.docker(['inspect', '-f', '{{.State.Pid}}', cid]).stdout.trim());
    assert.ok(pid > 0);
    // The container runs under `runc run`, whose parent is its monitor: the standby taken.
    assert.equal(parentOf(parentOf(pid)), standby, 'the container runs under the standby');
    const next = await readyStandby(s, standby);
    assert.notEqual(next, standby);
    for (const word of ['one', 'two']) {
      const r = s.docker(['run', '--rm', 'bb:1', 'echo', word]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${word}\n`, '']);
    }
    const code = s.docker(['run', '--rm', 'bb:1', 'sh', '-c', 'exit 3']);
    assert.equal(code.code, 3);
    assert.equal(s.docker(['rm', '-f', cid]).code, 0);
    // No container is left of the --rm runs, and the taken standby went with its container.
    assert.equal(s.docker(['ps', '-aq']).stdout.trim(), '');
    await until('the taken standby to exit', () => (alive(standby) ? undefined : true));
  });

  test('a run whose command cannot start is reported as by docker (127), and the next run still works', () => {
    const r = s.docker(['run', '--rm', 'bb:1', '/no/such/command']);
    assert.equal(r.code, 127, r.stderr);
    const ok = s.docker(['run', '--rm', 'bb:1', 'echo', 'after']);
    assert.deepEqual([ok.code, ok.stdout], [0, 'after\n']);
  });
});

describe('berth serve: the standby does not outlive the server', () => {
  test('SIGTERM: the server kills its standby as it shuts down', async () => {
    const s = await startServe();
    try {
      const standby = await readyStandby(s);
      process.kill(s.pid, 'SIGTERM');
      await until('the server to exit', () => (alive(s.pid) ? undefined : true));
      await until('the standby to exit', () => (alive(standby) ? undefined : true), 5000);
    } finally {
      await s.stop();
    }
  });

  test('SIGKILL: the standby sees its pipe close and exits', async () => {
    const s = await startServe();
    try {
      const standby = await readyStandby(s);
      process.kill(s.pid, 'SIGKILL');
      await until('the standby to exit', () => (alive(standby) ? undefined : true), 5000);
      assert.deepEqual(standbysOf(s.root), []);
    } finally {
      await s.stop();
    }
  });
});

describe('a standby refuses a bad order', () => {
  let s: ServeHandle;
  before(async () => {
    s = await startServe({ busybox: true });
  });
  after(async () => {
    if (s) await s.stop();
  });

  /** Starts a standby on the server's root, sends `order`, and resolves with what it answered and its exit status. */
  function order(text: string | Buffer, opts: { end?: boolean } = {}): Promise<{ reply: string; code: number | null }> {
    const child = spawn(BERTH, ['--root', s.root, '__monitor', '--standby'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    const pipe = child.stdio[3] as Duplex;
    let reply = '';
    pipe.on('data', (d: Buffer) => (reply += d.toString()));
    pipe.on('error', () => undefined);
    pipe.write(text);
    if (opts.end) pipe.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    return new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(killer);
        resolve({ reply, code });
      }),
    );
  }

  test('garbage, a short id, a name, an unknown id, a bad hold, and an overlong line are refused', async () => {
    const created = s.docker(['create', '--name', 'named', 'bb:1', 'true']);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    const cases: Array<[string, RegExp]> = [
      ['not json\n', /must be JSON/],
      [`${JSON.stringify({ id: id.slice(0, 12) })}\n`, /full container id/],
      [`${JSON.stringify({ id: 'named' })}\n`, /full container id/],
      [`${JSON.stringify({ id: `../${id.slice(3)}` })}\n`, /full container id/],
      [`${JSON.stringify({ id: 'f'.repeat(64) })}\n`, /no such container/],
      [`${JSON.stringify({ id, hold: 'yes' })}\n`, /bad hold/],
      [`${JSON.stringify([id])}\n`, /full container id/],
    ];
    for (const [text, why] of cases) {
      const r = await order(text);
      assert.equal(r.code, 2, `${text}: exit status`);
      assert.match((JSON.parse(r.reply) as { error: string }).error, why, text);
    }
    // A line that never ends within the bound is no order: the standby leaves without a word.
    const long = await order(Buffer.alloc(4096, 0x61));
    assert.deepEqual(long, { reply: '', code: 0 });
    // The refused orders did not touch the container.
    const state = s.docker(['inspect', '-f', '{{.State.Status}}', id]).stdout.trim();
    assert.equal(state, 'created');
  });

  test('a standby whose pipe closes without an order exits at once', async () => {
    const r = await order('', { end: true });
    assert.deepEqual(r, { reply: '', code: 0 });
  });
});
