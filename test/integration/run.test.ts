/** `berth run` on real runc and overlayfs: the acceptance cases of the runtime issue. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { describe, it } from 'node:test';
import { BERTH as BERTH_BIN } from '../helpers/berth.ts';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-run-');

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('berth run: output and exit codes', () => {
  const cases: Array<{ name: string; args: string[]; code: number; stdout?: string | RegExp; stderr?: RegExp }> = [
    { name: 'echo prints', args: ['bb:1', 'echo', 'hi'], code: 0, stdout: 'hi\n' },
    { name: 'exit 3 returns 3', args: ['bb:1', 'sh', '-c', 'exit 3'], code: 3 },
    { name: 'missing command returns 127', args: ['bb:1', 'nosuchcmd'], code: 127, stderr: /executable file not found in \$PATH/ },
    { name: 'non-executable file returns 126', args: ['bb:1', '/etc/passwd'], code: 126, stderr: /permission denied/ },
    {
      name: 'a container runc cannot start is an engine error: 125',
      args: ['--memory', '100k', 'bb:1', 'true'],
      code: 125,
      stderr: /^berth: Error: OCI runtime create failed: .*memory limit/m,
    },
    {
      name: 'detached too: a container runc cannot start is 125',
      args: ['-d', '--memory', '100k', 'bb:1', 'true'],
      code: 125,
      stderr: /^berth: Error: OCI runtime create failed: .*memory limit/m,
    },
    { name: 'PID 1 is the command', args: ['bb:1', 'sh', '-c', 'echo $$'], code: 0, stdout: '1\n' },
    { name: 'hostname is the id prefix', args: ['bb:1', 'hostname'], code: 0, stdout: /^[0-9a-f]{12}\n$/ },
    { name: '--hostname', args: ['--hostname', 'trainer', 'bb:1', 'hostname'], code: 0, stdout: 'trainer\n' },
    { name: '--user 1000:1000', args: ['--user', '1000:1000', 'bb:1', 'id'], code: 0, stdout: /^uid=1000\(user\) gid=1000\(user\)/ },
    { name: "CapEff is docker's default set", args: ['bb:1', 'grep', 'CapEff', '/proc/self/status'], code: 0, stdout: /CapEff:\s+00000000a80425fb/ },
    { name: '--read-only refuses writes', args: ['--read-only', 'bb:1', 'touch', '/x'], code: 1 },
    {
      name: '--network none has only lo',
      args: ['--network', 'none', 'bb:1', 'sh', '-c', 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'],
      code: 0,
      stdout: 'lo\n',
    },
    // IFF_UP|IFF_LOOPBACK: runc brings lo up in the namespace it makes, as docker's none has it.
    { name: '--network none has lo up', args: ['--network', 'none', 'bb:1', 'cat', '/sys/class/net/lo/flags'], code: 0, stdout: '0x9\n' },
    { name: '-e and -w', args: ['-e', 'A=1', '-w', '/tmp', 'bb:1', 'sh', '-c', 'echo $A $(pwd)'], code: 0, stdout: '1 /tmp\n' },
    { name: '--entrypoint resets CMD', args: ['--entrypoint', 'echo', 'bb:1', 'x', 'y'], code: 0, stdout: 'x y\n' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = t.run(['run', '--rm', ...c.args]);
      assert.equal(r.code, c.code, `stdout=${r.stdout} stderr=${r.stderr}`);
      if (typeof c.stdout === 'string') assert.equal(r.stdout, c.stdout);
      else if (c.stdout) assert.match(r.stdout, c.stdout);
      if (c.stderr) assert.match(r.stderr, c.stderr);
    });
  }
});

describe('berth run: filesystem, volumes, limits', () => {
  it('a file written in the container is gone after rm; a volume keeps its data', () => {
    const name = 'persist-test';
    assert.equal(t.run(['run', '--name', name, '-v', 'data:/data', 'bb:1', 'sh', '-c', 'echo kept > /data/f && echo lost > /root/f']).code, 0);
    assert.equal(t.run(['rm', name]).code, 0);
    const r = t.run(['run', '--rm', '-v', 'data:/data', 'bb:1', 'sh', '-c', 'cat /data/f; cat /root/f 2>/dev/null || echo absent']);
    assert.equal(r.stdout, 'kept\nabsent\n');
  });

  it('--memory 64m shows in the cgroup and a 200 MB allocation is OOM-killed', () => {
    const r = t.run(['run', '--rm', '--memory', '64m', 'bb:1', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(r.stdout.trim(), String(64 * 1024 * 1024));
    const oom = t.run([
      'run',
      '--rm',
      '--memory',
      '64m',
      '--memory-swap',
      '64m',
      'bb:1',
      'sh',
      '-c',
      'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived',
    ]);
    assert.equal(oom.code, 137, oom.stdout + oom.stderr);
  });

  it('kill -9 of a running container gives 137', () => {
    const id = t.run(['run', '-d', 'bb:1', 'sleep', '60']).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(t.run(['kill', id]).code, 0);
    assert.equal(t.run(['wait', id]).stdout.trim(), '137');
    assert.equal(t.run(['rm', id]).code, 0);
  });
});

describe('detached containers outlive the CLI', () => {
  it('run -d, then logs, exec, stop -t 1 and rm, each from a new process', async () => {
    const id = t
      .run([
        'run',
        '-d',
        '--name',
        'web',
        '-p',
        '127.0.0.1:18931:8080',
        'bb:1',
        'sh',
        '-c',
        'mkdir -p /www && echo page > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www',
      ])
      .stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    let page = '';
    for (let i = 0; i < 50 && !page; i++) {
      page = await httpGet('http://127.0.0.1:18931/').catch(() => '');
      if (!page) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(page, 'page\n');
    assert.equal(t.run(['logs', 'web']).stdout, 'ready\n');
    assert.equal(t.run(['exec', 'web', 'cat', '/www/index.html']).stdout, 'page\n');
    assert.match(t.run(['ps']).stdout, /web/);
    assert.equal(t.run(['stop', '-t', '1', 'web']).code, 0);
    assert.match(t.run(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'web']).stdout, /^exited (0|143|137)\n$/);
    assert.equal(t.run(['rm', 'web']).code, 0);
    assert.doesNotMatch(t.run(['ps', '-a']).stdout, /web/);
    const leftovers = execFileSync('sh', ['-c', `iptables-save | grep -c ${id.slice(0, 12)} || true`])
      .toString()
      .trim();
    assert.equal(leftovers, '0');
    assert.doesNotMatch(readFileSync('/proc/mounts', 'utf8'), new RegExp(id));
  });
});

describe('cp', () => {
  it('copies into and out of a container, and cannot be led outside the rootfs by a symlink', () => {
    const dir = mkdtempSync('/tmp/berth-cp-');
    mkdirSync(`${dir}/in/sub`, { recursive: true });
    writeFileSync(`${dir}/in/sub/a`, 'A');
    assert.equal(t.run(['create', '--name', 'cpbox', 'bb:1', 'true']).code, 0);
    assert.equal(t.run(['cp', `${dir}/in`, 'cpbox:/tmp']).code, 0);
    assert.equal(t.run(['cp', 'cpbox:/tmp/in/sub/a', `${dir}/out-a`]).code, 0);
    assert.equal(readFileSync(`${dir}/out-a`, 'utf8'), 'A');
    // A symlink inside the container pointing at "/" is resolved inside the rootfs.
    assert.equal(t.run(['run', '--name', 'cplink', 'bb:1', 'ln', '-s', '/', '/escape']).code, 0);
    writeFileSync(`${dir}/evil`, 'evil');
    assert.equal(t.run(['cp', `${dir}/evil`, 'cplink:/escape/tmp/evil-landed']).code, 0);
    assert.equal(existsSync('/tmp/evil-landed'), false);
    assert.equal(t.run(['cp', 'cplink:/tmp/evil-landed', `${dir}/back`]).code, 0);
    assert.equal(readFileSync(`${dir}/back`, 'utf8'), 'evil');
    t.run(['rm', 'cpbox', 'cplink']);
  });
});

describe('info, attach, init', () => {
  it('info reports the snapshot driver and runtime', () => {
    const r = t.run(['info', '--format', '{{.Driver}} {{.DefaultRuntime}}']);
    assert.equal(r.stdout, 'overlay runc\n');
  });
  it('attach streams live output and exits with the container status', () => {
    // attach sees only what comes after it connects: the pause leaves room for a CLI start on a loaded machine.
    const id = t.run(['run', '-d', '--network', 'none', 'bb:1', 'sh', '-c', 'sleep 3; echo late; exit 4']).stdout.trim();
    const r = t.run(['attach', id]);
    assert.equal(r.stdout, 'late\n');
    assert.equal(r.code, 4);
    t.run(['rm', id]);
  });
  it('--init runs tini as PID 1 and the command under it', () => {
    const r = t.run(['run', '--rm', '--init', '--network', 'none', 'bb:1', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$']);
    assert.equal(r.code, 0, r.stderr);
    const [pid1, self] = r.stdout.trim().split('\n');
    assert.match(pid1!, /^\/sbin\/docker-init -- sh -c/);
    assert.notEqual(self, '1');
  });
  it('-t gives the process a real terminal', () => {
    const out = execFileSync('script', [
      '-qc',
      `${BERTH_BIN} --root ${t.root} run --rm -t --network none bb:1 sh -c "test -t 1 && echo tty-yes"`,
      '/dev/null',
    ]).toString();
    assert.match(out, /tty-yes/);
  });
});
