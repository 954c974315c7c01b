/**
 * `berth serve`: the Docker Engine API on a socket, in the foreground, on the same state as
 * the CLI. SIGTERM and SIGINT close it; running containers keep running under their monitors.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { DEFAULT_HOST, groupId, listenTcp, listenUnix, parseHost } from '../api/listen.ts';
import { createApiServer, type TlsFiles } from '../api/server.ts';
import { BerthError } from '../errors/index.ts';
import { MonitorStandby } from '../services/start.ts';
import { spawnAsServer } from '../sys/spawn.ts';
import { isRootless } from '../sys/rootless.ts';
import { runBase } from '../store/root.ts';
import { join } from 'node:path';
import { anonymousPuller, collect, getEngine } from './context.ts';

interface ServeFlags {
  host?: string[];
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  insecureTcp?: boolean;
  logLevel: string;
  group?: string;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];

function tlsFiles(f: ServeFlags): TlsFiles | undefined {
  if (!f.tls && !f.tlsverify) return undefined;
  if (!f.tlscert || !f.tlskey) throw new BerthError('INVALID_ARGUMENT', '--tls needs --tlscert and --tlskey');
  if (f.tlsverify && !f.tlscacert) throw new BerthError('INVALID_ARGUMENT', '--tlsverify needs --tlscacert');
  const read = (p: string) => readFileSync(p);
  return { cert: read(f.tlscert), key: read(f.tlskey), ca: f.tlsverify ? read(f.tlscacert!) : undefined };
}

async function serve(cmd: Command, f: ServeFlags): Promise<void> {
  if (!LEVELS.includes(f.logLevel)) throw new BerthError('INVALID_ARGUMENT', `invalid --log-level ${f.logLevel}: use one of ${LEVELS.join(', ')}`);
  // An ordinary user's server listens in the user's run base, as rootless docker's does.
  const hosts = (f.host?.length ? f.host : [isRootless() ? `unix://${join(runBase(), 'berth.sock')}` : DEFAULT_HOST]).map(parseHost);
  const tls = tlsFiles(f);
  for (const h of hosts) {
    if (h.kind === 'tcp' && !tls && !f.insecureTcp) {
      throw new BerthError('INVALID_ARGUMENT', `refusing to listen on tcp://${h.host}:${h.port} without TLS: anyone who reaches it is root here`, {
        hint: 'give --tlsverify --tlscacert --tlscert --tlskey, or --insecure-tcp if you mean it',
      });
    }
  }
  spawnAsServer();
  const engine = await getEngine(cmd, { puller: anonymousPuller });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // A user's socket is the user's alone: the host's docker group is no id in the user's namespace.
  const gid = f.group !== undefined ? groupId([f.group]) : isRootless() ? undefined : groupId(['docker', 'berth']);
  if (f.group !== undefined && gid === undefined) throw new BerthError('NOT_FOUND', `group ${f.group} not found`);
  // A monitor kept ready for the next start: the container's start skips Node's start-up.
  const monitors = new MonitorStandby(engine.root);
  const servers = hosts.map((h) => ({
    h,
    api: createApiServer({
      deps: { engine, serverVersion: '0.1.0', monitors },
      tls: h.kind === 'tcp' ? tls : undefined,
      logRequest: f.logLevel === 'debug' ? log : undefined,
    }),
  }));
  for (const { h, api } of servers) {
    if (h.kind === 'unix') {
      await listenUnix(api.http, h.path, gid);
      if (f.logLevel !== 'error' && f.logLevel !== 'fatal') log(`API listen on ${h.path}`);
    } else {
      if (!tls) log(`WARNING: API listening on tcp://${h.host}:${h.port} without TLS: anyone who can reach it can run anything as root here`);
      await listenTcp(api.http, h.host, h.port);
      if (f.logLevel !== 'error' && f.logLevel !== 'fatal') log(`API listen on ${h.host}:${h.port}`);
    }
  }
  monitors.prepare();
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  monitors.close();
  await Promise.all(servers.map(({ api }) => api.close()));
  for (const { h } of servers) if (h.kind === 'unix') await rm(h.path, { force: true });
  engine.close();
}

export function register(program: Command): void {
  program
    .command('serve')
    .description("Serve the Docker Engine API, so docker's clients drive berth")
    .option('-H, --host <address>', `where to listen: unix:///path or tcp://host:port (repeatable; default ${DEFAULT_HOST})`, collect)
    .option('--tls', 'serve TCP over TLS (with --tlscert and --tlskey)')
    .option('--tlsverify', 'serve TCP over TLS and require client certificates signed by --tlscacert')
    .option('--tlscacert <file>', 'CA that signs accepted client certificates')
    .option('--tlscert <file>', "the server's certificate")
    .option('--tlskey <file>', "the server's key")
    .option('--insecure-tcp', 'allow tcp:// without TLS (anyone who reaches it is root here)')
    .option('-l, --log-level <level>', 'debug logs one line per request (debug, info, warn, error, fatal)', 'info')
    .option('-G, --group <name>', 'group of the unix socket (default: docker, else berth, when one exists)')
    .action(async (f: ServeFlags, cmd: Command) => serve(cmd, f));
}
