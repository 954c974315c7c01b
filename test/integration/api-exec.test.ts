/**
 * Exec through `berth serve`: the docker CLI 28 (output, exit codes, piped stdin, a pty,
 * detached), raw HTTP (the 101 handshake, frame bytes, a client that goes away) and dockerode.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { DOCKER_20, startServe, type ServeHandle } from '../helpers/api-server.ts';

/** A raw HTTP exchange on the socket: the request, optional stdin, a half-close; all bytes until the server closes. */
function rawExchange(socket: string, head: string, opts: { body?: string; input?: string; keepOpen?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    const parts: Buffer[] = [];
    conn.on('data', (c: Buffer) => parts.push(c));
    conn.on('error', reject);
    conn.on('close', () => resolve(Buffer.concat(parts)));
    const body = opts.body ?? '';
    conn.write(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    if (opts.input) conn.write(opts.input);
    if (!opts.keepOpen) conn.end();
  });
}

function upgradeHead(path: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json`;
}

/** Splits multiplexed output into its frames, checking each header's three zero bytes. */
function frames(data: Buffer): Array<{ type: number; text: string }> {
  const out: Array<{ type: number; text: string }> = [];
  let off = 0;
  while (off < data.length) {
    assert.ok(off + 8 <= data.length, 'a whole frame header');
    assert.deepEqual([...data.subarray(off + 1, off + 4)], [0, 0, 0]);
    const len = data.readUInt32BE(off + 4);
    out.push({ type: data[off]!, text: data.subarray(off + 8, off + 8 + len).toString() });
    off += 8 + len;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('berth serve: exec', () => {
  let s: ServeHandle;
  let cid = '';

  const createExec = async (body: Record<string, unknown>, name = 'ex'): Promise<string> => {
    const r = await s.request('POST', `/v1.41/containers/${name}/exec`, { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 201, r.body.toString());
    const id = JSON.parse(r.body.toString()).Id as string;
    assert.match(id, /^[0-9a-f]{64}$/);
    return id;
  };
  const inspect = async (id: string) => {
    const r = await s.request('GET', `/v1.41/exec/${id}/json`);
    assert.equal(r.status, 200, r.body.toString());
    return JSON.parse(r.body.toString());
  };

  before(async () => {
    s = await startServe();
    assert.equal(berthIn(s.root, ['import', busyboxTar(), 'bb:1']).code, 0);
    const r = berthIn(s.root, ['run', '-d', '--name', 'ex', '--network', 'none', 'bb:1', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    cid = r.stdout.trim();
  });
  after(async () => {
    if (s) {
      berthIn(s.root, ['rm', '-f', 'ex', 'stopped']);
      await s.stop();
    }
  });

  test('docker exec prints the output and exits with the exit code', () => {
    const r = s.docker(['exec', 'ex', 'echo', 'x']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'x\n');
    const err = s.docker(['exec', 'ex', 'sh', '-c', 'echo to-err >&2; exit 3']);
    assert.equal(err.code, 3);
    assert.equal(err.stderr, 'to-err\n');
    assert.equal(err.stdout, '');
  });

  test('docker exec -w -u -e reach the process, and CLI 20.10 execs too', () => {
    const r = s.docker(['exec', '-w', '/tmp', '-u', '65534', '-e', 'FOO=bar', 'ex', 'sh', '-c', 'pwd; id -u; echo $FOO']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '/tmp\n65534\nbar\n');
    const old = s.docker(['exec', 'ex', 'sh', '-c', 'echo twenty; exit 9'], { cli: DOCKER_20 });
    assert.equal(old.stdout, 'twenty\n');
    assert.equal(old.code, 9, old.stderr);
  });

  test('docker exec -i passes piped stdin, and its EOF ends the process, not the output', () => {
    const r = s.docker(['exec', '-i', 'ex', 'sh', '-c', 'cat; echo after-eof'], { input: 'hi\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\nafter-eof\n');
  });

  test('docker exec -it gets a pty, raw, with TERM and the exit code', () => {
    const cmd = `docker exec -it ex sh -c 'tty; echo $TERM; exit 4'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, DOCKER_HOST: s.host }, timeout: 60_000, input: '' });
    const out = r.stdout.toString();
    assert.match(out, /\/dev\/pts\/\d+\r\n/);
    assert.match(out, /xterm\r\n/);
    assert.equal(r.status, 4, out + r.stderr.toString());
  });

  test('docker exec -d returns at once and the process runs on', async () => {
    const r = s.docker(['exec', '-d', 'ex', 'sh', '-c', 'sleep 0.3; touch /f']);
    assert.equal(r.code, 0, r.stderr);
    let seen = '';
    for (let i = 0; i < 50 && !seen.includes('/f'); i++) {
      await sleep(100);
      seen = s.docker(['exec', 'ex', 'ls', '/f']).stdout;
    }
    assert.equal(seen, '/f\n');
  });

  test('exec in a stopped container is 409, in an unknown one 404; a missing command fails with 127', async () => {
    berthIn(s.root, ['run', '--name', 'stopped', '--network', 'none', 'bb:1', 'true']);
    const stopped = s.docker(['exec', 'stopped', 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /Error response from daemon: Container [0-9a-f]{64} is not running/);
    const r = await s.request('POST', '/v1.41/containers/stopped/exec', { body: JSON.stringify({ Cmd: ['true'] }) });
    assert.equal(r.status, 409);
    const unknown = await s.request('POST', '/v1.41/containers/nosuch/exec', { body: JSON.stringify({ Cmd: ['true'] }) });
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body.toString()).message, 'No such container: nosuch');
    const missing = s.docker(['exec', 'ex', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stdout + missing.stderr, /nosuchcmd.*not found/);
  });

  test('hostile create bodies are 400: malformed JSON, no command, wrong types, a relative workdir, NUL, too big', async () => {
    const bad = [
      '{"Cmd":',
      '[]',
      'null',
      '{}',
      '{"Cmd":[]}',
      '{"Cmd":[1]}',
      '{"Cmd":["true"],"Env":"x"}',
      '{"Cmd":["true"],"Tty":"yes"}',
      '{"Cmd":["true"],"WorkingDir":"rel"}',
      '{"Cmd":["a\\u0000b"]}',
      '{"Cmd":["true"],"ConsoleSize":[1]}',
    ];
    for (const body of bad) {
      const r = await s.request('POST', '/v1.41/containers/ex/exec', { body });
      assert.equal(r.status, 400, body);
      assert.equal(typeof JSON.parse(r.body.toString()).message, 'string');
    }
    const noCmd = await s.request('POST', '/v1.41/containers/ex/exec', { body: '{"Cmd":[]}' });
    assert.equal(JSON.parse(noCmd.body.toString()).message, 'No exec command specified');
    const huge = await s.request('POST', '/v1.41/containers/ex/exec', { body: `{"Cmd":["${'a'.repeat(5 << 20)}"]}` });
    assert.equal(huge.status, 400);
  });

  test('unknown exec instances are 404 for start, json and resize; a second start is 409; resize wants h and w', async () => {
    const none = 'f'.repeat(64);
    for (const [method, path] of [
      ['POST', `/v1.41/exec/${none}/start`],
      ['GET', `/v1.41/exec/${none}/json`],
      ['POST', `/v1.41/exec/${none}/resize?h=10&w=10`],
    ] as const) {
      const r = await s.request(method, path, method === 'POST' ? { body: '{}' } : {});
      assert.equal(r.status, 404, path);
      assert.equal(JSON.parse(r.body.toString()).message, `No such exec instance: ${none}`);
    }
    const id = await createExec({ Cmd: ['true'] });
    assert.equal((await s.request('POST', `/v1.41/exec/${id}/resize?h=10&w=10`)).status, 409, 'not started: not running');
    assert.equal((await s.request('POST', `/v1.41/exec/${id}/resize?h=x&w=10`)).status, 400);
    assert.equal((await s.request('POST', `/v1.41/exec/${id}/resize`)).status, 400);
    const first = await s.request('POST', `/v1.41/exec/${id}/start`, { body: '{"Detach":false,"Tty":false}' });
    assert.equal(first.status, 200);
    const second = await s.request('POST', `/v1.41/exec/${id}/start`, { body: '{"Detach":false,"Tty":false}' });
    assert.equal(second.status, 409);
    assert.equal((await s.request('POST', `/v1.41/exec/${id}/start`, { body: '{"Detach":' })).status, 400);
  });

  test('raw HTTP: 101 with exactly docker headers, multiplexed frames, then ExitCode and inspect fields', async () => {
    const id = await createExec({ AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo hi; echo err >&2; exit 2'], User: '0' });
    const before = await inspect(id);
    assert.equal(before.Running, false);
    assert.equal(before.ExitCode, null);
    const bytes = await rawExchange(s.socket, upgradeHead(`/v1.41/exec/${id}/start`), { body: '{"Detach":false,"Tty":false}\n' });
    const sep = bytes.indexOf('\r\n\r\n');
    const head = bytes.subarray(0, sep).toString();
    assert.equal(head, 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp');
    const got = frames(bytes.subarray(sep + 4));
    assert.equal(
      got
        .filter((f) => f.type === 1)
        .map((f) => f.text)
        .join(''),
      'hi\n',
    );
    assert.equal(
      got
        .filter((f) => f.type === 2)
        .map((f) => f.text)
        .join(''),
      'err\n',
    );
    const after_ = await inspect(id);
    assert.equal(after_.ExitCode, 2);
    assert.equal(after_.Running, false);
    assert.equal(after_.ID, id);
    assert.equal(after_.ContainerID, cid);
    assert.deepEqual(after_.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'echo hi; echo err >&2; exit 2'], privileged: false, user: '0' });
    assert.equal(after_.OpenStdout, true);
    assert.equal(after_.OpenStdin, false);
    assert.ok(after_.Pid > 0);
  });

  test('a start without Upgrade (dockerode without hijack) is a plain 200 carrying the frames', async () => {
    const id = await createExec({ AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo plain; echo e >&2'] });
    const r = await s.request('POST', `/exec/${id}/start`, { body: '{}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.deepEqual(
      frames(r.body).sort((a, b) => a.type - b.type),
      [
        { type: 1, text: 'plain\n' },
        { type: 2, text: 'e\n' },
      ],
    );
    assert.equal((await inspect(id)).ExitCode, 0);
  });

  test('raw HTTP: a TTY exec streams raw output with CRLF, takes stdin, and applies ConsoleSize', async () => {
    const id = await createExec({
      AttachStdin: true,
      AttachStdout: true,
      Tty: true,
      ConsoleSize: [33, 111],
      Cmd: ['sh', '-c', 'stty size; read l; echo got-$l'],
    });
    const bytes = await rawExchange(s.socket, upgradeHead(`/exec/${id}/start`), { body: '{"Detach":false,"Tty":true}', input: 'abc\n', keepOpen: true });
    const text = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4).toString();
    assert.match(text, /33 111\r\n/);
    assert.match(text, /got-abc\r\n/);
    assert.ok(!text.includes('\x00'), 'raw: no frame headers');
    assert.equal((await inspect(id)).ExitCode, 0);
  });

  test('a TTY client detaches with its detach keys: the stream ends, the process runs on', async () => {
    const id = await createExec({
      AttachStdin: true,
      AttachStdout: true,
      Tty: true,
      DetachKeys: 'ctrl-x,y',
      Cmd: ['sh', '-c', 'read l; echo got-$l; sleep 30'],
    });
    const t0 = Date.now();
    const bytes = await rawExchange(s.socket, upgradeHead(`/exec/${id}/start`), { body: '{}', input: 'one\n\x18y', keepOpen: true });
    assert.ok(Date.now() - t0 < 20_000, 'the stream ended at the detach, not at the exit');
    assert.match(bytes.toString(), /HTTP\/1\.1 101 UPGRADED/);
    let info = await inspect(id);
    assert.equal(info.Running, true);
    assert.equal(info.ExitCode, null);
    assert.ok(info.Pid > 0, 'the exec has a pid'); // process.kill(0) would signal the whole test run
    process.kill(info.Pid, 'SIGKILL');
    for (let i = 0; i < 50 && info.Running; i++) {
      await sleep(100);
      info = await inspect(id);
    }
    assert.equal(info.ExitCode, 137, 'the exit of a detached-from process is recorded');
  });

  test('a client that goes away mid-exec: the server answers on and records the exit', async () => {
    const id = await createExec({ AttachStdout: true, Cmd: ['sh', '-c', 'echo start; sleep 1; echo end; exit 7'] });
    await new Promise<void>((resolve, reject) => {
      const conn = createConnection(s.socket);
      conn.on('error', reject);
      conn.write(`${upgradeHead(`/exec/${id}/start`)}\r\nContent-Length: 2\r\n\r\n{}`);
      conn.on('data', (c: Buffer) => {
        if (c.includes('start')) {
          conn.destroy();
          resolve();
        }
      });
    });
    assert.equal((await s.request('GET', '/_ping')).status, 200);
    let info = await inspect(id);
    assert.equal(info.Running, true);
    for (let i = 0; i < 100 && info.Running; i++) {
      await sleep(100);
      info = await inspect(id);
    }
    assert.equal(info.ExitCode, 7);
    assert.equal(s.docker(['exec', 'ex', 'echo', 'still']).stdout, 'still\n');
  });

  test('long-running execs, with and without a tty, hold no server thread: a further exec starts at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = await createExec({ Cmd: ['sleep', '20'], Tty: i % 2 === 0 });
      ids.push(id);
      const t0 = Date.now();
      const r = await s.request('POST', `/exec/${id}/start`, { body: '{"Detach":true}' });
      assert.equal(r.status, 200);
      assert.ok(Date.now() - t0 < 10_000, `start ${i} waited for the others`);
    }
    const r = s.docker(['exec', 'ex', 'echo', 'free'], { timeout: 10_000 });
    assert.equal(r.stdout, 'free\n');
    for (const id of ids) assert.equal((await inspect(id)).Running, true);
    assert.doesNotMatch(s.log(), /MaxListenersExceeded/);
    // Pid is the host's pid of the process.
    for (const id of ids) {
      const pid = (await inspect(id)).Pid;
      assert.ok(pid > 0, `exec ${id} has a pid`); // process.kill(0) would signal the whole test run
      process.kill(pid, 'SIGTERM');
    }
    for (const id of ids) {
      let info = await inspect(id);
      for (let i = 0; i < 50 && info.Running; i++) {
        await sleep(100);
        info = await inspect(id);
      }
      assert.equal(info.ExitCode, 143, `exec ${id} (tty: ${info.ProcessConfig.tty}) ended by SIGTERM`);
    }
  });

  test('dockerode: container.exec, exec.start hijacked, demuxStream', async () => {
    const docker = new Docker({ socketPath: s.socket });
    const exec = await docker.getContainer('ex').exec({ Cmd: ['sh', '-c', 'echo out; echo err >&2'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    let o = '';
    let e = '';
    out.on('data', (c: Buffer) => (o += c.toString()));
    err.on('data', (c: Buffer) => (e += c.toString()));
    docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((r) => {
      stream.on('end', () => r());
      stream.on('close', () => r());
    });
    assert.equal(o, 'out\n');
    assert.equal(e, 'err\n');
    const info = await exec.inspect();
    assert.equal(info.ExitCode, 0);
    assert.equal(info.Running, false);
    // Detach through dockerode: 200 and the process runs on.
    const bg = await docker.getContainer('ex').exec({ Cmd: ['sh', '-c', 'sleep 0.2; exit 5'] });
    await bg.start({ Detach: true });
    let bgInfo = await bg.inspect();
    for (let i = 0; i < 50 && bgInfo.Running; i++) {
      await sleep(100);
      bgInfo = await bg.inspect();
    }
    assert.equal(bgInfo.ExitCode, 5);
  });
});
