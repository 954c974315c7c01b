/**
 * slirp4netns: started with the options rootless Podman gives it (the container may not reach
 * the host's loopback through 10.0.2.2; the sandbox and seccomp filter confine the helper),
 * attached to the namespace file, and detached from berth so that it outlives the command
 * that started it. It reports readiness on a pipe (`--ready-fd`) once the tap device is up
 * and configured; its log goes to a file that a start failure quotes.
 *
 * Host ports are added through its API socket, one request per connection (`add_hostfwd`);
 * every reply is read with a size cap and a deadline.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { BerthError } from '../../errors/index.ts';

/** The addresses slirp4netns gives a namespace on its default 10.0.2.0/24. */
export const SLIRP_ADDRESS = { ip: '10.0.2.100', prefixLength: 24, gateway: '10.0.2.2', dns: '10.0.2.3' } as const;
/** The device slirp4netns makes in the namespace (Podman's name). */
export const SLIRP_DEVICE = 'tap0';

const READY_TIMEOUT_MS = 10_000;
const API_TIMEOUT_MS = 5000;
const API_MAX_REPLY = 64 * 1024;

export function slirpArgs(netnsPath: string, apiSocket: string): string[] {
  return [
    '--configure',
    '--mtu=65520',
    '--disable-host-loopback',
    '--enable-sandbox',
    '--enable-seccomp',
    '--api-socket',
    apiSocket,
    '--ready-fd=3',
    '--netns-type=path',
    netnsPath,
    SLIRP_DEVICE,
  ];
}

function logTail(logPath: string): string {
  try {
    const lines = readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l && !/seccomp is experimental/.test(l));
    return lines.slice(-3).join('; ');
  } catch {
    return '';
  }
}

/** Starts slirp4netns on the namespace file and resolves with its pid once it is ready. */
export async function startSlirp4netns(binary: string, netnsPath: string, apiSocket: string, logPath: string): Promise<number> {
  rmSync(apiSocket, { force: true });
  const log = openSync(logPath, 'a', 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(binary, slirpArgs(netnsPath, apiSocket), { detached: true, stdio: ['ignore', log, log, 'pipe'] });
  } finally {
    closeSync(log);
  }
  const ready = child.stdio[3]!;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      const done = (e?: Error) => {
        clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      ready.once('data', () => done());
      child.once('error', (e) => done(e));
      child.once('exit', (code, signal) => done(new Error(`exited with ${signal ?? code}`)));
    });
  } catch (e) {
    if (child.pid && child.exitCode === null) child.kill('SIGKILL');
    const why = logTail(logPath);
    throw new BerthError('RUNTIME', `start slirp4netns: ${(e as Error).message}${why ? `: ${why}` : ''}`, { cause: e });
  } finally {
    ready.destroy();
    child.removeAllListeners();
    child.unref();
  }
  if (!child.pid) throw new BerthError('RUNTIME', 'start slirp4netns: no pid');
  return child.pid;
}

/** One request on the API socket; the reply's `return`, or a BerthError with slirp's `desc`. */
export function slirpRequest(apiSocket: string, request: object, timeoutMs = API_TIMEOUT_MS): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = connect(apiSocket);
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (message: string) => {
      sock.destroy();
      reject(new BerthError('RUNTIME', `slirp4netns API: ${message}`));
    };
    sock.setTimeout(timeoutMs, () => fail('no reply in time'));
    sock.on('error', (e) => fail(e.message));
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > API_MAX_REPLY) return fail(`reply larger than ${API_MAX_REPLY} bytes`);
      chunks.push(d);
    });
    sock.on('end', () => {
      sock.destroy();
      let reply: { return?: Record<string, unknown>; error?: { desc?: string } };
      try {
        reply = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reject(new BerthError('RUNTIME', 'slirp4netns API: the reply is not JSON'));
      }
      if (reply.error) return reject(new BerthError('RUNTIME', `slirp4netns API: ${reply.error.desc ?? JSON.stringify(reply.error)}`));
      resolve(reply.return ?? {});
    });
    sock.end(JSON.stringify(request));
  });
}

/** Forwards host `hostAddr:hostPort` to the container's `guestPort`; slirp4netns binds the host socket itself. */
export async function addHostForward(apiSocket: string, fwd: { proto: 'tcp' | 'udp'; hostAddr: string; hostPort: number; guestPort: number }): Promise<number> {
  const reply = await slirpRequest(apiSocket, {
    execute: 'add_hostfwd',
    arguments: { proto: fwd.proto, host_addr: fwd.hostAddr, host_port: fwd.hostPort, guest_port: fwd.guestPort },
  });
  return Number(reply.id);
}
