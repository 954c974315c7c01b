/** The server's exec instances: lookup, one start each, dropping after a while, and the cap. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecRegistry, type ExecConfig } from '../../src/api/exec-registry.ts';
import { parseExecConfig } from '../../src/api/routes/exec.ts';
import { DEFAULT_DETACH_KEYS, DetachWatcher, parseDetachKeys } from '../../src/api/detach-keys.ts';
import { BerthError } from '../../src/errors/index.ts';

const config: ExecConfig = parseExecConfig({ Cmd: ['true'], AttachStdout: true });

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('ExecRegistry', () => {
  it('finds an instance by its full id only, and says docker words for a missing one', () => {
    const r = new ExecRegistry();
    const e = r.create('c'.repeat(64), config);
    assert.match(e.id, /^[0-9a-f]{64}$/);
    assert.equal(r.require(e.id), e);
    assert.throws(
      () => r.require(e.id.slice(0, 12)),
      (err: unknown) => err instanceof BerthError && err.code === 'NOT_FOUND' && err.message === `No such exec instance: ${e.id.slice(0, 12)}`,
    );
  });

  it('starts an instance once: a second claim is a conflict', () => {
    const r = new ExecRegistry();
    const e = r.create('c', config);
    r.claim(e);
    assert.equal(e.running, true);
    assert.throws(
      () => r.claim(e),
      (err: unknown) => err instanceof BerthError && err.code === 'CONFLICT',
    );
  });

  it('keeps a finished instance for keepMs, then drops it; a running one stays', () => {
    const c = clock();
    const r = new ExecRegistry({ max: 10, keepMs: 1000 }, c.now);
    const done = r.create('c', config);
    const running = r.create('c', config);
    r.claim(done);
    r.claim(running);
    r.finish(done, 3);
    assert.equal(done.exitCode, 3);
    c.advance(999);
    assert.equal(r.require(done.id).exitCode, 3);
    c.advance(1);
    assert.throws(() => r.require(done.id), /No such exec instance/);
    c.advance(10_000);
    assert.equal(r.require(running.id), running);
  });

  it('caps the instances alive: finished ones go first, then never started ones, and running ones are never dropped', () => {
    const c = clock();
    const r = new ExecRegistry({ max: 3, keepMs: 60_000 }, c.now);
    const unstarted = r.create('c', config);
    const finished = r.create('c', config);
    r.claim(finished);
    r.finish(finished, 0);
    const running = r.create('c', config);
    r.claim(running);
    const fourth = r.create('c', config);
    assert.throws(() => r.require(finished.id), /No such exec instance/);
    assert.equal(r.require(unstarted.id), unstarted);
    r.claim(fourth);
    const fifth = r.create('c', config);
    assert.throws(() => r.require(unstarted.id), /No such exec instance/);
    r.claim(fifth);
    assert.equal(r.size, 3);
    // Three running: nothing may be dropped, so a new one is refused with a 503.
    assert.throws(
      () => r.create('c', config),
      (err: unknown) => err instanceof BerthError && /too many exec instances/.test(err.message),
    );
    assert.equal(r.require(running.id), running);
  });
});

describe('parseExecConfig', () => {
  it('takes docker create body fields, and refuses wrong shapes', () => {
    const c = parseExecConfig({ Cmd: 'ls', Env: ['A=1'], User: 'nobody', WorkingDir: '/tmp', Tty: true, AttachStdin: true, ConsoleSize: [24, 80] });
    assert.deepEqual(c.command, ['ls']);
    assert.equal(c.interactive, true);
    assert.deepEqual(c.consoleSize, [24, 80]);
    for (const bad of [null, [], 'x', { Cmd: [] }, { Cmd: ['a'], Env: 'A=1' }, { Cmd: ['a'], User: 1 }, { Cmd: ['a'], ConsoleSize: [-1, 2] }])
      assert.throws(
        () => parseExecConfig(bad),
        (err: unknown) => err instanceof BerthError && err.code === 'INVALID_ARGUMENT',
      );
  });
});

describe('detach keys', () => {
  it("parses docker's key names and refuses unknown ones", () => {
    assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')!], [0x10, 0x11]);
    assert.deepEqual([...parseDetachKeys('a,ctrl-@,ctrl-_')!], [0x61, 0, 31]);
    assert.equal(parseDetachKeys('ctrl-pp'), undefined);
    assert.equal(parseDetachKeys(''), undefined);
  });

  it('holds back a prefix across chunks, passes it on when broken, and detaches on the whole sequence', () => {
    const w = new DetachWatcher(DEFAULT_DETACH_KEYS);
    assert.equal(w.feed(Buffer.from('ab\x10')).toString(), 'ab');
    assert.equal(w.feed(Buffer.from('x')).toString(), '\x10x');
    assert.equal(w.feed(Buffer.from('\x10\x10')).toString(), '\x10');
    assert.equal(w.detached, false);
    assert.equal(w.feed(Buffer.from('\x11after')).toString(), '');
    assert.equal(w.detached, true);
    assert.equal(w.feed(Buffer.from('more')).length, 0);
  });
});
