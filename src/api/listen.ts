/**
 * Where `berth serve` listens: `unix://PATH` (0660, owned by the `docker` or `berth` group
 * when the machine has one, as dockerd's socket is) or `tcp://HOST:PORT`, which needs TLS
 * or an explicit `--insecure-tcp`. A stale socket file is replaced; a live one is an error.
 */
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, rm, stat } from 'node:fs/promises';
import { createConnection, type Server } from 'node:net';
import { dirname } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';

export type ListenAddress = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export function parseHost(spec: string): ListenAddress {
  const unix = /^unix:\/\/(\/.+)$/.exec(spec);
  if (unix) return { kind: 'unix', path: unix[1]! };
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(spec);
  if (tcp) {
    const port = Number(tcp[2] ?? '2376');
    if (port < 1 || port > 65535) throw new BerthError('INVALID_ARGUMENT', `invalid port in ${spec}`);
    return { kind: 'tcp', host: (tcp[1] || '127.0.0.1').replace(/^\[|\]$/g, ''), port };
  }
  throw new BerthError('INVALID_ARGUMENT', `invalid host address ${JSON.stringify(spec)}`, { hint: 'use unix:///path/to.sock or tcp://HOST:PORT' });
}

/** The gid of the first of `names` in /etc/group, if any. */
export function groupId(names: readonly string[]): number | undefined {
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  for (const name of names) {
    const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
    if (line) return Number(line.split(':')[2]);
  }
  return undefined;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Listens on a unix socket: mode 0660, group `gid` (and its dir let through to that group) when given. */
export async function listenUnix(server: Server, path: string, gid: number | undefined): Promise<void> {
  const st = await stat(path).catch((e) => (errnoCode(e) === 'ENOENT' ? undefined : Promise.reject(e)));
  if (st) {
    if (!st.isSocket()) throw new BerthError('ALREADY_EXISTS', `${path} exists and is not a socket`);
    if (await socketAnswers(path))
      throw new BerthError('ALREADY_EXISTS', `${path} is in use: another server listens on it`, { hint: 'stop it, or give another -H' });
    await rm(path, { force: true });
  }
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
  // Until this chmod the socket has no write bit for group or others, so nobody else can connect.
  await chmod(path, 0o660);
  if (gid !== undefined) {
    await chown(path, 0, gid);
    // The socket's dir stays closed to others; its group may pass through to the socket alone.
    const d = await stat(dir);
    if (d.uid === 0 && (d.mode & 0o777) === 0o700) {
      await chown(dir, 0, gid);
      await chmod(dir, 0o710);
    }
  }
}

export async function listenTcp(server: Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
}
