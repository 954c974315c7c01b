/**
 * The server's side of container attach: one connection per container to its monitor's
 * attach socket (container/attach.ts), whose output frames are fanned out to every API
 * client attached to that container, and whose Exit frame tells the waiters the status.
 *
 * Docker clients attach before they start, so an attacher can come while the container has
 * no monitor yet: it is registered here, and what it sends (stdin piped ahead, its EOF, a
 * resize) is queued. The API's start has the monitor hold the container until this hub has
 * connected, flushed that queue and sent Go (start.ts `beforeRun`), so no output is missed.
 * The connection lives until the container exits; the server going away drops it and
 * leaves the container to its monitor.
 */
import { createConnection, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, FrameKind } from '../services/container-io.ts';

/** One API client attached to a container: which streams it asked for, and where they go. */
export interface Attacher {
  readonly stdout: boolean;
  readonly stderr: boolean;
  output(kind: FrameKind.Stdout | FrameKind.Stderr, data: Buffer): void;
  /** The container exited (with its status) or its monitor is gone (none): end the stream. */
  end(exitCode?: number): void;
}

interface Link {
  sock?: Socket;
  connecting?: Promise<void>;
  readonly attachers: Set<Attacher>;
  /** Frames for the monitor from before the connection existed. */
  readonly queued: Buffer[];
  exitCode?: number;
}

type ExitListener = (exitCode: number) => void;

export class AttachHub {
  private readonly links = new Map<string, Link>();
  private readonly exitListeners = new Map<string, Set<ExitListener>>();

  private link(id: string): Link {
    let l = this.links.get(id);
    if (!l) {
      l = { attachers: new Set(), queued: [] };
      this.links.set(id, l);
    }
    return l;
  }

  /** Registers an attacher; the returned function takes it off again (its client went away). */
  add(id: string, attacher: Attacher): () => void {
    const l = this.link(id);
    l.attachers.add(attacher);
    return () => {
      l.attachers.delete(attacher);
      if (!l.sock && !l.connecting && !l.attachers.size && this.links.get(id) === l) this.links.delete(id);
    };
  }

  /** Sends stdin, its end, or a resize to the container's monitor; queued until connected. */
  send(id: string, kind: FrameKind.Stdin | FrameKind.StdinEnd | FrameKind.Resize, payload?: Buffer): void {
    const l = this.links.get(id);
    if (!l) return;
    const frame = encodeFrame(kind, payload);
    if (l.sock) l.sock.write(frame);
    else l.queued.push(frame);
  }

  /** True when this hub holds a connection to the container's monitor. */
  connected(id: string): boolean {
    return !!this.links.get(id)?.sock;
  }

  /**
   * Connects to the monitor's attach socket (once per container), sends what was queued,
   * and with `go` releases a monitor that holds the container for its starter.
   */
  connect(id: string, socketPath: string, opts: { go?: boolean } = {}): Promise<void> {
    const l = this.link(id);
    if (l.sock) {
      if (opts.go) l.sock.write(encodeFrame(FrameKind.Go));
      return Promise.resolve();
    }
    if (l.connecting) return l.connecting.then(() => this.connect(id, socketPath, opts));
    l.connecting = new Promise<void>((resolve, reject) => {
      const sock = createConnection(socketPath);
      // The monitor owns the container: this link must not keep a stopping server alive.
      sock.unref();
      const decoder = new FrameDecoder();
      sock.once('connect', () => {
        l.sock = l.sock ?? sock;
        l.connecting = undefined;
        for (const f of l.queued.splice(0)) sock.write(f);
        if (opts.go) sock.write(encodeFrame(FrameKind.Go));
        resolve();
      });
      sock.on('data', (chunk: Buffer) => {
        for (const f of decoder.push(chunk)) {
          if (f.kind === FrameKind.Exit && f.payload.length === 4) l.exitCode = f.payload.readInt32BE(0);
          else if (f.kind === FrameKind.Stdout || f.kind === FrameKind.Stderr) this.fanOut(l, f.kind, f.payload);
        }
      });
      sock.on('error', (e) => {
        if (l.connecting) {
          l.connecting = undefined;
          reject(e);
        }
        sock.destroy();
      });
      sock.on('close', () => this.closed(id, l, sock));
    });
    return l.connecting;
  }

  private fanOut(l: Link, kind: FrameKind.Stdout | FrameKind.Stderr, data: Buffer): void {
    for (const a of l.attachers) if (kind === FrameKind.Stdout ? a.stdout : a.stderr) a.output(kind, data);
  }

  /** The monitor closed its side: the container exited (or the monitor died). */
  private closed(id: string, l: Link, sock: Socket): void {
    if (l.sock !== sock && l.sock !== undefined) return;
    if (this.links.get(id) === l) this.links.delete(id);
    for (const a of l.attachers) a.end(l.exitCode);
    l.attachers.clear();
    if (l.exitCode !== undefined) for (const fn of this.exitListeners.get(id) ?? []) fn(l.exitCode);
  }

  /** Ends every attacher of a container whose start failed, and forgets it. */
  abandon(id: string): void {
    const l = this.links.get(id);
    if (!l) return;
    this.links.delete(id);
    l.sock?.destroy();
    for (const a of l.attachers) a.end();
    l.attachers.clear();
  }

  /** Calls `fn` with the status when this hub sees the container exit; returns the unsubscribe. */
  onExit(id: string, fn: ExitListener): () => void {
    let set = this.exitListeners.get(id);
    if (!set) {
      set = new Set();
      this.exitListeners.set(id, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (!set.size && this.exitListeners.get(id) === set) this.exitListeners.delete(id);
    };
  }

  /** A tty's new size, through the hub's connection or a short one of its own. */
  async resize(id: string, socketPath: string, cols: number, rows: number): Promise<void> {
    const payload = Buffer.alloc(4);
    payload.writeUInt16BE(cols, 0);
    payload.writeUInt16BE(rows, 2);
    const l = this.links.get(id);
    if (l?.sock) {
      l.sock.write(encodeFrame(FrameKind.Resize, payload));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const sock = createConnection(socketPath);
      sock.once('connect', () => sock.end(encodeFrame(FrameKind.Resize, payload), () => resolve()));
      sock.on('data', () => undefined);
      sock.once('error', (e) => {
        sock.destroy();
        reject(e);
      });
    });
  }
}
