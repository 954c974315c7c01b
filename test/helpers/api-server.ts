/**
 * `berth serve` for API tests: on a state root and a socket of the test's own, started as a
 * child and stopped by its PID (TERM, then KILL) by `stop()`, and at the latest when the test
 * process exits, so no server outlives its tests. `docker()` runs a real docker CLI against it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH } from './berth.ts';

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
  stop(): Promise<void>;
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
 * answers. `root` defaults to a fresh temp dir, which `stop()` removes (a given one is kept).
 */
export async function startServe(opts: { root?: string; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ServeHandle> {
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
        maxBuffer: 256 << 20,
      });
      if (r.error) throw r.error;
      return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    },
    request(method, path, o = {}) {
      return new Promise((resolve, reject) => {
        const req = request(
          { socketPath: socket, method, path, headers: { ...(o.body !== undefined ? { 'Content-Length': Buffer.byteLength(o.body) } : {}), ...o.headers } },
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
    async stop() {
      process.off('exit', kill);
      if (alive(pid)) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
        kill();
      }
      if (!opts.root) {
        spawnSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
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
      if (ok) return handle;
    }
    if (!alive(pid)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await handle.stop();
  throw new Error(`berth serve did not start:\n${handle.log()}`);
}
