/**
 * pasta (Debian package `passt`), when slirp4netns is missing: started with the options
 * rootless Podman 5 gives it. The namespace gets a copy of the host's address and routes;
 * DNS queries to 169.254.1.1 go to the host's resolver; no port is forwarded either way
 * but the ones `-p` asks for (pasta's default would forward every port bound on either side).
 * Ports are fixed when it starts, so they are resolved first. pasta daemonizes once the
 * namespace is configured: its exit status is the readiness, its pid file the pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { BerthError } from '../../errors/index.ts';

/** The address in the namespace that pasta answers DNS on (Podman's choice). */
export const PASTA_DNS = '169.254.1.1';

const START_TIMEOUT_MS = 10_000;

export interface PastaForward {
  readonly proto: 'tcp' | 'udp';
  /** '' for every address. */
  readonly hostAddr: string;
  readonly hostPort: number;
  readonly guestPort: number;
}

/** pasta's spec for one forward: `[ADDR/]HOST:GUEST`. */
function forwardSpec(f: PastaForward): string {
  return `${f.hostAddr ? `${f.hostAddr}/` : ''}${f.hostPort}:${f.guestPort}`;
}

export function pastaArgs(netnsPath: string, forwards: readonly PastaForward[], pidFile: string): string[] {
  const of = (proto: 'tcp' | 'udp', flag: string) => {
    const specs = forwards.filter((f) => f.proto === proto).map(forwardSpec);
    return specs.length ? specs.flatMap((s) => [flag, s]) : [flag, 'none'];
  };
  // As the user berth runs as (uid 0 in its user namespace is the user): pasta would otherwise
  // drop to `nobody`, who cannot open the namespace file in the user's 0700 dir.
  const runas = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  return [
    '--config-net',
    '--quiet',
    '--runas',
    runas,
    '--netns',
    netnsPath,
    '--netns-only',
    ...of('tcp', '-t'),
    ...of('udp', '-u'),
    '-T',
    'none',
    '-U',
    'none',
    '--dns-forward',
    PASTA_DNS,
    '--no-map-gw',
    '-P',
    pidFile,
  ];
}

/**
 * The address pasta copies into the namespace: the IPv4 address of the host's interface with
 * the first default route (/proc/net/route), with its prefix and the route's gateway.
 */
export function pastaAddress(): { ip: string; prefixLength: number; gateway: string } | undefined {
  let routes: string[];
  try {
    routes = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1);
  } catch {
    return undefined;
  }
  const route = routes.map((l) => l.trim().split(/\s+/)).find((f) => f[1] === '00000000' && f[7] === '00000000');
  if (!route) return undefined;
  const addr = networkInterfaces()[route[0]!]?.find((a) => a.family === 'IPv4');
  if (!addr) return undefined;
  // The gateway is little-endian hex.
  const gw = Buffer.from(route[2]!.padStart(8, '0'), 'hex').reverse().join('.');
  return { ip: addr.address, prefixLength: Number(addr.cidr?.split('/')[1] ?? 32), gateway: gw };
}

function logTail(logPath: string): string {
  try {
    const lines = readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l && !/to syslog/.test(l));
    return lines.slice(-3).join('; ');
  } catch {
    return '';
  }
}

/** Starts pasta on the namespace file with its forwards; resolves with the daemon's pid. */
export async function startPasta(binary: string, netnsPath: string, forwards: readonly PastaForward[], pidFile: string, logPath: string): Promise<number> {
  rmSync(pidFile, { force: true });
  const log = openSync(logPath, 'a', 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(binary, pastaArgs(netnsPath, forwards, pidFile), { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('a timeout');
    }, START_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve(e.message);
    });
    child.once('exit', (c, signal) => {
      clearTimeout(timer);
      resolve(signal ?? c ?? -1);
    });
  });
  const pid = Number(readTextSmall(pidFile).trim());
  rmSync(pidFile, { force: true });
  if (code !== 0 || !Number.isInteger(pid) || pid <= 1) {
    const why = logTail(logPath);
    throw new BerthError('RUNTIME', `start pasta: exited with ${code}${why ? `: ${why}` : ''}`, {
      hint: forwards.length ? 'a published port may be in use, or not allowed to this user' : undefined,
    });
  }
  return pid;
}

/** A pid file: a few bytes, read whole only when it is that small. */
function readTextSmall(path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length <= 32 ? text : '';
  } catch {
    return '';
  }
}
