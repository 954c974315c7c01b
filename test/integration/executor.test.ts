/**
 * The executor (src/runtime/executor.ts) on real runc: one module runs a build-step-shaped
 * process (to completion, output captured, /etc read-only) and a container-shaped one (a pid
 * file, kill, and a terminal taken from runc's console socket), and binds the /etc files
 * inside the rootfs even when the image's /etc/hosts and /etc/resolv.conf are links that
 * point at host paths.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setupNetwork, teardownNetwork, type NetworkAttachment } from '../../src/network/index.ts';
import { Executor, resolveUser, type ContainerSpec } from '../../src/runtime/index.ts';
import { sys } from '../../src/sys/index.ts';
import { REPO } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-executor-'));
const executor = new Executor(join(work, 'runc'));
const rootfsOf = (name: string): string => {
  const dir = join(work, 'rootfs', name);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-C', dir, '-xf', busyboxTar()]);
  return dir;
};
let seq = 0;
const attachments: NetworkAttachment[] = [];
const started: string[] = [];

/** A spec as the builder or the container service would make it, on a `none` network that network/ prepared. */
async function specFor(rootfs: string, args: string[], extra: Partial<ContainerSpec> & { tty?: boolean } = {}): Promise<ContainerSpec> {
  const id = `executor-test-${process.pid}-${++seq}`;
  const net = await setupNetwork({ containerId: id.padEnd(64, '0'), mode: 'none', publish: [], hostname: 'exec-test', stateDir: join(work, 'net', id) });
  attachments.push(net);
  started.push(id);
  const { tty, ...rest } = extra;
  return {
    id,
    rootfs,
    bundle: join(work, 'bundles', id),
    hostname: 'exec-test',
    process: { args, env: [], cwd: '/', user: await resolveUser(rootfs, ''), tty: !!tty },
    mounts: [],
    network: net,
    ...rest,
  };
}

async function collect(s: NodeJS.ReadableStream | null): Promise<string> {
  let out = '';
  if (s) for await (const c of s) out += String(c);
  return out;
}

before(() => {
  assert.ok(sys()?.recvFd, 'dist/berth_sys.node is built with the terminal calls (npm run build)');
});

after(async () => {
  for (const id of started) await executor.delete(id).catch(() => undefined);
  for (const net of attachments) await teardownNetwork(net);
  rmSync(work, { recursive: true, force: true });
});

describe('the executor runs a build step', () => {
  it('to completion, with its output captured, its exit status, and read-only /etc files', async () => {
    const rootfs = rootfsOf('step');
    const base = await specFor(rootfs, ['sh', '-c', 'echo out; echo err >&2; grep -c ^127.0.0.1 /etc/hosts; echo x > /etc/resolv.conf || echo ro; exit 3']);
    // As run-step.ts has it: no /etc/hostname of its own, and the /etc files read-only.
    const spec: ContainerSpec = { ...base, network: { ...base.network, hostnamePath: undefined }, etcReadOnly: true };
    const c = await executor.run(spec, { stdio: ['ignore', 'pipe', 'pipe'] });
    const [out, err, code] = await Promise.all([collect(c.stdout), collect(c.stderr), c.wait()]);
    assert.equal(out, 'out\n1\nro\n');
    assert.match(err, /^err\n.*(Read-only|read-only)/s);
    assert.equal(code, 3);
    const mounts = (executor.specOf(spec).mounts as Array<{ destination: string; options: string[] }>).filter((m) => m.destination.startsWith('/etc/'));
    assert.deepEqual(
      mounts.map((m) => [m.destination, m.options.includes('ro')]),
      [
        ['/etc/resolv.conf', true],
        ['/etc/hosts', true],
      ],
      'a build step has no /etc/hostname bind',
    );
  });
});

describe('the executor runs a container', () => {
  it('reports its pid from the pid file, and kill ends it with 128+9', async () => {
    const rootfs = rootfsOf('container');
    const spec = await specFor(rootfs, ['sh', '-c', 'hostname; cat /etc/hostname; exec sleep 30']);
    const pidFile = join(work, `${spec.id}.pid`);
    const c = await executor.run(spec, { stdio: ['ignore', 'pipe', 'pipe'], pidFile });
    const out = collect(c.stdout);
    const pid = await c.started();
    assert.ok(pid > 0);
    // The pid file names runc's init of the container, which becomes the process once started:
    // its command line reads empty or as runc's own for the moment of that exec.
    let cmdline = '';
    for (let i = 0; i < 100 && !/^(sh|sleep)/.test(cmdline); i++) {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/^(sh|sleep)/.test(cmdline)) await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(cmdline, /^(sh|sleep)/);
    assert.equal(await executor.status(spec.id), 'running');
    await new Promise((r) => setTimeout(r, 300));
    await c.kill('SIGKILL');
    assert.equal(await c.wait(), 137);
    assert.equal(await out, 'exec-test\nexec-test\n');
    assert.equal(await executor.status(spec.id), undefined, 'runc run removed it');
  });

  it("with a terminal from runc's console socket: a real pty, its size set by resize, input and exit status", async () => {
    const rootfs = rootfsOf('tty');
    const spec = await specFor(rootfs, ['sh'], { tty: true });
    const c = await executor.run(spec, { consoleSocket: join(work, `c${seq}.sock`), pidFile: join(work, `${spec.id}.pid`) });
    const term = await c.terminal!;
    assert.ok((await c.started()) > 0);
    let out = '';
    term.output.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<void>((r) => term.output.once('close', () => r()));
    term.resize(132, 43);
    term.write(Buffer.from('tty; stty size; exit 4\r'));
    assert.equal(await c.wait(), 4);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    term.close();
    assert.match(out, /\/dev\/pts\/0/);
    assert.match(out, /43 132/);
    assert.equal(await executor.status(spec.id), undefined, 'its runc state is removed once it exited');
  });

  it("a failed start through the console socket is runc's status and reason, with no terminal", async () => {
    const rootfs = rootfsOf('tty-fail');
    const spec = await specFor(rootfs, ['true'], { tty: true, options: { memory: 100 * 1024 } });
    const c = await executor.run(spec, { consoleSocket: join(work, `c${seq}.sock`), pidFile: join(work, `${spec.id}.pid`) });
    const err = collect(c.stderr);
    assert.notEqual(await c.wait(), 0);
    assert.equal(await c.started(), 0);
    await assert.rejects(c.terminal!);
    assert.match(await err, /memory/);
  });
});

describe('without the addon (BERTH_NO_NATIVE=1)', () => {
  it('a console-socket terminal is refused with a hint, and a piped run still works', () => {
    const script = `import('./src/sys/terminal.ts').then((m) => { try { m.needTerminalSupport(); console.log('no error'); } catch (e) { console.log(e.code, '|', e.hint); } })`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: REPO,
      env: { ...process.env, BERTH_NO_NATIVE: '1' },
      encoding: 'utf8',
    });
    assert.match(out, /^UNSUPPORTED \| run `npm run build`/);
    const piped = `import('./src/sys/spawn.ts').then(async (m) => { const c = m.spawnChild('/bin/sh', ['-c', 'echo via-node; exit 2']); let o = ''; c.stdout.on('data', (d) => (o += d)); const e = await c.exited; console.log(o.trim(), m.exitStatus(e)); })`;
    assert.equal(
      execFileSync(process.execPath, ['--import', 'tsx', '-e', piped], { cwd: REPO, env: { ...process.env, BERTH_NO_NATIVE: '1' }, encoding: 'utf8' }),
      'via-node 2\n',
    );
  });
});

describe('a hostile rootfs: /etc files that link to host paths', () => {
  it("binds them on the links' targets inside the rootfs, and the host files stay as they are", async () => {
    // Host files the links name: absolute, and relative with more `..` than the rootfs is deep.
    const canaryDir = mkdtempSync(join(tmpdir(), 'berth-canary-'));
    const hostHosts = join(canaryDir, 'hosts');
    const hostResolv = join(canaryDir, 'resolv.conf');
    writeFileSync(hostHosts, 'HOST HOSTS CANARY\n');
    writeFileSync(hostResolv, 'HOST RESOLV CANARY\n');
    const before = [statSync(hostHosts).mtimeMs, statSync(hostResolv).mtimeMs];
    try {
      const rootfs = rootfsOf('hostile');
      for (const f of ['hosts', 'resolv.conf']) if (existsSync(join(rootfs, 'etc', f))) unlinkSync(join(rootfs, 'etc', f));
      symlinkSync(hostHosts, join(rootfs, 'etc', 'hosts'));
      symlinkSync(`../../../../../../../../..${hostResolv}`, join(rootfs, 'etc', 'resolv.conf'));
      const spec = await specFor(rootfs, ['sh', '-c', 'cat /etc/hosts /etc/resolv.conf; echo planted > /etc/hosts']);
      const dests = (executor.specOf(spec).mounts as Array<{ destination: string; source: string }>)
        .filter((m) => m.source.startsWith(join(work, 'net')))
        .map((m) => m.destination);
      assert.deepEqual(dests.sort(), ['/etc/hostname', hostHosts, hostResolv].sort(), "the destinations are the links' targets, as paths inside the rootfs");
      const c = await executor.run(spec, { stdio: ['ignore', 'pipe', 'pipe'] });
      const [out, code] = await Promise.all([collect(c.stdout), c.wait()]);
      assert.equal(code, 0);
      assert.match(out, /^127.0.0.1\tlocalhost/m, "the container reads berth's hosts through its link");
      assert.doesNotMatch(out, /CANARY/);
      assert.equal(readFileSync(hostHosts, 'utf8'), 'HOST HOSTS CANARY\n');
      assert.equal(readFileSync(hostResolv, 'utf8'), 'HOST RESOLV CANARY\n');
      assert.deepEqual([statSync(hostHosts).mtimeMs, statSync(hostResolv).mtimeMs], before);
      // runc made the mount points inside the rootfs, where the links lead there.
      assert.ok(lstatSync(join(rootfs, hostHosts)).isFile());
      assert.ok(lstatSync(join(rootfs, 'etc', 'hosts')).isSymbolicLink(), 'the link itself is left as it was');
    } finally {
      rmSync(canaryDir, { recursive: true, force: true });
    }
  });
});
