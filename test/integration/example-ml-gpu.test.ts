/**
 * examples/ml-gpu/run.sh: on a host whose CDI specs define no nvidia.com/gpu device it says so
 * and runs the job on the CPU with the shared-memory flags (through the real berth, on a
 * busybox image standing in for the example's); where `berth cdi list` shows NVIDIA GPUs it
 * asks for `--gpus all` (through a stand-in berth that records its arguments, as no GPU is here).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BERTH, REPO } from '../helpers/berth.ts';
import { busyboxRoot } from '../helpers/busybox.ts';

const SCRIPT = join(REPO, 'examples', 'ml-gpu', 'run.sh');
const t = busyboxRoot('berth-ml-gpu-');
const dir = mkdtempSync(join(tmpdir(), 'berth-ml-gpu-fake-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runScript(env: Record<string, string>, args: string[]) {
  const r = spawnSync('sh', [SCRIPT, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A berth that answers `cdi list` with `devices` and records every other call's arguments. */
function fakeBerth(devices: string): { bin: string; calls: () => string[] } {
  const log = join(dir, `calls-${Math.random().toString(36).slice(2)}`);
  const bin = join(dir, `berth-${Math.random().toString(36).slice(2)}`);
  writeFileSync(bin, `#!/bin/sh\nif [ "$1 $2" = "cdi list" ]; then printf '${devices}'; exit 0; fi\necho "$@" >> ${log}\n`);
  chmodSync(bin, 0o755);
  return { bin, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

describe('examples/ml-gpu/run.sh', () => {
  it('without a GPU spec, says so and runs on the CPU with /dev/shm sized and the host IPC namespace', () => {
    const r = runScript({ BERTH: `${BERTH} --root ${t.root}`, IMAGE: 'bb:1', BUILD: '0' }, [
      'sh',
      '-c',
      'df -k /dev/shm | tail -1; readlink /proc/self/ns/ipc; grep "Max stack" /proc/self/limits',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no nvidia\.com\/gpu device in the CDI specs .*: running on the CPU/);
    assert.match(r.stderr, /nvidia-ctk cdi generate/);
    const [shm, ipc, stack] = r.stdout.trim().split('\n');
    assert.ok(Number(shm!.trim().split(/\s+/)[1]) > 64 * 1024, shm);
    assert.equal(ipc, spawnSync('readlink', ['/proc/self/ns/ipc']).stdout.toString().trim());
    assert.match(stack!, /67108864\s+67108864/);
  });
  it('with nvidia.com/gpu devices in `berth cdi list`, builds and runs with --gpus all and unlimited memlock', () => {
    const fake = fakeBerth('example.com/gpu=0\\nnvidia.com/gpu=0\\nnvidia.com/gpu=all\\n');
    const r = runScript({ BERTH: fake.bin, IMAGE: 'ml:1' }, ['--epochs', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /NVIDIA GPUs found/);
    const calls = fake.calls();
    assert.match(calls[0]!, /^build -q -t ml:1 .*examples\/ml-gpu$/);
    assert.equal(calls[1], 'run --rm --ipc host --shm-size auto --ulimit stack=67108864 --gpus all --ulimit memlock=-1 ml:1 --epochs 1');
  });
  it('only other vendors’ devices, or a berth without `cdi list`, is the CPU', () => {
    for (const devices of ['example.com/gpu=0\\n', '']) {
      const fake = fakeBerth(devices);
      const r = runScript({ BERTH: fake.bin, IMAGE: 'ml:1', BUILD: '0' }, []);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /running on the CPU/);
      assert.deepEqual(fake.calls(), ['run --rm --ipc host --shm-size auto --ulimit stack=67108864 ml:1']);
    }
  });
});
