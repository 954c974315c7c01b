/**
 * A build context holding a FIFO, a socket and a device node: they are left out with a
 * warning each (docker sends no socket, BuildKit no FIFO), and `COPY .` neither hangs nor
 * fails. Ctrl-C (SIGINT) stops a build.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-special-');
const work = mkdtempSync(join(tmpdir(), 'berth-special-ctx-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('special files in the build context', () => {
  it('skips FIFOs, sockets and devices with a warning, and copies the rest', async () => {
    const dir = join(work, 'special');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), 'hi\n');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM bb:1\nCOPY . /c/\nRUN ls /c /c/sub | sort > /listing\nCMD ["cat", "/listing"]\n');
    execFileSync('mkfifo', [join(dir, 'fifo'), join(dir, 'sub', 'fifo2')]);
    execFileSync('mknod', [join(dir, 'zero'), 'c', '1', '5']);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
    try {
      const r = t.run(['build', '--progress', 'plain', '--network', 'none', '-t', 'special:1', dir], { timeout: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      for (const [kind, name] of [
        ['FIFO', 'fifo'],
        ['FIFO', 'sub/fifo2'],
        ['socket', 'sock'],
        ['character device', 'zero'],
      ]) {
        assert.match(r.stderr, new RegExp(`WARN: skipping ${kind} "${name}" in the build context`), r.stderr);
      }
      const out = t.run(['run', '--rm', '--network', 'none', 'special:1']);
      assert.equal(out.code, 0, out.stderr);
      const names = out.stdout.split('\n').filter((l) => l && !l.endsWith(':'));
      assert.deepEqual(names, ['Dockerfile', 'a.txt', 'sub']);
    } finally {
      server.close();
    }
  });

  it('stops a build on SIGINT', async () => {
    const dir = join(work, 'sigint');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), 'FROM bb:1\nRUN echo started && sleep 60\nRUN echo never\n');
    const p = spawn(BERTH, ['--root', t.root, 'build', '--progress', 'plain', '--network', 'none', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const t0 = Date.now();
    const ended = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        p.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (/#\d+ [\d.]+ started/.test(stderr)) resolve();
        });
        p.on('close', () => reject(new Error(`build ended before its RUN started: ${stderr}`)));
      });
      p.kill('SIGINT');
      const code = await ended;
      assert.notEqual(code, 0);
      assert.ok(Date.now() - t0 < 30_000, 'the build went on after SIGINT');
      assert.match(stderr, /cancelled/);
      assert.doesNotMatch(stderr, /never/);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      await ended;
    }
  });
});
