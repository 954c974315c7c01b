/**
 * The rootless network through the real CLI. Until berth's own rootless entry is there, the
 * stand-in for it is a user namespace made by the test (as root): uid 0 inside is root
 * outside, ids 1..65536 are 100000.. (subordinate ids), so `isRootless()` is true, image
 * files keep their owners, and berth runs every verb there as it will for a user. In it:
 * `run -d -p` is fetched from the host, `port` and inspect show the mapping, `rm` stops the
 * helper; a container reaches a server on the host; privileged and hostile `-p` values fail
 * with their errors; none and host work; user networks are refused with a clear error.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, type BerthResult, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-rootless-net-cli-');
const STANDIN = join(t.root, '..', `${t.root.split('/').pop()}-userns.py`);
// A child unshares a user and mount namespace; the parent writes its id maps; the child execs.
writeFileSync(
  STANDIN,
  `import ctypes, os, sys
r, w = os.pipe(); r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w); os.close(r2)
    assert ctypes.CDLL(None, use_errno=True).unshare(0x10000000 | 0x00020000) == 0
    os.write(w2, b"x"); os.close(w2); os.read(r, 1)
    os.setgid(0); os.setuid(0)
    os.execvp(sys.argv[1], sys.argv[1:])
os.close(r); os.close(w2); os.read(r2, 1)
for f, text in (("uid_map", "0 0 1\\n1 100000 65536\\n"), ("setgroups", "deny"), ("gid_map", "0 0 1\\n1 100000 65536\\n")):
    open(f"/proc/{pid}/{f}", "w").write(text)
os.write(w, b"x")
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
`,
);

function berth(args: readonly string[]): BerthResult {
  const r = spawnSync('python3', [STANDIN, BERTH, '--root', t.root, ...args], { timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** As berth(), without blocking the event loop (the test serves HTTP meanwhile). */
function berthAsync(args: readonly string[]): Promise<BerthResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', [STANDIN, BERTH, '--root', t.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 137, stdout, stderr }));
  });
}

/** The slirp4netns processes on a container's namespace, by their command line. */
function helpersOf(id: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return (args[0] ?? '').endsWith('slirp4netns') && args.some((a) => a.endsWith(`/berth-${id.slice(0, 12)}`));
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

before(() => {
  const r = berth(['import', busyboxTar(), 'bb:1']);
  assert.equal(r.code, 0, r.stderr);
});

after(() => {
  for (const id of berth(['ps', '-aq']).stdout.split('\n').filter(Boolean)) berth(['rm', '-f', id]);
  t.cleanup();
  spawnSync('rm', ['-f', STANDIN]);
});

describe('rootless network through the CLI (a user namespace standing in for the rootless entry)', () => {
  test('run -d -p: fetched from the host on 127.0.0.1; port and inspect show it; rm stops slirp4netns', async () => {
    const port = await freePort();
    const run = berth(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'bb:1', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.equal(helpersOf(id).length, 1, 'one slirp4netns serves the container');
    let body = '';
    for (let i = 0; i < 50 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/hostname`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.text(),
        () => '',
      );
      if (!body) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(body, `${id.slice(0, 12)}\n`);
    assert.equal(berth(['port', 'web']).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    const inspect = berth(['inspect', '--format', '{{json .NetworkSettings.Ports}} {{.NetworkSettings.IPAddress}}', 'web']).stdout.trim();
    assert.equal(inspect, `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${port}"}]} 10.0.2.100`);
    assert.equal(berth(['rm', '-f', 'web']).code, 0);
    assert.deepEqual(helpersOf(id), [], 'rm stopped slirp4netns');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/hostname`, { signal: AbortSignal.timeout(2000) }), 'the port is closed');
  });

  test('a container reaches a server on the host; its resolv.conf names slirp4netns; none has only lo', async () => {
    const host = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    assert.ok(host);
    const srv = createServer((_q, s) => s.end('from the host\n'));
    await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
    try {
      const url = `http://${host.address}:${(srv.address() as { port: number }).port}/`;
      const r = await berthAsync(['run', '--rm', 'bb:1', 'sh', '-c', `cat /etc/resolv.conf; wget -qO- ${url}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'nameserver 10.0.2.3\nfrom the host\n');
    } finally {
      srv.close();
    }
    const none = berth(['run', '--rm', '--network', 'none', 'bb:1', 'sh', '-c', 'ls /sys/class/net']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'lo\n');
  });

  test('--network host sees the host’s interfaces (its /sys is bound: sysfs cannot be mounted there)', () => {
    const hostNet = berth(['run', '--rm', '--network', 'host', 'bb:1', 'sh', '-c', 'ls /sys/class/net']);
    assert.equal(hostNet.code, 0, hostNet.stderr);
    assert.ok(hostNet.stdout.split('\n').includes(Object.keys(networkInterfaces()).find((n) => n !== 'lo')!), hostNet.stdout);
  });

  test('a privileged port names the sysctl; port 0 and an address not the host’s get their errors; user networks are refused', () => {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (start > 80) {
      const r = berth(['run', '-d', '-p', '80:80', 'bb:1', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /cannot expose privileged port 80.*'net\.ipv4\.ip_unprivileged_port_start=80'/);
    }
    for (const [spec, message] of [
      ['0:80', /ports are 1-65535/],
      ['203.0.113.9:18181:80', /not one of this host's/],
    ] as const) {
      const r = berth(['run', '-d', '-p', spec, 'bb:1', 'true']);
      assert.equal(r.code, 125, `${spec}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const create = berth(['network', 'create', 'mynet']);
    assert.equal(create.code, 1);
    assert.match(create.stderr, /user networks in rootless mode are not supported yet/);
  });
});
