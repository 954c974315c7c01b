/** Container verbs: create, start, run, ps, logs, stop, kill, rm, wait, inspect, container prune. */
import type { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import { mark } from '../progress/timing.ts';
import { collect, getEngine, group, out } from './context.ts';
import { formatRows, renderTemplate } from './format.ts';
import { addCreateFlags, toCreateOptions, type CreateFlags } from './run-options.ts';

const containers = () => import('../services/containers.ts');
const starting = () => import('../services/start.ts');
const streams = () => import('../services/container-io.ts');

/** Where create's words go: the pull lines and warnings on stderr, as docker prints them. */
const createMessages = { log: (s: string) => void process.stderr.write(s), warn: (line: string) => void process.stderr.write(`${line}\n`) };

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

/** `--filter key=value`, repeated, as the filters map docker's API takes. */
function psFilters(specs: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new BerthError('INVALID_ARGUMENT', `bad format of filter (expected name=value): ${spec}`);
    (out[spec.slice(0, eq)] ??= []).push(spec.slice(eq + 1));
  }
  return out;
}

export function register(program: Command): void {
  addCreateFlags(program.command('create').description('Create a new container')).action(
    async (image: string, command: string[], f: CreateFlags, cmd: Command) => {
      const engine = await getEngine(cmd);
      const rec = await (await containers()).createContainer(engine, toCreateOptions(image, command, f), createMessages);
      out(`${rec.id}\n`);
    },
  );

  addCreateFlags(program.command('run').description('Create and run a new container from an image'))
    .option('-d, --detach', 'run container in background and print container ID')
    .action(async (image: string, command: string[], f: CreateFlags & { detach?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const rec = await (await containers()).createContainer(engine, toCreateOptions(image, command, f), createMessages);
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

  const ps = async (o: { all?: boolean; quiet?: boolean; format?: string; trunc?: boolean; latest?: boolean; filter: string[] }, cmd: Command) => {
    const engine = await getEngine(cmd);
    const { listContainers, psRow } = await containers();
    const shown = o.filter.length
      ? await (await import('../services/container-ops.ts')).listContainersFiltered(engine, {
          all: o.all,
          limit: o.latest ? 1 : undefined,
          filters: psFilters(o.filter),
        })
      : await listContainers(engine, { all: o.all, latest: o.latest });
    const rows = shown.map((r) => psRow(r, { noTrunc: o.trunc === false }));
    if (o.quiet) return out(rows.map((r) => `${r.ID}\n`).join(''));
    out(
      formatRows(o.format, rows, {
        headers: ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        cells: (r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names].map(String),
      }),
    );
  };
  for (const c of [program.command('ps'), group(program, 'container', 'Manage containers').command('ls')]) {
    c.description('List containers')
      .option('-a, --all', 'show all containers (default shows just running)')
      .option('-q, --quiet', 'only display container IDs')
      .option('-l, --latest', 'show the latest created container')
      .option('--no-trunc', 'do not truncate output')
      .option('-f, --filter <filter>', 'filter output based on conditions provided (label, name, status, id, ancestor, exited...)', collect, [])
      .option('--format <format>', 'table, json, or a Go template')
      .action(ps);
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
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--privileged', 'give extended privileges to the command')
    .option('-d, --detach', 'detached mode: run command in the background')
    .action(
      async (
        name: string,
        command: string[],
        o: { interactive?: boolean; tty?: boolean; user?: string; env: string[]; workdir?: string; privileged?: boolean; detach?: boolean },
        cmd: Command,
      ) => {
        const engine = await getEngine(cmd);
        const { execInContainer } = await streams();
        process.exitCode = await execInContainer(engine, name, {
          command,
          tty: !!o.tty,
          interactive: !!o.interactive,
          user: o.user,
          env: o.env,
          workdir: o.workdir,
          privileged: o.privileged,
          detach: !!o.detach,
        });
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
    .action(async (name: string, o: { follow?: boolean; tail: string; timestamps?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { containerLogs, followLogs } = await streams();
      const emit = (l: { log: string; stream: string; time: string }) =>
        (l.stream === 'stderr' ? process.stderr : process.stdout).write(o.timestamps ? `${l.time} ${l.log}` : l.log);
      const { id, lines, end } = await containerLogs(engine, name, { tail: o.tail === 'all' ? undefined : Number(o.tail) });
      lines.forEach(emit);
      if (o.follow) await followLogs(engine, id, end, emit);
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
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .option('-s, --signal <signal>', 'signal to send to the container')
    .action(async (names: string[], o: { time?: string; signal?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { stopContainer } = await containers();
      for (const n of names) {
        await stopContainer(engine, n, { timeout: o.time === undefined ? undefined : Number(o.time), signal: o.signal });
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

  group(program, 'container')
    .command('prune')
    .description('Remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (_o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const removed = await (await containers()).pruneContainers(engine);
      if (removed.length) out(`Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n`);
      out('Total reclaimed space: 0B\n');
    });

  program
    .command('inspect')
    .description('Return low-level information on containers or images')
    .argument('<names...>')
    .option('-f, --format <format>', 'format the output using a Go template')
    .option('--type <type>', 'only inspect objects of the given type (container, image)')
    .action(async (names: string[], o: { format?: string; type?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const views = await (await containers()).inspectObjects(engine, names, { type: o.type });
      if (o.format) return out(views.map((v) => `${renderTemplate(o.format!, v)}\n`).join(''));
      out(`${JSON.stringify(views, null, 4)}\n`);
    });
}
