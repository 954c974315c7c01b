/** Shared by the network-*.test.ts files: ids, temp dirs, and running things inside a netns. */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function newId(): string {
  return randomBytes(32).toString('hex');
}

const made: string[] = [];

/** A temp dir removed by removeTempDirs (teardown removes a state dir itself; a refused setup may not). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs argv inside the network namespace only (mounts and /etc stay the host's). */
export function nsRun(netnsPath: string, argv: string[], timeoutMs = 15_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=${netnsPath}`, ...argv], { timeout: timeoutMs, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * An HTTP GET made by a Node child inside the netns: busybox-static's wget crashes on name
 * lookups, and Node is always here. Prints the status line then the body.
 */
export function nsHttpGet(netnsPath: string, url: string, timeoutMs = 10_000): { code: number | null; stdout: string; stderr: string } {
  const js = `require('http').get(${JSON.stringify(url)}, { timeout: ${timeoutMs} }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(r.statusCode + '\\n' + b)); })
    .on('timeout', function () { console.error('timeout'); process.exit(2); }).on('error', (e) => { console.error(e.message); process.exit(1); });`;
  return nsRun(netnsPath, [process.execPath, '-e', js], timeoutMs + 5_000);
}

/** A busybox httpd serving `body` on `port` inside the netns; kill it with stopServer. */
export function startHttpd(netnsPath: string, port: number, body: string): ChildProcess {
  const dir = tempDir('berth-net-www-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), body);
  const child = spawn('nsenter', [`--net=${netnsPath}`, '/bin/busybox', 'httpd', '-f', '-p', String(port), '-h', dir], { stdio: 'ignore' });
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return child;
}

export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** GET from the host's own network namespace, retried while the server starts. */
export async function hostHttpGet(url: string, tries = 40): Promise<string> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = get(url, { timeout: 3000 }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

export function iptablesSave(): string {
  return execFileSync('iptables-save', { encoding: 'utf8' });
}

/** The Debian mirror the host's apt uses: the one outside host the sandbox may reach. */
export function aptMirrorUrl(): string {
  const text = spawnSync('sh', ['-c', 'cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null'], {
    encoding: 'utf8',
  }).stdout;
  const m = /(http:\/\/[^\s]*debian\.org\/debian)\b/.exec(text);
  return m ? m[1]! : 'http://deb.debian.org/debian';
}
