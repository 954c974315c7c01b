/** Raw exchanges with `berth serve` for the stream tests: bytes on the socket, and the docker CLI under a pty. */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A raw HTTP exchange on the socket: the request, then `steps` (bytes to send, ms to wait,
 * 'shut' to half-close); resolves with every byte the server sent until it closed. `answered`
 * resolves at the server's first bytes (a 101 or a 200's headers), as a client waits for them.
 */
export function rawExchange(
  socket: string,
  request: string,
  steps: Array<string | number | Buffer> = [],
  timeoutMs = 20_000,
): Promise<Buffer> & { answered: Promise<void> } {
  let answer: () => void = () => undefined;
  const answered = new Promise<void>((r) => (answer = r));
  const done = new Promise<Buffer>((resolve, reject) => {
    const sock = connect(socket);
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close within ${timeoutMs}ms; got ${JSON.stringify(Buffer.concat(parts).toString().slice(0, 2000))}`));
    }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      parts.push(d);
      answer();
    });
    sock.on('close', () => {
      clearTimeout(timer);
      answer();
      resolve(Buffer.concat(parts));
    });
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(request);
      void (async () => {
        for (const s of steps) {
          if (typeof s === 'number') await sleep(s);
          else if (s === 'shut') sock.end();
          else sock.write(s);
        }
      })();
    });
  });
  return Object.assign(done, { answered });
}

/** Runs `command` under `script`, so the docker CLI has a terminal, feeding it `steps` (text, or ms to wait). */
export function inTerminal(command: string, steps: Array<string | number>, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, out });
    });
    void (async () => {
      for (const s of steps) {
        if (typeof s === 'number') await sleep(s);
        else child.stdin.write(s);
      }
    })();
  });
}

export function attachRequest(id: string, query: string, upgrade = true): string {
  const headers = upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : '';
  return `POST /v1.41/containers/${id}/attach?${query} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n${headers}\r\n`;
}

export const HANDSHAKE = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';
