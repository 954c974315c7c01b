/**
 * `POST /containers/{id}/attach`: a raw stream (101 when hijacked, a plain 200 for dockerode)
 * fed by the attach hub. Output is multiplexed exactly when the container has no TTY; stdin
 * comes raw. The client's half-close ends the container's stdin (when it has one open), never
 * the attach: the stream ends when the container exits, after its last output. A TTY attach
 * watches its stdin for the detach keys, which end this client's attach and nothing else.
 */
import type { Engine } from '../engine.ts';
import { BerthError } from '../errors/index.ts';
import { attachTarget, containerLogs, currentRecord, FrameKind, followLogs, recordAttach } from '../services/container-io.ts';
import type { AttachHub } from './attach-hub.ts';
import type { ApiContext } from './http.ts';
import { openRawStream, type RawStream, StreamType } from './streams.ts';

const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/**
 * Output a client has not read yet, beyond which it is dropped: the container's output is not
 * held back for one reader (its log has it all), and the server's memory stays bounded.
 */
export const SLOW_CLIENT_LIMIT = 16 << 20;

/** The bytes written to this request's client that it has not taken yet. */
export function unsent(ctx: ApiContext): number {
  return (ctx.upgrade?.socket as { writableLength?: number } | undefined)?.writableLength ?? ctx.res?.writableLength ?? 0;
}

/** Closes this request's connection at once, whatever is unsent. */
export function dropClient(ctx: ApiContext): void {
  if (ctx.upgrade) ctx.upgrade.socket.destroy();
  else ctx.res?.destroy();
}

/** docker's detach-keys syntax: comma-separated `ctrl-<letter>`, `ctrl-@`, `ctrl-[` ... or single characters. */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0);
  const special: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };
  return Buffer.from(
    spec.split(',').map((k) => {
      const ctrl = /^ctrl-(.)$/i.exec(k);
      const c = ctrl?.[1]?.toLowerCase();
      if (c !== undefined && c >= 'a' && c <= 'z') return c.charCodeAt(0) - 96;
      if (c !== undefined && c in special) return special[c]!;
      if (!ctrl && k.length === 1) return k.charCodeAt(0);
      throw new BerthError('INVALID_ARGUMENT', `Invalid detach keys (${spec}) provided`);
    }),
  );
}

/**
 * Watches stdin for the detach keys: the bytes of a partial match are held back until the
 * match fails (then they go through) or completes (then they never reach the container).
 */
export function detachWatcher(keys: Buffer): (data: Buffer) => { forward: Buffer; detach: boolean } {
  let matched = 0;
  return (data) => {
    const out: number[] = [];
    for (const byte of data) {
      if (byte === keys[matched]) {
        matched++;
        if (matched === keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      for (let i = 0; i < matched; i++) out.push(keys[i]!);
      matched = byte === keys[0] ? 1 : 0;
      if (!matched) out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  };
}

interface AttachWants {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

export async function attachStream(engine: Engine, hub: AttachHub, ctx: ApiContext): Promise<void> {
  const rec = engine.containers.require(ctx.params.id!);
  const q = ctx.query;
  const want: AttachWants = { stdin: q.bool('stdin'), stdout: q.bool('stdout'), stderr: q.bool('stderr') };
  const keys = parseDetachKeys(q.get('detachKeys') ?? DEFAULT_DETACH_KEYS);
  const tty = rec.config.tty;
  const out = openRawStream(ctx, { multiplexed: !tty });
  recordAttach(rec);
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    void out.end();
  };
  if (q.bool('logs')) {
    const { lines } = await containerLogs(engine, rec.id);
    for (const l of lines) if (l.stream === 'stdout' ? want.stdout : want.stderr) out.write(streamOf(l.stream), Buffer.from(l.log));
  }
  if (!q.bool('stream')) {
    finish();
    await out.closed;
    return;
  }
  const remove = hub.add(rec.id, {
    stdout: want.stdout,
    stderr: want.stderr,
    output: (kind, data) => {
      if (unsent(ctx) > SLOW_CLIENT_LIMIT) dropClient(ctx);
      else out.write(kind === FrameKind.Stdout ? StreamType.Stdout : StreamType.Stderr, data);
    },
    end: finish,
  });
  void out.closed.then(remove);
  relayInput(hub, rec.id, out, want.stdin, rec.config.interactive, tty && keys.length ? detachWatcher(keys) : undefined, () => {
    remove();
    finish();
  });
  // Not running yet: the API's start connects the hub. Running: connect now, or follow the
  // log of a container that a CLI runs attached (it has no monitor to connect to).
  if ((await currentRecord(engine, rec.id))?.state.status === 'running') {
    let socket: string | undefined;
    try {
      socket = attachTarget(engine, rec.id).socket;
    } catch {
      finish(); // it stopped meanwhile
    }
    if (socket) await hub.connect(rec.id, socket).catch(() => finish());
    else if (!ended) void followLive(engine, rec.id, out, want, ctx.signal).finally(finish);
  }
  await out.closed;
}

function streamOf(name: 'stdout' | 'stderr'): StreamType.Stdout | StreamType.Stderr {
  return name === 'stdout' ? StreamType.Stdout : StreamType.Stderr;
}

/** The client's stdin to the container; without stdin attached, it is drained so its EOF is seen and ignored. */
function relayInput(
  hub: AttachHub,
  id: string,
  out: RawStream,
  stdin: boolean,
  openStdin: boolean,
  watch: ReturnType<typeof detachWatcher> | undefined,
  detach: () => void,
): void {
  const input = out.input;
  if (!input) return;
  input.on('error', () => undefined);
  if (!stdin) {
    input.on('data', () => undefined);
    input.resume();
    return;
  }
  input.on('data', (d: Buffer) => {
    const { forward, detach: detached } = watch ? watch(d) : { forward: d, detach: false };
    if (forward.length) hub.send(id, FrameKind.Stdin, forward);
    if (detached) detach();
  });
  // Half-close: the container's stdin ends (StdinOnce); the output goes on.
  input.on('end', () => {
    if (openStdin) hub.send(id, FrameKind.StdinEnd);
  });
  input.resume();
}

/** A container run attached by a CLI: its output as the log records it, from now until it exits. */
async function followLive(engine: Engine, id: string, out: RawStream, want: AttachWants, signal: AbortSignal): Promise<void> {
  const { end } = await containerLogs(engine, id);
  await followLogs(
    engine,
    id,
    end,
    (l) => {
      if (l.stream === 'stdout' ? want.stdout : want.stderr) out.write(streamOf(l.stream), Buffer.from(l.log));
    },
    { signal },
  );
}
