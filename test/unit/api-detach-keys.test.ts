/** The attach endpoint's detach keys: docker's syntax, and the watcher that holds back a partial match. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detachWatcher, parseDetachKeys } from '../../src/api/container-attach.ts';

describe('detach keys', () => {
  const specs: Array<[string, number[] | RegExp]> = [
    ['ctrl-p,ctrl-q', [16, 17]],
    ['ctrl-a,x', [1, 120]],
    ['ctrl-@,ctrl-[', [0, 27]],
    ['', []],
    ['ctrl-1', /Invalid detach keys/],
    ['ab', /Invalid detach keys/],
  ];
  for (const [spec, want] of specs) {
    test(`parseDetachKeys(${JSON.stringify(spec)})`, () => {
      if (want instanceof RegExp) assert.throws(() => parseDetachKeys(spec), want);
      else assert.deepEqual([...parseDetachKeys(spec)], want);
    });
  }

  // Each case: the chunks typed, then what reaches the container and whether it detached.
  const cases: Array<[string, string[], string, boolean]> = [
    ['plain input passes', ['ls\r'], 'ls\r', false],
    ['the keys in one chunk detach, and never reach the container', ['a\x10\x11'], 'a', true],
    ['the keys split across chunks detach', ['\x10', '\x11'], '', true],
    ['a partial match is held back, then let through when it fails', ['\x10', 'x'], '\x10x', false],
    ['a repeated first key restarts the match', ['\x10\x10\x11'], '\x10', true],
  ];
  for (const [name, chunks, forwarded, detached] of cases) {
    test(`detachWatcher: ${name}`, () => {
      const watch = detachWatcher(parseDetachKeys('ctrl-p,ctrl-q'));
      let out = '';
      let det = false;
      for (const c of chunks) {
        const r = watch(Buffer.from(c));
        out += r.forward.toString();
        det ||= r.detach;
      }
      assert.equal(out, forwarded);
      assert.equal(det, detached);
    });
  }
});
