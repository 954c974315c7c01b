/** Container verbs: create, start, run, ps (ps.ts), logs, stop, kill, rm, wait, inspect, container prune (prune.ts). */
import { type Command, Option } from 'commander';
import { BerthError } from '../errors/index.ts';
import { mark } from '../progress/timing.ts';
import { collect, getEngine, group, out } from './context.ts';
import { containerPrune } from './prune.ts';
import { addPsFlags, listContainersForPs, type PsFlags } from './ps.ts';
import { inspectEach, printInspect } from './format-inspect.ts';
import { addCreateFlags, toCreateOptions, type CreateFlags } from './run-options.ts';
import { CidFile, stopFlags } from './run-flags-check.ts';

const containers = () => import('../services/containers.ts');
const starting = () => import('../services/start.ts');
const streams = () => import('../services/container-io.ts');
type LogLine = import('../services/container-io.ts').LogLine;

/** Where create's words go: the pull lines (unless `-q`) and warnings on stderr, as docker prints them. */
function createMessages(quiet: boolean) {
  return { log: quiet ? undefined : (s: string) => void process.stderr.write(s), warn: (line: string) => void process.stderr.write(`${line}\n`) };
}

/** `create`'s and `run`'s create: the flags checked, the `--cidfile` claimed first and filled with the id. */
async function createFromFlags(cmd: Command, image: string, command: string[], f: CreateFlags, verb: 'create' | 'run' = 'create') {
  const opts = toCreateOptions(image, command, f);
  const cid = CidFile.claim(f.cidfile, verb);
  try {
    const engine = await getEngine(cmd);
    const rec = await (await containers()).createContainer(engine, opts, createMessages(!!f.quiet));
    cid?.write(rec.id);
    return rec;
  } catch (e) {
    cid?.release();
    throw e;
  }
}

/** Docker's detach-keys syntax: comma-separated `ctrl-<letter>`, `ctrl-@`, `ctrl-[` ... or single characters. */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0);
  return Buffer.from(
    spec.split(',').map((k) => {
      const ctrl = /^ctrl-(.)$/i.exec(k);
      if (ctrl) {
        const c = ctrl[1]!.toLowerCase();
        if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 96;
        const special: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };
        if (c in special) return special[c]!;
      } else if (k.length === 1) {
        return k.charCodeAt(0);
      }
      throw new BerthError('INVALID_ARGUMENT', `invalid detach keys (${spec})`, { hint: 'use e.g. ctrl-p,ctrl-q or ctrl-a,x' });
    }),
  );
}

interface LogsFlags {
  follow?: boolean;
  tail: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
  details?: boolean;
}

export function register(program: Command): void {
  addCreateFlags(program.command('create').description('Create a new container')).action(
    async (image: string, command: string[], f: CreateFlags, cmd: Command) => {
      const rec = await createFromFlags(cmd, image, command, f);
      out(`${rec.id}\n`);
    },
  );

  addCreateFlags(program.command('run').description('Create and run a new container from an image'))
    .option('-d, --detach', 'run container in background and print container ID')
    .action(async (image: string, command: string[], f: CreateFlags & { detach?: boolean }, cmd: Command) => {
      // The docker CLI's own check, which exits 1 where the engine's refusals exit 125.
      if (f.detach && f.attach?.length) {
        process.stderr.write('berth: Error: Conflicting options: -a and -d\n');
        process.exitCode = 1;
        return;
      }
      const engine = await getEngine(cmd);
      const rec = await createFromFlags(cmd, image, command, f, 'run');
      mark('container created');
      const start = await starting();
      if (f.detach) {
        await start.startDetached(engine, rec.id);
        out(`${rec.id}\n`);
        return;
      }
      process.exitCode = await start.startAttached(engine, rec.id, { stdin: !!f.interactive });
    });

  program
    .command('start')
    .description('Start one or more stopped containers')
    .argument('<containers...>')
    .option('-a, --attach', 'attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "attach container's STDIN")
    .action(async (names: string[], o: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { findContainer } = await containers();
      const start = await starting();
      for (const n of names) {
        const rec = findContainer(engine, n);
        if (rec.state.status === 'running') {
          if (!o.attach) out(`${n}\n`);
          continue;
        }
        if (o.attach) {
          process.exitCode = await start.startAttached(engine, rec.id, { stdin: !!o.interactive });
        } else {
          await start.startDetached(engine, rec.id);
          out(`${n}\n`);
        }
      }
    });

  program
    .command('__monitor', { hidden: true })
    .argument('[id]')
    .option('--hold', "wait for the starter's Go on the attach socket before running the container")
    .option('--standby', 'load, open the engine, then wait for the order (container id) on fd 3 (berth serve keeps one)')
    .action(async (id: string | undefined, o: { hold?: boolean; standby?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      process.on('SIGINT', () => undefined).on('SIGHUP', () => undefined);
      const start = await starting();
      if (!o.standby && !id) throw new BerthError('INVALID_ARGUMENT', '__monitor needs a container id or --standby');
      const order = o.standby ? await start.awaitMonitorOrder(engine.containers) : { id: id!, hold: !!o.hold };
      await start.runMonitor(engine, order.id, { hold: order.hold });
    });

  for (const c of [program.command('ps'), group(program, 'container', 'Manage containers').command('ls')]) {
    addPsFlags(c.description('List containers')).action(async (o: PsFlags, cmd: Command) => {
      out(await listContainersForPs(await getEngine(cmd), o));
    });
  }

  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-u, --user <user>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('-e, --env <env>', 'set environment variables', collect, [])
    .option('--env-file <file>', 'read in a file of environment variables', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--privileged', 'give extended privileges to the command')
    .option('-d, --detach', 'detached mode: run command in the background')
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container')
    .action(
      async (
        name: string,
        command: string[],
        o: {
          interactive?: boolean;
          tty?: boolean;
          user?: string;
          env: string[];
          envFile: string[];
          workdir?: string;
          privileged?: boolean;
          detach?: boolean;
          detachKeys?: string;
        },
        cmd: Command,
      ) => {
        // Checked as docker checks it, also where no terminal is relayed to read the keys.
        const detachKeys = parseDetachKeys(o.detachKeys ?? 'ctrl-p,ctrl-q');
        // A bare NAME takes this shell's value, or is dropped, as docker's -e has it.
        const env = [...(await (await import('../container/create.ts')).readEnvFiles(o.envFile)), ...o.env].flatMap((e) =>
          e.includes('=') ? [e] : process.env[e] !== undefined ? [`${e}=${process.env[e]}`] : [],
        );
        const engine = await getEngine(cmd);
        const { execInContainer, execOnThisTerminal } = await streams();
        const opts = {
          command,
          tty: !!o.tty,
          interactive: !!o.interactive,
          user: o.user,
          env,
          workdir: o.workdir,
          privileged: o.privileged,
          detach: !!o.detach,
        };
        if (o.tty && o.interactive && !o.detach && process.stdin.isTTY) {
          // berth relays the terminal itself, so the detach keys are read (as docker's client reads them).
          const end = await execOnThisTerminal(engine, name, opts, detachKeys);
          if (end.detached) {
            process.stderr.write('read escape sequence\n');
            process.exit(1);
          }
          process.exitCode = end.code;
          return;
        }
        process.exitCode = await execInContainer(engine, name, opts);
      },
    );

  program
    .command('cp')
    .description('Copy files/folders between a container and the local filesystem')
    .argument('<src>', 'CONTAINER:SRC_PATH or a host path')
    .argument('<dest>', 'CONTAINER:DEST_PATH or a host path')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .action(async (src: string, dest: string, o: { archive?: boolean; followLink?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const cp = await streams();
      const a = cp.splitCopyArg(src);
      const b = cp.splitCopyArg(dest);
      const opts = { archive: !!o.archive, followLink: !!o.followLink };
      // `-`: a tar stream on stdout or stdin, made and unpacked as the API's archive endpoints do.
      if (a.container && dest === '-') {
        const { pipeline } = await import('node:stream/promises');
        return cp.archiveContainerPath(engine, a.container, a.path, (_stat, tar) => pipeline(tar, process.stdout, { end: false }));
      }
      if (b.container && src === '-') return cp.extractToContainer(engine, b.container, b.path, process.stdin);
      if (src === '-' || dest === '-') throw new BerthError('INVALID_ARGUMENT', 'must specify at least one container source');
      if (a.container && !b.container) await cp.copyFromContainer(engine, a.container, a.path, b.path, opts);
      else if (b.container && !a.container) await cp.copyToContainer(engine, b.container, a.path, b.path, opts);
      else
        throw new BerthError('INVALID_ARGUMENT', 'copying between containers is not supported', {
          hint: 'one of the paths must be CONTAINER:PATH and the other a host path',
        });
    });

  program
    .command('logs')
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--until <time>', 'show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--details', 'show extra details provided to logs')
    .action(async (name: string, o: LogsFlags, cmd: Command) => {
      const { parseLogTimestamp, detailsPrefix } = await import('../container/log-time.ts');
      const now = Date.now();
      const since = o.since === undefined ? undefined : parseLogTimestamp(o.since, 'since', now);
      const until = o.until === undefined ? undefined : parseLogTimestamp(o.until, 'until', now);
      const engine = await getEngine(cmd);
      const { containerLogs, followLogs } = await streams();
      const inRange = (t: number) => (since === undefined || t >= since) && (until === undefined || t <= until);
      const emit = (l: LogLine) => {
        if ((since !== undefined || until !== undefined) && !inRange(Date.parse(l.time))) return;
        const text = o.details ? `${detailsPrefix(l.attrs)}${l.log}` : l.log;
        (l.stream === 'stderr' ? process.stderr : process.stdout).write(o.timestamps ? `${l.time} ${text}` : text);
      };
      const { id, lines, end } = await containerLogs(engine, name, { tail: o.tail === 'all' ? undefined : Number(o.tail) });
      lines.forEach(emit);
      // Following stops at --until, as docker's does.
      if (o.follow && (until === undefined || until > Date.now())) {
        const signal = until === undefined ? undefined : AbortSignal.timeout(Math.min(until - Date.now(), 2 ** 31 - 1));
        await followLogs(engine, id, end, emit, { signal });
      }
    });

  program
    .command('attach')
    .description('Attach local standard input, output, and error streams to a running container')
    .argument('<container>')
    .option('--no-stdin', 'do not attach STDIN')
    .option('--detach-keys <keys>', 'key sequence for detaching a container', 'ctrl-p,ctrl-q')
    .action(async (name: string, o: { stdin: boolean; detachKeys: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const c = await streams();
      const { rec, socket } = c.attachTarget(engine, name);
      // Containers run attached by another CLI have no monitor to attach to: follow their log,
      // live output only (as docker attach), and exit with their status.
      if (!socket) {
        const { end } = await c.containerLogs(engine, rec.id);
        await c.followLogs(engine, rec.id, end, (l) => (l.stream === 'stderr' ? process.stderr : process.stdout).write(l.log));
        process.exitCode = await c.exitCodeOf(engine, rec.id);
        return;
      }
      const end = await c.attachClient(socket, { stdin: o.stdin && rec.config.interactive, tty: rec.config.tty, detachKeys: parseDetachKeys(o.detachKeys) });
      if (end.detached) return; // docker detaches quietly, with status 0
      process.exitCode = end.exitCode ?? (await c.exitCodeOf(engine, rec.id));
    });

  program
    .command('stop')
    .description('Stop one or more running containers')
    .argument('<containers...>')
    .option('-t, --timeout <seconds>', 'seconds to wait before killing the container')
    .addOption(new Option('--time <seconds>').hideHelp())
    .option('-s, --signal <signal>', 'signal to send to the container')
    .action(async (names: string[], o: { timeout?: string; time?: string; signal?: string }, cmd: Command) => {
      const stop = stopFlags(o);
      const engine = await getEngine(cmd);
      const { stopContainer } = await containers();
      for (const n of names) {
        await stopContainer(engine, n, stop);
        out(`${n}\n`);
      }
    });

  program
    .command('kill')
    .description('Kill one or more running containers')
    .argument('<containers...>')
    .option('-s, --signal <signal>', 'signal to send to the container', 'SIGKILL')
    .action(async (names: string[], o: { signal: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { killContainer } = await containers();
      for (const n of names) {
        await killContainer(engine, n, o.signal);
        out(`${n}\n`);
      }
    });

  for (const c of [program.command('rm'), group(program, 'container', 'Manage containers').command('rm')]) {
    c.description('Remove one or more containers')
      .argument('<containers...>')
      .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
      .option('-v, --volumes', 'remove anonymous volumes associated with the container')
      .action(async (names: string[], o: { force?: boolean; volumes?: boolean }, cmd: Command) => {
        const engine = await getEngine(cmd);
        const { removeContainer } = await containers();
        let failed: unknown;
        for (const n of names) {
          try {
            await removeContainer(engine, n, o);
            out(`${n}\n`);
          } catch (e) {
            failed = e;
            process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
          }
        }
        if (failed) process.exitCode = 1;
      });
  }

  program
    .command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<containers...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { waitContainer } = await containers();
      for (const n of names) out(`${await waitContainer(engine, n)}\n`);
    });

  group(program, 'container').addCommand(containerPrune());

  program
    .command('inspect')
    .description('Return low-level information on containers or images')
    .argument('<names...>')
    .option('-f, --format <format>', 'format the output using a Go template')
    .option('--type <type>', 'only inspect objects of the given type (container, image)')
    .action(async (names: string[], o: { format?: string; type?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { inspectObjects } = await containers();
      const { views, missing } = await inspectEach(names, (name) => inspectObjects(engine, [name], { type: o.type }));
      printInspect(o.format, views, { missing });
    });
}
