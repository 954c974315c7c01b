/**
 * Shared setup for the tests that drive `berth serve` with real clients (docker CLI, compose,
 * dockerode, testcontainers, devcontainers): a server with the busybox image imported as bb:1,
 * a docker CLI pointed at any engine, output normalized for differential checks, background
 * client processes stopped by PID, and a burst of concurrent requests on the socket.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { DOCKER_28, type ServeHandle, startServe } from './api-server.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for every client process: no hints, no CLI plugins' noise, no stray context. */
export function clientEnv(host: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: host, DOCKER_CLI_HINTS: 'false', DOCKER_CONTEXT: '', ...extra };
}

/** Runs a docker CLI (28 unless `cli` says otherwise) against the engine at `host`. */
export function dockerAt(
  host: string,
  args: readonly string[],
  opts: { cli?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv; timeout?: number; cwd?: string } = {},
): CliResult {
  const r = spawnSync(opts.cli ?? DOCKER_28, args, {
    env: clientEnv(host, opts.env),
    input: opts.input,
    cwd: opts.cwd,
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128 + 9, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Runs a shell command line with DOCKER_HOST at `host` (pipes, `script -qc` under a pty). */
export function shellAt(host: string, line: string, opts: { input?: string; timeout?: number; cwd?: string } = {}): CliResult {
  const r = spawnSync('sh', ['-c', line], {
    env: clientEnv(host),
    input: opts.input ?? '',
    cwd: opts.cwd,
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128 + 9, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const TIME_PHRASE = /(Less than a second|About a minute|About an hour|an? (?:second|minute|hour)|\d+ (?:seconds?|minutes?|hours?|days?))( ago)?/g;

/**
 * Output with what legitimately differs between two engines replaced: content ids and digests,
 * relative times, sizes, version numbers, `vars` values (a per-engine name or port), and the
 * column padding that follows from their widths.
 */
export function normalize(text: string, vars: Readonly<Record<string, string>> = {}): string {
  let s = text;
  for (const [name, value] of Object.entries(vars)) if (value) s = s.split(value).join(`{${name}}`);
  return s
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<digest>')
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .replace(TIME_PHRASE, '<time>')
    .replace(/\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|KiB|MiB|GiB)\b/g, '<size>')
    .replace(/\bsize: \d+/g, 'size: <n>')
    .replace(/\b\d+\.\d+\.\d+[^\s]*/g, '<version>')
    .replace(/[ \t]{2,}/g, '  ')
    .replace(/[ \t]+$/gm, '');
}

/** A docker-style server on a fresh root with busybox imported as bb:1; stop it in `after`. */
export function startServeWithBusybox(): Promise<ServeHandle> {
  return startServe({ busybox: true });
}

/** A client process that keeps running (`logs -f`, `events`, compose up): its output so far, waits on it, and a stop by PID. */
export interface Background {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited(): Promise<number>;
  stop(): void;
}

export function background(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, opts: { cwd?: string } = {}): Background {
  const child = spawn(cmd, args, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number>((resolve) => child.once('close', (code, sig) => resolve(code ?? (sig === 'SIGKILL' ? 137 : 143))));
  return {
    child,
    output: () => out,
    async waitFor(pattern, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${pattern} in:\n${out}`);
        if (child.exitCode !== null) throw new Error(`${cmd} exited (${child.exitCode}) before ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out;
    },
    exited: () => exit,
    stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    },
  };
}

/** A GET with a short timeout: the body, or the error's message. */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Retries `httpGet` until it answers 200 (a server in a fresh container takes a moment to listen). */
export async function httpGetWhenUp(url: string, timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await httpGet(url);
      if (r.status === 200) return r.body;
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    if (Date.now() > end) throw new Error(`GET ${url} never answered 200`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `n` requests at once on the socket, each on its own connection: every status and the latencies, sorted. */
export async function burst(socketPath: string, path: string, n: number): Promise<{ statuses: number[]; latenciesMs: number[]; p99Ms: number }> {
  const one = () =>
    new Promise<{ status: number; ms: number }>((resolve) => {
      const t0 = performance.now();
      const req = request({ socketPath, path, method: 'GET', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      });
      req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
      req.end();
    });
  const results = await Promise.all(Array.from({ length: n }, one));
  const latenciesMs = results.map((r) => r.ms).sort((a, b) => a - b);
  return { statuses: results.map((r) => r.status), latenciesMs, p99Ms: latenciesMs[Math.min(n - 1, Math.ceil(n * 0.99) - 1)] };
}

/** A process's resident memory (VmRSS) and its peak (VmHWM), in bytes, from /proc. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** How many file descriptors a process has open. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Sends a request head, then body bytes in 1 MiB pieces (with backpressure) until the server
 * closes the connection or `maxBytes` are sent: the status line it answered with ('' for none),
 * how many body bytes had gone out when the answer came (`sent`), and in all (`sentInAll`): a
 * server that refuses a body closes the connection instead of reading the rest.
 */
export function uploadUntilAnswered(
  socketPath: string,
  head: string,
  maxBytes: number,
): Promise<{ statusLine: string; reply: string; sent: number; sentInAll: number; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    const piece = Buffer.alloc(1 << 20, 0x7b);
    const chunked = /transfer-encoding: chunked/i.test(head);
    let sentInAll = 0;
    let sent = -1;
    let reply = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve({ statusLine: reply.split('\r\n')[0] ?? '', reply, sent: sent < 0 ? sentInAll : sent, sentInAll, closed });
    };
    sock.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (sent < 0 && reply.includes('\r\n\r\n')) sent = sentInAll;
    });
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    const pump = () => {
      while (!done && sentInAll < maxBytes) {
        sentInAll += piece.length;
        const data = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
        if (!sock.write(data)) {
          sock.once('drain', pump);
          return;
        }
      }
      if (!done) setTimeout(() => finish(false), 2_000);
    };
    sock.on('connect', () => {
      sock.write(head);
      pump();
    });
  });
}
