/**
 * `berth serve` for API tests: on a state root and a socket of the test's own, started as a
 * child and stopped by its PID (TERM, then KILL) by `stop()`, and at the latest when the test
 * process exits, so no server outlives its tests. `docker()` runs a real docker CLI against it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, berthIn } from './berth.ts';
import { busyboxTar } from './busybox.ts';

/** The docker CLIs on the machine: 28 (first on PATH, no buildx) and the Debian package's 20.10. */
export const DOCKER_28 = '/usr/local/bin/docker';
export const DOCKER_20 = '/usr/bin/docker';

export interface ServeHandle {
  readonly root: string;
  readonly socket: string;
  /** `unix://<socket>`, for DOCKER_HOST. */
  readonly host: string;
  readonly pid: number;
  /** The server's stderr so far (request lines at --log-level debug). */
  log(): string;
  docker(
    args: readonly string[],
    opts?: { input?: string | Buffer; timeout?: number; cli?: string; env?: NodeJS.ProcessEnv },
  ): { code: number; stdout: string; stderr: string };
  /** A raw request on the socket; resolves with status, headers and the whole body. */
  request(
    method: string,
    path: string,
    opts?: { body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>;
  /**
   * Removes every container of the root (so no mount or netns outlives the test), then stops
   * the server by its PID; `keepContainers` for a test that restarts the server on the same root.
   */
  stop(opts?: { keepContainers?: boolean }): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `berth --root ROOT serve -H unix://SOCKET --log-level debug`; resolves once `/_ping`
 * answers (and, with `busybox`, once the busybox image is imported as bb:1). `root` defaults to a fresh temp dir, which `stop()` removes (a given one is kept).
 */
export async function startServe(opts: { root?: string; args?: readonly string[]; env?: NodeJS.ProcessEnv; busybox?: boolean } = {}): Promise<ServeHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-serve-'));
  const root = opts.root ?? join(dir, 'root');
  const socket = join(dir, 'berth.sock');
  const logFile = join(dir, 'serve.log');
  const { openSync } = await import('node:fs');
  const out = openSync(logFile, 'a');
  const child = spawn(BERTH, ['--root', root, 'serve', '-H', `unix://${socket}`, '--log-level', 'debug', ...(opts.args ?? [])], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...opts.env },
    detached: true,
  });
  child.unref();
  const pid = child.pid!;
  const kill = () => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  };
  process.once('exit', kill);
  const handle: ServeHandle = {
    root,
    socket,
    host: `unix://${socket}`,
    pid,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    docker(args, o = {}) {
      const r = spawnSync(o.cli ?? DOCKER_28, args, {
        env: { ...process.env, DOCKER_HOST: `unix://${socket}`, ...o.env },
        input: o.input,
        timeout: o.timeout ?? 120_000,
        // The docker CLI forwards SIGTERM to the container and goes on waiting: only KILL ends it.
        killSignal: 'SIGKILL',
        maxBuffer: 256 << 20,
      });
      if (r.error) throw r.error;
      return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    },
    request(method, path, o = {}) {
      return new Promise((resolve, reject) => {
        // A connection of its own: Node's default agent keeps sockets alive and may reuse one the
        // server has just closed as idle, which fails the request with EPIPE.
        const req = request(
          {
            socketPath: socket,
            agent: false,
            method,
            path,
            headers: { ...(o.body !== undefined ? { 'Content-Length': Buffer.byteLength(o.body) } : {}), ...o.headers },
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(o.body);
      });
    },
    async stop(o: { keepContainers?: boolean } = {}) {
      process.off('exit', kill);
      const ids = o.keepContainers ? [] : berthIn(root, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) berthIn(root, ['rm', '-f', ...ids]);
      if (alive(pid)) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
        kill();
      }
      if (!opts.root) {
        spawnSync('sh', ['-c', `grep -oE " ${dir}(/[^ ]*)? " /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  for (let i = 0; i < 200; i++) {
    if (existsSync(socket)) {
      const ok = await handle.request('GET', '/_ping').then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok && opts.busybox) {
        const r = berthIn(root, ['import', busyboxTar(), 'bb:1']);
        if (r.code !== 0) {
          await handle.stop();
          throw new Error(`import bb:1 failed: ${r.stderr}`);
        }
      }
      if (ok) return handle;
    }
    if (!alive(pid)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await handle.stop();
  throw new Error(`berth serve did not start:\n${handle.log()}`);
}

/** The fields of docker's inspect JSON the API tests read. */
export interface ContainerView {
  Id: string;
  Name: string;
  Config: { Labels: Record<string, string>; Env: string[]; WorkingDir: string; Tty: boolean; OpenStdin: boolean };
  HostConfig: { AutoRemove: boolean; PortBindings: Record<string, unknown>; RestartPolicy: unknown; NetworkMode: string };
  State: { Status: string; Running: boolean; Pid: number; Paused: boolean };
  NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases: string[] | null; NetworkID: string }> };
}

/** A JSON reply body, with docker's error `message` when there is one. */
export const json = (b: Buffer) => JSON.parse(b.toString()) as Record<string, unknown> & { message?: string };

/**
 * Commands against a test file's server (`get` is read at each call, after `before` set it)
 * that fail the test when they fail: berth's CLI on the server's root, and the docker CLI.
 */
export function runnersFor(get: () => ServeHandle) {
  const berth = (args: readonly string[]): string => {
    const r = berthIn(get().root, args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  return {
    berth,
    /** `docker ARGS`, which must succeed: its stdout. */
    ok(args: readonly string[]): string {
      const r = get().docker(args);
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    /** A container made by berth's CLI with no network: its id. */
    create: (...args: string[]): string => berth(['create', '--network', 'none', ...args]),
    /** `STATUS EXITCODE` of a container, from berth's inspect. */
    state: (id: string): string => berthIn(get().root, ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim(),
  };
}

/** The objects of a JSON message stream (pull, push, build, load): one per `\r\n`-ended line. */
export function jsonMessages(body: Buffer): Array<Record<string, unknown>> {
  return body
    .toString()
    .split('\r\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
