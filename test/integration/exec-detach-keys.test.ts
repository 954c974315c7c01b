/**
 * `exec -it` on a real terminal (test/helpers/pty.ts): berth relays the terminal itself, so
 * docker's detach keys work (ctrl-p,ctrl-q unless `--detach-keys` names others). A detach
 * prints docker's "read escape sequence", exits 1, and leaves the process running with its
 * terminal held; keys that only begin the sequence are input after all.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BERTH } from '../helpers/berth.ts';
import { busyboxRoot } from '../helpers/busybox.ts';
import { onTerminal } from '../helpers/pty.ts';

const t = busyboxRoot('berth-exec-keys-');
before(() => {
  const r = t.run(['run', '-d', '--name', 'ek', '--network', 'none', 'bb:1', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
});

const execIt = (args: readonly string[], answers: ReadonlyArray<[string, string]>) => onTerminal([BERTH, '--root', t.root, 'exec', '-it', ...args], answers);
const processes = () => t.run(['exec', 'ek', 'ps', '-o', 'args']).stdout;

describe('exec -it: detach keys', () => {
  it('ctrl-p ctrl-q detaches: "read escape sequence", exit 1, and the shell runs on', () => {
    const r = execIt(['ek', 'sh', '-c', 'echo ready; exec sleep 300'], [['ready', '\u0010\u0011']]);
    assert.equal(r.code, 1, r.screen);
    assert.match(r.screen, /read escape sequence\r?\n$/);
    assert.match(processes(), /sleep 300/);
  });

  it('--detach-keys names other keys; the start of the sequence alone is input', () => {
    const r = execIt(
      ['--detach-keys', 'q,w', 'ek', 'sh'],
      [
        ['# ', 'echo qq\r'],
        ['qq\r', 'echo done\r'],
        ['done\r', 'qw'],
      ],
    );
    assert.equal(r.code, 1, r.screen);
    assert.match(r.screen, /\nqq\r/);
    assert.match(r.screen, /read escape sequence/);
  });

  it("without a detach, the status is the process's own", () => {
    const r = execIt(['ek', 'sh', '-c', 'echo out; exit 3'], []);
    assert.equal(r.code, 3, r.screen);
    assert.match(r.screen, /^out\r/);
    assert.doesNotMatch(r.screen, /escape/);
  });

  it('a bad --detach-keys is refused before anything runs', () => {
    const r = t.run(['exec', '-it', '--detach-keys', 'ctrl-', 'ek', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid detach keys/);
  });
});
