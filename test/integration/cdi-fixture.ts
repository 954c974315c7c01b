/**
 * A fake GPU for CDI tests, made as CDI's own tests make one: a spec directory whose
 * `example.com/gpu` devices are device nodes backed by /dev/null (`=0`) and /dev/zero
 * (`=1`), and a read-only one by /dev/loop-control (`=ctl`, whose numbers no default device
 * rule allows), with env, a bind mount of a fake `libfakecuda.so.1`, and a createContainer hook
 * that writes a marker into the container's rootfs. Also a fake `nvidia.com/gpu` spec with
 * GPUs 0 to 2 and `all`, as `nvidia-ctk cdi generate` names them.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeCdi {
  /** The directory of the spec files (for --cdi-spec-dir). */
  readonly specDir: string;
  /** Where the fake library and hook live. */
  readonly hostDir: string;
  readonly cleanup: () => void;
}

/** The hook: finds the bundle in the state runc passes on stdin, the rootfs in its config.json, and writes /cdi-marker there. */
const HOOK = `#!/bin/sh
state=$(cat)
bundle=$(printf '%s' "$state" | sed -n 's/.*"bundle":"\\([^"]*\\)".*/\\1/p')
root=$(sed -n 's/.*"root":{"path":"\\([^"]*\\)".*/\\1/p' "$bundle/config.json")
case $root in /*) ;; *) root=$bundle/$root ;; esac
echo "created by $1" > "$root/cdi-marker"
`;

export function exampleGpuSpec(hostDir: string, version = '0.5.0'): string {
  return `cdiVersion: "${version}"
kind: example.com/gpu
containerEdits:
  env:
    - FAKEGPU_DRIVER=fake
  mounts:
    - hostPath: ${hostDir}/libfakecuda.so.1
      containerPath: /usr/lib/libfakecuda.so.1
      options: [ro, nosuid, nodev, bind]
  hooks:
    - hookName: createContainer
      path: ${hostDir}/hook.sh
      args: [hook.sh, fakegpu]
devices:
  - name: "0"
    containerEdits:
      env: [FAKEGPU_VISIBLE_DEVICES=0]
      deviceNodes:
        - path: /dev/fakegpu0
          hostPath: /dev/null
  - name: "1"
    containerEdits:
      env: [FAKEGPU_VISIBLE_DEVICES=1]
      deviceNodes:
        - path: /dev/fakegpu1
          hostPath: /dev/zero
  - name: ctl
    containerEdits:
      deviceNodes:
        - path: /dev/fakectl
          hostPath: /dev/loop-control
          permissions: r
  - name: all
    containerEdits:
      env:
        - FAKEGPU_VISIBLE_DEVICES=0,1
      deviceNodes:
        - path: /dev/fakegpu0
          hostPath: /dev/null
        - path: /dev/fakegpu1
          hostPath: /dev/zero
`;
}

/** NVIDIA's shape: one device per GPU by index, and `all`; JSON, as nvidia-ctk can write it. */
export function fakeNvidiaSpec(): string {
  const gpu = (i: number) => ({ name: String(i), containerEdits: { deviceNodes: [{ path: `/dev/nvidia${i}`, hostPath: '/dev/null' }] } });
  return JSON.stringify({
    cdiVersion: '0.5.0',
    kind: 'nvidia.com/gpu',
    devices: [
      gpu(0),
      gpu(1),
      gpu(2),
      { name: 'all', containerEdits: { deviceNodes: [0, 1, 2].map((i) => ({ path: `/dev/nvidia${i}`, hostPath: '/dev/null' })) } },
    ],
    containerEdits: { env: ['NVIDIA_VISIBLE_DEVICES=void'] },
  });
}

export function makeFakeCdi(opts: { nvidia?: boolean } = {}): FakeCdi {
  const base = mkdtempSync(join(tmpdir(), 'berth-cdi-'));
  chmodSync(base, 0o755);
  const specDir = join(base, 'cdi');
  const hostDir = join(base, 'host');
  mkdirSync(specDir);
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'libfakecuda.so.1'), 'fake cuda 1.0\n');
  writeFileSync(join(hostDir, 'hook.sh'), HOOK, { mode: 0o755 });
  writeFileSync(join(specDir, 'example-gpu.yaml'), exampleGpuSpec(hostDir));
  if (opts.nvidia) writeFileSync(join(specDir, 'nvidia.json'), fakeNvidiaSpec());
  return { specDir, hostDir, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}
