/**
 * A container's terminal, taken the way container engines take it: runc, given
 * `--console-socket`, makes the pty inside the container and sends its master side over
 * that unix socket as SCM_RIGHTS. Node cannot receive an fd on a socket, so the addon does
 * (recvFd), and it also sets the window size (TIOCSWINSZ) and makes this process the child
 * subreaper, so that a container `runc run --detach` leaves behind is this process's child.
 * Without the addon there is no terminal: `needTerminalSupport` says so with a hint.
 */
import { write } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ReadStream } from 'node:tty';
import { BerthError } from '../errors/index.ts';
import { sys, type Sys } from './index.ts';

type TerminalSys = Sys & Required<Pick<Sys, 'recvFd' | 'setWindowSize' | 'setChildSubreaper'>>;

/** The addon with the terminal calls, or a BerthError that says why a `-t` container cannot run. */
function terminalSys(): TerminalSys {
  const native = sys();
  if (!native?.recvFd || !native.setWindowSize || !native.setChildSubreaper) {
    throw new BerthError('UNSUPPORTED', "a detached container with a terminal (-t) needs berth's native addon, which is not built", {
      hint: "run `npm run build` with a C compiler and Node's headers installed (and leave BERTH_NO_NATIVE unset), or run it without -t",
    });
  }
  return native as TerminalSys;
}

/** Throws the BerthError above when this process cannot take a container's terminal. */
export function needTerminalSupport(): void {
  terminalSys();
}

/** Orphans among this process's descendants become its children, to wait for (waitChild). */
export function becomeSubreaper(): void {
  terminalSys().setChildSubreaper();
}

/** The master side of a container's pty. */
export interface Terminal {
  /** What the container writes to its terminal; ends when the container's last holder of it is gone. */
  readonly output: NodeJS.ReadableStream;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  close(): void;
  /** The pty master's fd, for a process that is to hold the terminal after this one lets go of it (`exec -it` detached). */
  readonly fd: number;
}

function terminalOf(fd: number, native: TerminalSys): Terminal {
  const output = new ReadStream(fd);
  // EIO is how a pty master reads once the last slave fd is closed: the end of the output.
  output.on('error', () => output.destroy());
  let closed = false;
  let queue = Promise.resolve();
  const writeAll = (data: Buffer): Promise<void> =>
    new Promise((resolve) => {
      const step = (off: number): void => {
        if (closed || off >= data.length) {
          resolve();
          return;
        }
        write(fd, data, off, data.length - off, null, (err, n) => {
          // The master is non-blocking: a full input queue is waited out, any other error drops the input.
          if (err?.code === 'EAGAIN') setTimeout(() => step(off), 5);
          else if (err) resolve();
          else step(off + n);
        });
      };
      step(0);
    });
  return {
    output,
    fd,
    write(data) {
      queue = queue.then(() => writeAll(data));
    },
    resize(cols, rows) {
      if (!closed && cols > 0 && rows > 0) native.setWindowSize(fd, cols, rows);
    },
    close() {
      closed = true;
      output.destroy();
    },
  };
}

/** A listening console socket: runc connects to `path` and sends the master there. */
export interface ConsoleSocket {
  readonly path: string;
  /** The terminal, once runc has sent it; rejects when runc hung up without sending one. */
  readonly terminal: Promise<Terminal>;
  /** Stops listening (the terminal, once received, is the caller's to close). */
  close(): void;
}

/** Listens on `path` (a new unix socket; its dir must be private to root) for runc's console. */
export async function listenConsoleSocket(path: string): Promise<ConsoleSocket> {
  const native = terminalSys();
  // pauseOnConnect: Node must not read the connection, or the message's fd would be dropped.
  const server: Server = createServer({ pauseOnConnect: true });
  let settle!: { resolve: (t: Terminal) => void; reject: (e: Error) => void };
  const terminal = new Promise<Terminal>((resolve, reject) => (settle = { resolve, reject }));
  terminal.catch(() => undefined);
  server.on('connection', (conn: Socket) => {
    server.close();
    const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    native.recvFd(fd).then(
      (master) => {
        conn.destroy();
        settle.resolve(terminalOf(master, native));
      },
      (e: Error) => {
        conn.destroy();
        settle.reject(new BerthError('RUNTIME', `runc sent no terminal on its console socket: ${e.message}`));
      },
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
  return {
    path,
    terminal,
    close() {
      if (server.listening) server.close();
      settle.reject(new BerthError('RUNTIME', 'runc exited without sending a terminal'));
    },
  };
}
