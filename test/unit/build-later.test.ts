/** LaterWork: a step's cleanup waits for the next container, and the build waits for it all. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LaterWork } from '../../src/builder/later.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('LaterWork', () => {
  it('runs nothing until started, then every queued task once', async () => {
    const later = new LaterWork();
    const ran: string[] = [];
    later.add(() => void ran.push('a'));
    later.add(() => void ran.push('b'));
    await tick();
    assert.deepEqual(ran, [], 'queued tasks wait for start()');
    later.start();
    await tick();
    assert.deepEqual(ran, ['a', 'b']);
    later.start();
    await later.finish();
    assert.deepEqual(ran, ['a', 'b'], 'a started task is not run again');
  });

  it('finish starts what is still queued and waits for tasks already running', async () => {
    const later = new LaterWork();
    const ended: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    later.add(async () => {
      await gate;
      ended.push('slow');
    });
    later.start();
    later.add(() => void ended.push('queued'));
    const finished = later.finish().then(() => ended.push('finished'));
    await tick();
    assert.deepEqual(ended, ['queued'], 'finish waits for the slow task');
    release();
    await finished;
    assert.deepEqual(ended, ['queued', 'slow', 'finished']);
  });

  it('a failed task fails neither the others nor finish', async () => {
    const later = new LaterWork();
    let ran = false;
    later.add(() => {
      throw new Error('boom');
    });
    later.add(async () => Promise.reject(new Error('async boom')));
    later.add(() => void (ran = true));
    await later.finish();
    assert.equal(ran, true);
  });

  it('a task given to the constructor runs first, at the first start', async () => {
    const ran: string[] = [];
    const later = new LaterWork(() => void ran.push('lint'));
    later.add(() => void ran.push('cleanup'));
    await tick();
    assert.deepEqual(ran, []);
    await later.finish();
    assert.deepEqual(ran, ['lint', 'cleanup']);
  });
});
