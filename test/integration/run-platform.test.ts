/** Images of another architecture: `--platform`, and arm64 busybox run under qemu-user-static. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { busyboxRoot, busyboxTar } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-platform-');
before(() => {
  const r = t.run(['import', '--platform', 'linux/arm64', busyboxTar('arm64'), 'bbarm:1']);
  assert.equal(r.code, 0, r.stderr);
});

describe('--platform', () => {
  it('import --platform records the platform', () => {
    assert.equal(t.run(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}/{{.Variant}}', 'bbarm:1']).stdout, 'linux/arm64/v8\n');
  });

  it("an arm64 image runs under qemu, with docker's warning when no platform was asked for", () => {
    const r = t.run(['run', '--rm', '--network', 'none', 'bbarm:1', 'uname', '-m']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'aarch64\n');
    assert.match(r.stderr, /requested image's platform \(linux\/arm64\/v8\) does not match the detected host platform \(linux\/amd64\)/);
  });

  it('--platform linux/arm64 runs it without the warning', () => {
    const r = t.run(['run', '--rm', '--network', 'none', '--platform', 'linux/arm64', 'bbarm:1', 'sh', '-c', 'uname -m; echo $((6*7))']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'aarch64\n42\n');
    assert.equal(r.stderr, '');
  });

  it('a local image of another platform is not taken for the one asked for', () => {
    const r = t.run(['run', '--rm', '--pull', 'never', '--platform', 'linux/arm64', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /image with reference bb:1 was found but does not match the specified platform: wanted linux\/arm64\/v8, actual: linux\/amd64/);
  });

  it('a build FROM an arm64 image runs its RUN steps under qemu and keeps the platform', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-platform-ctx-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM bbarm:1\nRUN uname -m > /arch\n');
      const b = t.run(['build', '-q', '--network', 'none', '-t', 'armbuilt:1', dir]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(t.run(['image', 'inspect', '-f', '{{.Architecture}}', 'armbuilt:1']).stdout, 'arm64\n');
      assert.equal(t.run(['run', '--rm', '--network', 'none', '--platform', 'linux/arm64', 'armbuilt:1', 'cat', '/arch']).stdout, 'aarch64\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
