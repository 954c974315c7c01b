/** Several berth processes on one root at once must leave a consistent store. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { BERTH, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-concurrency-');
after(() => t.cleanup());

function berthAsync(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(BERTH, ['--root', t.root, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

describe('concurrent processes on one store', () => {
  it('8 concurrent import/tag/rmi processes leave system check clean', async () => {
    const tar = busyboxTar();
    assert.equal(t.run(['import', tar, 'base:0']).code, 0);
    const jobs: Array<Promise<{ code: number; stderr: string }>> = [];
    for (let i = 0; i < 8; i++) {
      jobs.push(
        (async () => {
          const imp = await berthAsync(['import', '--change', `ENV N=${i}`, tar, `img:${i}`]);
          if (imp.code !== 0) return imp;
          const tag = await berthAsync(['tag', `img:${i}`, `copy:${i}`]);
          if (tag.code !== 0) return tag;
          return berthAsync(['rmi', `copy:${i}`]);
        })(),
      );
    }
    const results = await Promise.all(jobs);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const check = t.run(['system', 'check']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const images = t.run(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(images, ['base:0', ...Array.from({ length: 8 }, (_, i) => `img:${i}`)].sort());
  });
});
