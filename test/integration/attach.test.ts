/** Detached containers with a terminal or open stdin, and `attach` to them (real runc, real ptys). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { BERTH } from '../helpers/berth.ts';
import { busyboxRoot } from '../helpers/busybox.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { parseDetachKeys } from '../../src/cli/container.ts';
import { encodeFrame, FrameDecoder, FrameKind } from '../../src/container/attach.ts';

const t = busyboxRoot('berth-attach-');

/** Runs `berth attach` under `script`, so its stdin is a real terminal, feeding it `steps`. */
/**
 * `berth attach` on a terminal (script(1)), fed `steps`: text to type, a pause in ms, or a pattern
 * to wait for in the output. Keys typed before attach has put the terminal in raw mode would meet
 * the line discipline (ctrl-q is its XON), so a test waits for output before its detach keys.
 * A client still there after 90 s is killed: the test fails instead of holding the suite.
 */
function attachInTerminal(id: string, steps: Array<string | number | RegExp>, prelude = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', `${prelude}${BERTH} --root ${t.root} attach ${id}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    const limit = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 90_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(limit);
      resolve({ code: code ?? 128, out });
    });
    void (async () => {
      for (const s of steps) {
        if (typeof s === 'number') await sleep(s);
        else if (s instanceof RegExp) await waitFor(`${s} in the output`, () => (s.test(out) ? true : undefined), 30_000).catch(() => undefined);
        else child.stdin.write(s);
      }
    })();
  });
}

function running(id: string): string {
  return t.run(['inspect', '-f', '{{.State.Running}}', id]).stdout.trim();
}

describe('frames and detach keys', () => {
  it('decodes frames split across chunks', () => {
    const bytes = Buffer.concat([encodeFrame(FrameKind.Stdout, Buffer.from('hello')), encodeFrame(FrameKind.Exit, Buffer.from([0, 0, 0, 3]))]);
    const d = new FrameDecoder();
    const frames = [...d.push(bytes.subarray(0, 3)), ...d.push(bytes.subarray(3, 9)), ...d.push(bytes.subarray(9))];
    assert.deepEqual(
      frames.map((f) => [f.kind, f.payload.toString('hex')]),
      [
        [FrameKind.Stdout, Buffer.from('hello').toString('hex')],
        [FrameKind.Exit, '00000003'],
      ],
    );
  });
  const keys: Array<[string, number[] | RegExp]> = [
    ['ctrl-p,ctrl-q', [16, 17]],
    ['ctrl-a,x', [1, 120]],
    ['ctrl-@,ctrl-[', [0, 27]],
    ['', []],
    ['ctrl-1', /invalid detach keys/],
    ['ab', /invalid detach keys/],
  ];
  for (const [spec, want] of keys) {
    it(`--detach-keys ${JSON.stringify(spec)}`, () => {
      if (want instanceof RegExp) assert.throws(() => parseDetachKeys(spec), want);
      else assert.deepEqual([...parseDetachKeys(spec)], want);
    });
  }
});

describe('run -d with -t and -i', () => {
  it('-d -t runs in a pty that the log records', async () => {
    const id = t.run(['run', '-d', '-t', '--network', 'none', 'bb:1', 'sh', '-c', 'tty; echo done']).stdout.trim();
    assert.equal(t.run(['wait', id]).stdout, '0\n');
    assert.equal(t.run(['logs', id]).stdout, '/dev/pts/0\r\ndone\r\n');
  });

  it('-d -i keeps stdin open for attach; stdout and stderr stay apart; the status comes back', () => {
    const id = t.run(['run', '-d', '-i', '--network', 'none', 'bb:1', 'sh']).stdout.trim();
    const r = t.run(['attach', id], { input: 'echo piped; echo oops >&2; exit 7\n' });
    assert.equal(r.stdout, 'piped\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.code, 7);
  });

  it('-dit: attach types into the shell, which exits with its status', async () => {
    const id = t.run(['run', '-dit', '--network', 'none', 'bb:1', 'sh']).stdout.trim();
    const r = await attachInTerminal(id, [400, 'echo typed-$((6*7))\r', 300, 'exit 5\r']);
    assert.match(r.out, /typed-42/);
    assert.equal(r.code, 5);
    assert.equal(t.run(['inspect', '-f', '{{.State.ExitCode}}', id]).stdout, '5\n');
  });

  it('the terminal size reaches the container, and ctrl-p ctrl-q detaches leaving it running', async () => {
    const id = t.run(['run', '-dit', '--network', 'none', 'bb:1', 'sh']).stdout.trim();
    const r = await attachInTerminal(id, [400, 'stty size\r', /45 123/, '\x10\x11'], 'stty cols 123 rows 45; ');
    assert.equal(r.code, 0);
    assert.match(r.out, /45 123/);
    assert.equal(running(id), 'true');
    const again = await attachInTerminal(id, [400, 'exit 3\r']);
    assert.equal(again.code, 3);
    assert.equal(running(id), 'false');
  });

  it('--no-stdin only watches', () => {
    const id = t.run(['run', '-d', '-i', '--network', 'none', 'bb:1', 'sh', '-c', 'sleep 3; echo watched; exit 2']).stdout.trim();
    const r = t.run(['attach', '--no-stdin', id], { input: 'exit 9\n' });
    assert.equal(r.stdout, 'watched\n');
    assert.equal(r.code, 2);
  });
});
