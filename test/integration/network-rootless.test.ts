/**
 * The rootless default network (network/rootless/) with its real parts, run as root: a
 * namespace made by berth, slirp4netns or pasta attached to it, and a busybox httpd started
 * inside it as the stand-in container. From the host, `-p` ports reach the httpd; from the
 * namespace, a server on the host's own address answers; teardown leaves no process and no
 * file. Refusals (a privileged port, an address that is not the host's, a port in use, SCTP,
 * IPv6) come before anything is made, and teardown signals only its own helper.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BerthError } from '../../src/errors/index.ts';
import type { NetworkAttachment } from '../../src/network/attachment.ts';
import { networkLeftovers } from '../../src/network/leftovers.ts';
import { parsePublish, type PortMapping } from '../../src/network/publish.ts';
import { chooseHelper, isHelper, signallable } from '../../src/network/rootless/helper.ts';
import { setupRootlessNetwork, teardownRootlessNetwork } from '../../src/network/rootless/index.ts';
import { apiSocketPath, rootlessNetDir, rootlessNetnsPath } from '../../src/network/rootless/netns.ts';
import { resolveRootlessPorts, UNPRIVILEGED_PORT_SYSCTL } from '../../src/network/rootless/ports.ts';
import { slirpRequest } from '../../src/network/rootless/slirp.ts';
import { execFileAsync } from '../../src/sys/exec-file.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-rootless-net-'));
const www = join(work, 'www');
mkdirSync(www);
writeFileSync(join(www, 'index.html'), 'hello from the namespace\n');
const children: ChildProcess[] = [];
const servers: Array<Server | NetServer> = [];
const attachments: NetworkAttachment[] = [];
let n = 0;

after(async () => {
  for (const c of children) if (signallable(c.pid) && c.exitCode === null) c.kill('SIGKILL');
  for (const s of servers) s.close();
  for (const att of attachments) await teardownRootlessNetwork(att);
  rmSync(work, { recursive: true, force: true });
});

function options(): { containerId: string; mode: string; publish: never[]; hostname: string; stateDir: string } {
  const containerId = `rlnet${process.pid}x${n++}`.padEnd(64, '0');
  return { containerId, mode: 'bridge', publish: [], hostname: 'standin', stateDir: join(work, `state-${n}`) };
}

/** A free TCP port on the host, released at once (the test binds it again through the helper). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** busybox httpd in the namespace: the stand-in container, serving `www` on port 80. */
async function httpdIn(netnsPath: string): Promise<void> {
  const c = spawn('nsenter', [`--net=${netnsPath}`, 'busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' });
  children.push(c);
  for (let i = 0; i < 100; i++) {
    const { stdout } = await execFileAsync('nsenter', [`--net=${netnsPath}`, 'busybox', 'netstat', '-ltn']);
    if (/:80\s/.test(stdout)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('httpd did not listen');
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** After teardown: the helper is gone and none of the attachment's files is left. */
function assertGone(att: NetworkAttachment): void {
  const helper = att.rootless!;
  assert.ok(helper.pid && !isHelper(helper.pid, helper.tool, att.netnsPath!), `${helper.tool} still runs`);
  for (const path of [att.netnsPath!, apiSocketPath(att.containerId), join(rootlessNetDir(), 'attachments', `${att.containerId}.json`), att.stateDir])
    assert.equal(existsSync(path), false, `${path} is left`);
}

function hostAddress(): string {
  const all = Object.values(networkInterfaces()).flat();
  const v4 = all.find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.0.2.'));
  assert.ok(v4, 'the host has an IPv4 address');
  return v4.address;
}

describe('rootless network: slirp4netns', () => {
  test('-p on 127.0.0.1 and on every address reaches the namespace; the namespace reaches the host; DNS is 10.0.2.3; teardown leaves nothing', async () => {
    const hostServer = createHttpServer((_q, s) => s.end('from the host\n'));
    servers.push(hostServer);
    await new Promise<void>((r) => hostServer.listen(0, '0.0.0.0', r));
    const hostPort = (hostServer.address() as { port: number }).port;
    const fixed = await freePort();
    const opts = options();
    const udp = await freePort();
    const att = await setupRootlessNetwork(
      opts,
      [...parsePublish(`127.0.0.1:${fixed}:80`), ...parsePublish('80'), ...parsePublish(`127.0.0.1:${udp}:53/udp`)],
      'slirp4netns',
    );
    attachments.push(att);
    assert.equal(att.rootless?.tool, 'slirp4netns');
    assert.ok(att.rootless?.pid && isHelper(att.rootless.pid, 'slirp4netns', att.netnsPath!));
    assert.equal(att.netnsPath, rootlessNetnsPath(opts.containerId));
    assert.equal(att.ipAddress, '10.0.2.100');
    assert.deepEqual(att.ports[0], { hostIp: '127.0.0.1', hostPort: fixed, containerPort: 80, protocol: 'tcp' });
    assert.ok(att.ports[1]!.hostPort > 0, 'the random port is resolved');
    assert.deepEqual(att.ports[2], { hostIp: '127.0.0.1', hostPort: udp, containerPort: 53, protocol: 'udp' });
    assert.equal(statSync(opts.stateDir).mode & 0o777, 0o700, "the state dir is the user's alone");
    assert.equal(statSync(join(opts.stateDir, 'attachment.json')).mode & 0o777, 0o600);
    assert.match(readFileSync(att.resolvConfPath, 'utf8'), /^nameserver 10\.0\.2\.3$/m);
    assert.match(readFileSync(att.hostsPath, 'utf8'), /^10\.0\.2\.100\tstandin$/m);
    await httpdIn(att.netnsPath!);
    assert.equal(await fetchText(`http://127.0.0.1:${fixed}/`), 'hello from the namespace\n');
    assert.equal(await fetchText(`http://127.0.0.1:${att.ports[1]!.hostPort}/`), 'hello from the namespace\n');
    // busybox's wget -T crashes: the deadline is execFile's.
    const { stdout } = await execFileAsync('nsenter', [`--net=${att.netnsPath}`, 'busybox', 'wget', '-qO-', `http://${hostAddress()}:${hostPort}/`], {
      timeout: 5000,
    });
    assert.equal(stdout, 'from the host\n');
    assert.deepEqual((await teardownRootlessNetwork(att)).warnings, []);
    assertGone(att);
    await assert.rejects(fetchText(`http://127.0.0.1:${fixed}/`), 'the host port is closed');
    assert.deepEqual((await teardownRootlessNetwork(att)).warnings, [], 'a second teardown is fine');
  });

  test('the API socket: every reply is bounded in size and in time', async () => {
    const sock = join(work, 'fake-api.sock');
    const srv = createServer({ allowHalfOpen: true }, (c) => {
      c.on('data', (d) => {
        if (String(d).includes('big')) c.end(Buffer.alloc(100 * 1024, 'x'));
        // `slow` gets no reply at all
      });
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(sock, r));
    await assert.rejects(slirpRequest(sock, { execute: 'big' }), /larger than 65536 bytes/);
    await assert.rejects(slirpRequest(sock, { execute: 'slow' }, 200), /no reply in time/);
  });
});

describe('rootless network: pasta', { skip: !existsSync('/usr/bin/pasta') && 'pasta is not installed' }, () => {
  test('-p reaches the namespace; DNS goes to pasta forwarder; teardown leaves nothing', async () => {
    const fixed = await freePort();
    const att = await setupRootlessNetwork(options(), parsePublish(`127.0.0.1:${fixed}:80`), 'pasta');
    attachments.push(att);
    assert.equal(att.rootless?.tool, 'pasta');
    assert.ok(att.rootless?.pid && isHelper(att.rootless.pid, 'pasta', att.netnsPath!));
    assert.match(readFileSync(att.resolvConfPath, 'utf8'), /^nameserver 169\.254\.1\.1$/m);
    // pasta copies the host's address into the namespace; the attachment says which.
    const { stdout: inside } = await execFileAsync('nsenter', [`--net=${att.netnsPath}`, 'ip', '-4', '-o', 'addr', 'show', 'scope', 'global']);
    assert.ok(att.ipAddress && inside.includes(` ${att.ipAddress}/${att.ipPrefixLength} `), `${att.ipAddress}/${att.ipPrefixLength} in ${inside}`);
    await httpdIn(att.netnsPath!);
    assert.equal(await fetchText(`http://127.0.0.1:${fixed}/`), 'hello from the namespace\n');
    assert.deepEqual((await teardownRootlessNetwork(att)).warnings, []);
    assertGone(att);
  });
});

describe('rootless network: refusals and safety', () => {
  async function refused(publish: PortMapping[], code: string, message: RegExp): Promise<void> {
    const opts = options();
    await assert.rejects(setupRootlessNetwork(opts, publish), (e: unknown) => e instanceof BerthError && e.code === code && message.test(e.message));
    assert.equal(existsSync(rootlessNetnsPath(opts.containerId)), false, 'no namespace is left');
    assert.equal(existsSync(join(rootlessNetDir(), 'attachments', `${opts.containerId}.json`)), false, 'no record is left');
  }

  test('a privileged port names the sysctl; where the sysctl allows a port, it is allowed', async () => {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (start > 80)
      await refused(parsePublish('80:80'), 'FAILED_PRECONDITION', new RegExp(`${UNPRIVILEGED_PORT_SYSCTL.replace(/\./g, '\\.')}=80.*currently ${start}`));
    const port = await freePort();
    const collected: PortMapping[] = [];
    const one = parsePublish(`127.0.0.1:${port}:80`);
    await assert.rejects(
      resolveRootlessPorts(one, async (p) => void collected.push(p), port + 1),
      (e: unknown) => e instanceof BerthError && e.message.includes(`'${UNPRIVILEGED_PORT_SYSCTL}=${port}'`) && e.message.includes(`(currently ${port + 1})`),
    );
    assert.deepEqual(await resolveRootlessPorts(one, async (p) => void collected.push(p), port), one);
    assert.deepEqual(collected, one);
  });

  test('an address that is not the host’s, a port in use, SCTP and IPv6 are refused before anything is made', async () => {
    const busy = createServer();
    servers.push(busy);
    await new Promise<void>((r) => busy.listen(0, '0.0.0.0', r));
    const busyPort = (busy.address() as { port: number }).port;
    await refused(parsePublish('203.0.113.9:18181:80'), 'INVALID_ARGUMENT', /not one of this host's/);
    await refused(parsePublish(`${busyPort}:80`), 'CONFLICT', /already allocated/);
    await refused(parsePublish('18182:80/sctp'), 'UNSUPPORTED', /SCTP/);
    await refused(parsePublish('[::1]:18183:80'), 'UNSUPPORTED', /IPv6/);
  });

  test('with neither helper installed the error names the packages; the preferred one is taken when both are', () => {
    assert.throws(
      () => chooseHelper(undefined, [join(work, 'empty')]),
      (e: unknown) => e instanceof BerthError && e.code === 'UNAVAILABLE' && /apt-get install slirp4netns/.test(e.hint ?? ''),
    );
    assert.equal(chooseHelper(undefined, ['/usr/bin']).tool, 'slirp4netns');
    if (existsSync('/usr/bin/pasta')) assert.equal(chooseHelper('pasta', ['/usr/bin']).tool, 'pasta');
  });

  test('teardown signals only its own helper: a recorded pid now of another program, and 0, are left alone; an unrecorded helper is found by its namespace', async () => {
    assert.equal(signallable(0), false);
    assert.equal(signallable(-1), false);
    assert.equal(signallable(1), false);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(other);
    const att = await setupRootlessNetwork(options(), [], 'slirp4netns');
    attachments.push(att);
    const realPid = att.rootless!.pid!;
    // A record pointing at another program must not stop it; the real helper is still found.
    const forged: NetworkAttachment = { ...att, rootless: { tool: 'slirp4netns', pid: other.pid! } };
    assert.deepEqual((await teardownRootlessNetwork(forged)).warnings, []);
    assert.equal(other.exitCode, null, 'the other program still runs');
    assert.equal(isHelper(realPid, 'slirp4netns', att.netnsPath!), false, 'the helper on the namespace was stopped');
    assertGone(att);
    const zero: NetworkAttachment = { ...att, rootless: { tool: 'slirp4netns', pid: 0 } };
    assert.deepEqual((await teardownRootlessNetwork(zero)).warnings, []);
  });

  test('system prune: a rootless network whose container is gone is listed and undone; one still owned is left alone', async () => {
    const att = await setupRootlessNetwork(options(), [], 'slirp4netns');
    attachments.push(att);
    const mine = (owned: boolean) => networkLeftovers(work, () => owned).filter((l) => l.what.includes(att.containerId.slice(0, 12)));
    assert.deepEqual(mine(true), []);
    const [left] = mine(false);
    assert.match(
      left?.what ?? '',
      new RegExp(`network of container ${att.containerId.slice(0, 12)} that no longer exists \\(slirp4netns pid ${att.rootless!.pid}\\)`),
    );
    await left!.remove();
    assertGone(att);
    assert.deepEqual(mine(false), []);
  });
});
