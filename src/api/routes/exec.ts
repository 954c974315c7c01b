/**
 * Exec: `POST /containers/{id}/exec` creates an instance, `POST /exec/{id}/start` runs it
 * (a raw stream, or detached), `GET /exec/{id}/json` inspects it (the CLI reads the exit code
 * there once the stream has ended) and `POST /exec/{id}/resize` sizes its terminal.
 */
import { BerthError } from '../../errors/index.ts';
import { requireRunning, startExec, type ExecHandle } from '../../services/container-io.ts';
import type { ApiDeps } from '../deps.ts';
import { ExecRegistry, type ExecConfig, type ExecInstance } from '../exec-registry.ts';
import { pumpExec, startFailureCode, trackDetached } from '../exec-stream.ts';
import { readJson, sendEmpty, sendJson, type ApiContext } from '../http.ts';
import { route, type Route } from '../router.ts';
import { openRawStream, StreamType } from '../streams.ts';

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message);
}

/** A string field: absent or null is `''`; a NUL byte never reaches runc. */
function stringField(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  if (v.includes('\0')) throw invalid(`${key} must not contain a NUL byte`);
  return v;
}

function boolField(body: Record<string, unknown>, key: string): boolean {
  const v = body[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(`${key} must be a boolean`);
  return v;
}

/** A list of strings (`Cmd`, `Env`); docker takes a lone string for a one-word `Cmd` too. */
function stringList(body: Record<string, unknown>, key: string): string[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' && key === 'Cmd' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s): s is string => typeof s === 'string')) throw invalid(`${key} must be a list of strings`);
  if (list.some((s) => s.includes('\0'))) throw invalid(`${key} must not contain a NUL byte`);
  return list;
}

function consoleSize(body: Record<string, unknown>): readonly [number, number] | undefined {
  const v = body.ConsoleSize;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff))
    throw invalid('ConsoleSize must be [height, width]');
  return [v[0] as number, v[1] as number];
}

/** The create body as an exec's config; anything of the wrong shape is a 400. */
export function parseExecConfig(body: unknown): ExecConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the exec config must be a JSON object');
  const b = body as Record<string, unknown>;
  const command = stringList(b, 'Cmd');
  if (!command.length) throw invalid('No exec command specified');
  const workdir = stringField(b, 'WorkingDir');
  if (workdir && !workdir.startsWith('/')) throw invalid(`the working directory '${workdir}' is invalid, it needs to be an absolute path`);
  const tty = boolField(b, 'Tty');
  const attachStdin = boolField(b, 'AttachStdin');
  const user = stringField(b, 'User');
  return {
    command,
    tty,
    interactive: attachStdin,
    user: user || undefined,
    env: stringList(b, 'Env'),
    workdir: workdir || undefined,
    privileged: boolField(b, 'Privileged'),
    attachStdin,
    attachStdout: boolField(b, 'AttachStdout'),
    attachStderr: boolField(b, 'AttachStderr'),
    detachKeys: stringField(b, 'DetachKeys'),
    consoleSize: consoleSize(b),
  };
}

/** `GET /exec/{id}/json`, in docker's shape. */
export function inspectExec(inst: ExecInstance): Record<string, unknown> {
  const c = inst.config;
  return {
    ID: inst.id,
    Running: inst.running,
    ExitCode: inst.exitCode,
    ProcessConfig: {
      tty: c.tty,
      entrypoint: c.command[0],
      arguments: c.command.slice(1),
      privileged: !!c.privileged,
      ...(c.user ? { user: c.user } : {}),
    },
    OpenStdin: c.attachStdin,
    OpenStderr: c.attachStderr,
    OpenStdout: c.attachStdout,
    CanRemove: false,
    ContainerID: inst.containerId,
    DetachKeys: c.detachKeys,
    Pid: inst.pid,
  };
}

/** A reply with no body on a hijack request's raw socket (a detached start that asked to upgrade). */
function replyPlain(ctx: ApiContext, status: number): void {
  if (ctx.res) {
    sendEmpty(ctx, status);
    return;
  }
  const sock = ctx.upgrade!.socket;
  sock.end(`HTTP/1.1 ${status} OK\r\nContent-Length: 0\r\n\r\n`);
}

export function execRoutes(deps: ApiDeps, registry = new ExecRegistry()): Route[] {
  const { engine } = deps;

  const begin = (inst: ExecInstance, handle: ExecHandle): void => {
    inst.handle = handle;
    inst.pid = handle.pid;
    const size = inst.pendingSize ?? (inst.config.consoleSize ? [inst.config.consoleSize[1], inst.config.consoleSize[0]] : undefined);
    if (size) handle.resize(size[0], size[1]);
  };

  return [
    route('POST', '/containers/:name/exec', async (ctx) => {
      const config = parseExecConfig(await readJson<unknown>(ctx));
      const id = await requireRunning(engine, ctx.params.name!);
      sendJson(ctx, 201, { Id: registry.create(id, config).id });
    }),

    route('POST', '/exec/:id/start', async (ctx) => {
      const body = await readJson<unknown>(ctx);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the exec start config must be a JSON object');
      const detach = boolField(body as Record<string, unknown>, 'Detach');
      const inst = registry.require(ctx.params.id!);
      registry.claim(inst);
      const { config } = inst;
      if (detach) {
        let handle: ExecHandle;
        try {
          handle = await startExec(engine, inst.containerId, config, { stdin: false, stdout: false, stderr: false });
        } catch (e) {
          registry.finish(inst, startFailureCode(e));
          throw e;
        }
        begin(inst, handle);
        trackDetached(handle, inst, registry);
        replyPlain(ctx, 200);
        return;
      }
      const stream = openRawStream(ctx, { multiplexed: !config.tty });
      let handle: ExecHandle;
      try {
        handle = await startExec(engine, inst.containerId, config, { stdin: config.attachStdin, stdout: config.attachStdout, stderr: config.attachStderr });
      } catch (e) {
        // The stream is open: the reason goes in it, as docker's does, and the exit code says it.
        stream.write(StreamType.Stdout, Buffer.from(`${e instanceof Error ? e.message : String(e)}\r\n`));
        registry.finish(inst, startFailureCode(e));
        await stream.end();
        return;
      }
      begin(inst, handle);
      await pumpExec(stream, handle, inst, registry);
    }),

    route('GET', '/exec/:id/json', (ctx) => {
      sendJson(ctx, 200, inspectExec(registry.require(ctx.params.id!)));
    }),

    route('POST', '/exec/:id/resize', (ctx) => {
      const h = ctx.query.int('h');
      const w = ctx.query.int('w');
      if (h === undefined || w === undefined || h < 0 || w < 0 || h > 0xffff || w > 0xffff) throw invalid('resize needs h and w, the height and width');
      const inst = registry.require(ctx.params.id!);
      if (!inst.running) throw new BerthError('CONFLICT', `Exec ${inst.id} is not running`);
      if (inst.handle) inst.handle.resize(w, h);
      else inst.pendingSize = [w, h];
      sendEmpty(ctx, 200);
    }),
  ];
}
