/**
 * zstd through the `zstd` program (Debian package `zstd`): Node 20's zlib has no zstd, and
 * the reference implementation is multi-threaded (`-T0`), as the compressors real engines
 * shell out to are (pigz, zstd). A stream is the program's stdin and stdout as one Duplex; a
 * failed run (bad input, missing program) destroys it with a clear error.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import { settings } from '../config/index.ts';

const ZSTD = settings().zstd ?? ['/usr/bin/zstd', '/usr/local/bin/zstd', '/bin/zstd'].find((p) => existsSync(p)) ?? 'zstd';

function zstdStream(args: readonly string[], what: string): Duplex {
  const child = spawn(ZSTD, ['-q', '-c', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<BerthError | undefined>((resolve) => {
    child.on('error', (e) =>
      resolve(new BerthError('UNAVAILABLE', `cannot run zstd: ${e.message}`, { hint: 'install zstd (Debian package zstd) for zstd-compressed layers' })),
    );
    child.on('exit', (code, signal) =>
      resolve(
        code === 0
          ? undefined
          : new BerthError('DATA_CORRUPT', `cannot ${what}: zstd ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim()}`),
      ),
    );
  });
  // The output ends only once the program's status is known: a checksum failure found at the
  // very end must fail the stream, not leave it looking complete.
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (child.stdin.write(chunk)) cb();
      else child.stdin.once('drain', () => cb());
    },
    final(cb) {
      child.stdin.end(cb);
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      if (child.exitCode === null) child.kill();
      cb(err);
    },
  });
  child.stdout.on('data', (d: Buffer) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdout.on('end', () => {
    void exited.then((err) => (err ? duplex.destroy(err) : duplex.push(null)));
  });
  void exited.then((err) => err && !duplex.destroyed && duplex.destroy(err));
  child.stdin.on('error', () => undefined);
  return duplex;
}

/** Compresses with all cores at zstd's default level (3). */
export function zstdCompress(opts: { level?: number } = {}): Duplex {
  return zstdStream(['-T0', `-${opts.level ?? 3}`], 'compress the layer with zstd');
}

export function zstdDecompress(): Duplex {
  return zstdStream(['-d'], 'decompress the zstd layer');
}
