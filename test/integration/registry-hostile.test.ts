/**
 * A hostile registry (a server in this test) cannot fill berth's memory: a manifest that says
 * it is 10 GB, a manifest, token or error body without end, and blobs longer than their
 * descriptors each fail the pull with one error line and a hint, while the berth process's
 * peak RSS stays under 100 MB. ADD of a big URL streams it to disk: it costs the memory a
 * COPY of the same file costs, whatever its size.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const MB = 1 << 20;
/** The bound the issue sets on berth's memory while a server misbehaves. */
const RSS_LIMIT = 100 * MB;

interface Run {
  readonly code: number;
  readonly stderr: string;
  /** The berth process's peak resident set (VmHWM), in bytes. */
  readonly peakRss: number;
}

/**
 * Runs bin/berth (a sh script that execs node, so the child's pid becomes berth's own) and
 * polls its VmHWM, which only grows, until it exits; killed after `limitMs`.
 */
function berthMeasured(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, limitMs = Number(process.env.LIMIT_MS ?? 120_000)): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(BERTH, ['--root', root, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        /* exited */
      }
    }, 10);
    const killer = setTimeout(() => p.kill('SIGKILL'), limitMs);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(killer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 143), stderr, peakRss: peak });
    });
  });
}

/** Writes `chunk` until the client goes away (or `total` bytes are out), as fast as it reads. */
function pour(res: ServerResponse, chunk: Buffer, total = Infinity): void {
  let sent = 0;
  const more = (): void => {
    while (sent < total && !res.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += piece.length;
      if (!res.write(piece)) return void res.once('drain', more);
    }
    if (sent >= total) res.end();
  };
  res.on('close', () => (sent = total));
  more();
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The entries of a dir, or none when it was never made. */
function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A layer tar holding one file of random bytes. */
function layerTar(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'berth-hostile-layer-'));
  try {
    writeFileSync(join(dir, 'data'), randomBytes(300_000));
    return execFileSync('tar', ['-C', dir, '-cf', '-', 'data']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A valid image whose blobs the routes below serve wrongly.
const layer = layerTar();
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
const manifestOf = (cfg: Buffer, cfgSize = cfg.length) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfg), size: cfgSize },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
    }),
  );
const manifest = manifestOf(config);

let server: Server;
let host = '';
const zeros = Buffer.alloc(64 << 10, 0x61);

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  const repo = /^\/v2\/([^/]+)\//.exec(url)?.[1];
  const sendManifest = (body: Buffer): void =>
    void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': body.length }).end(body);
  if (url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  if (url.startsWith('/token')) {
    // An endless token: `{"token":"aaaa…` that never closes.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"token":"');
    return void pour(res, zeros);
  }
  if (url.includes('/manifests/')) {
    switch (repo) {
      case 'huge': // says 10 GB, and trickles
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(10 * 1024 ** 3) });
        return void pour(res, zeros);
      case 'endless': // chunked, never ends
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        res.write('{"schemaVersion":2,"x":"');
        return void pour(res, zeros);
      case 'token':
        if (req.headers.authorization) return void sendManifest(manifest);
        return void res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${host}/token",service="hostile"`,
            'content-type': 'application/json',
            'content-length': 2,
          })
          .end('{}');
      case 'badrealm': // a token server that is a local file
        return void res.writeHead(401, { 'www-authenticate': 'Bearer realm="file:///etc/shadow"', 'content-length': 0 }).end();
      case 'error': // a 500 whose body never ends
        res.writeHead(500, { 'content-type': 'application/json' });
        res.write('{"errors":[{"code":"UNKNOWN","message":"');
        return void pour(res, zeros);
      case 'redirect': // to something that is not http(s)
        return void res.writeHead(307, { location: 'file:///etc/shadow', 'content-length': 0 }).end();
      case 'loop': // to itself, for ever
        return void res.writeHead(302, { location: url, 'content-length': 0 }).end();
      case 'bigconfig': // a manifest whose config descriptor claims 1 GB
        return void sendManifest(manifestOf(config, 1 << 30));
      default:
        return void sendManifest(manifest);
    }
  }
  if (url.endsWith(`/blobs/${sha(config)}`)) {
    if (repo === 'longconfig') {
      // Says more than the descriptor: refused before a byte is read.
      res.writeHead(200, { 'content-length': config.length + 1_000_000 });
      res.write(config);
      return void pour(res, zeros, 1_000_000);
    }
    if (repo === 'endlessconfig') {
      // Chunked: the right bytes, then more without end.
      res.writeHead(200);
      res.write(config);
      return void pour(res, zeros);
    }
    return void res.writeHead(200, { 'content-length': config.length }).end(config);
  }
  if (url.endsWith(`/blobs/${sha(layer)}`)) {
    // Every range of the layer, or all of it, comes with more than asked for, chunked.
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range?.[2]) res.writeHead(206, { 'content-range': `bytes ${range[1]}-${range[2]}/${layer.length}` });
    else res.writeHead(200);
    res.write(layer.subarray(Number(range?.[1] ?? 0)));
    return void pour(res, zeros);
  }
  res.writeHead(404, { 'content-length': 0 }).end();
}

before(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** One error line naming the problem, then one hint line: nothing else. */
function assertOneError(r: Run, message: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `expected an error line and a hint, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^berth: Error: /);
  assert.match(lines[0]!, message);
  assert.match(lines[1]!, /^hint: \S/);
}

describe('a hostile registry', () => {
  const cases: Array<{ name: string; repo: string; message: RegExp; env?: NodeJS.ProcessEnv }> = [
    {
      name: 'a manifest with a 10 GB Content-Length',
      repo: 'huge',
      message: /manifest huge:1 from 127\.0\.0\.1:\d+ is larger than 4 MiB \(it says 10737418240 bytes\)/,
    },
    {
      name: 'a chunked manifest without end',
      repo: 'endless',
      message: /manifest endless:1 from 127\.0\.0\.1:\d+ is larger than 4 MiB \(more than \d+ bytes came\)/,
    },
    { name: 'a token body without end', repo: 'token', message: /the token for 127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+ is larger than 4 MiB/ },
    {
      name: 'a token realm that is a file: URL',
      repo: 'badrealm',
      message: /127\.0\.0\.1:\d+ names "file:\/\/\/etc\/shadow" as its token server, which is not an http\(s\) URL/,
    },
    // A 500 is tried again (registry/retry.ts); the last one's error names the registry.
    {
      name: 'an error body without end',
      repo: 'error',
      message:
        /GET \/v2\/error\/manifests\/1 at registry 127\.0\.0\.1:\d+ \(tried 4 times\): registry answered 500: \{"errors":\[\{"code":"UNKNOWN","message":"a+$/,
    },
    {
      name: 'a redirect to a file: URL',
      repo: 'redirect',
      message: /127\.0\.0\.1:\d+ redirected \/v2\/redirect\/manifests\/1 to "file:\/\/\/etc\/shadow", not an http\(s\) URL/,
    },
    { name: 'redirects without end', repo: 'loop', message: /127\.0\.0\.1:\d+ redirected \/v2\/loop\/manifests\/1 more than 5 times/ },
    {
      name: 'a config descriptor of 1 GB',
      repo: 'bigconfig',
      message: /the config sha256:[0-9a-f]{64} of .* is 1073741824 bytes, more than the 4 MiB berth reads/,
    },
    {
      name: 'a config blob whose Content-Length is longer than its descriptor',
      repo: 'longconfig',
      message: /blob sha256:[0-9a-f]{64} from 127\.0\.0\.1:\d+ is \d+ bytes, but its descriptor says \d+/,
    },
    { name: 'a chunked config blob longer than its descriptor', repo: 'endlessconfig', message: /blob sha256:[0-9a-f]{64} is larger than its \d+ bytes/ },
    { name: 'a layer longer than its descriptor, in one stream', repo: 'longlayer', message: /blob sha256:[0-9a-f]{64} is larger than its \d+ bytes/ },
    {
      name: 'a layer longer than its descriptor, in ranged parts',
      repo: 'rangedlayer',
      message: /a part of the blob is longer than the 65536 bytes asked for/,
      env: { BERTH_RANGE_THRESHOLD: '100000', BERTH_RANGE_PART: '65536' },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the pull fails with one clear line, in bounded memory`, async (tc) => {
      const t = tempRoot('berth-hostile-');
      try {
        const started = Date.now();
        const r = await berthMeasured(t.root, ['pull', `${host}/${c.repo}:1`], c.env);
        assert.notEqual(r.code, 0, 'the pull must fail');
        assert.notEqual(r.code, 137, `the pull must end by itself, not be killed: ${r.stderr}`);
        assertOneError(r, c.message);
        assert.ok(r.peakRss > 0, 'the peak RSS was measured');
        tc.diagnostic(`peak RSS ${(r.peakRss / MB).toFixed(1)} MB`);
        assert.ok(r.peakRss < RSS_LIMIT, `peak RSS ${(r.peakRss / MB).toFixed(1)} MB`);
        assert.ok(Date.now() - started < 60_000, 'the pull fails promptly');
        assert.ok(!list(join(t.root, 'content', 'blobs', 'sha256')).includes(sha(layer).slice(7)), 'no bad layer is stored');
      } finally {
        t.cleanup();
      }
    });
  }
});

describe('ADD of a big URL', () => {
  // Big enough that holding it in memory would pass the bound several times over; the full
  // gigabytes of the issue with BERTH_TEST_ADD_BYTES.
  const total = Number(process.env.BERTH_TEST_ADD_BYTES ?? 256 * MB);
  const piece = randomBytes(MB);
  const lastModified = 'Wed, 21 Oct 2015 07:28:00 GMT';
  const dir = mkdtempSync(join(tmpdir(), 'berth-hostile-add-'));
  const t = tempRoot('berth-hostile-add-root-');
  let addServer: Server;
  let base = '';
  let checksum = '';

  /** A context dir holding a Dockerfile (and, for COPY, the same bytes the URL serves). */
  function context(name: string, dockerfile: string, withFile = false): string {
    const ctx = join(dir, name);
    execFileSync('mkdir', ['-p', ctx]);
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    if (withFile) {
      const fd = openSync(join(ctx, 'weights.bin'), 'w');
      for (let n = 0; n < total; n += piece.length) writeSync(fd, piece, 0, Math.min(piece.length, total - n));
      closeSync(fd);
    }
    return ctx;
  }

  before(async () => {
    const h = createHash('sha256');
    for (let n = 0; n < total; n += piece.length) h.update(piece.subarray(0, Math.min(piece.length, total - n)));
    checksum = `sha256:${h.digest('hex')}`;
    addServer = createServer((req, res) => {
      if (req.url === '/weights.bin') {
        // Chunked (no Content-Length), as a generated download would be.
        res.writeHead(200, { 'last-modified': lastModified });
        return void pour(res, piece, total);
      }
      res.writeHead(404, { 'content-length': 0 }).end();
    });
    await new Promise<void>((resolve) => addServer.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(addServer.address() as { port: number }).port}`;
    assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0);
  });
  after(() => {
    addServer.closeAllConnections();
    addServer.close();
    t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams the body to disk, hashed on the way: --checksum holds, mode 0600, Last-Modified mtime, memory as for COPY of the same file', async (tc) => {
    const add = await berthMeasured(t.root, [
      'build',
      '--progress',
      'plain',
      '-t',
      'big:1',
      context('add', `FROM bb:1\nADD --checksum=${checksum} ${base}/weights.bin /models/\n`),
    ]);
    assert.equal(add.code, 0, add.stderr);
    const st = t.run(['run', '--rm', '--network', 'none', 'big:1', 'stat', '-c', '%a %s %Y', '/models/weights.bin']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(st.stdout.trim(), `600 ${total} ${Date.parse(lastModified) / 1000}`);
    assert.deepEqual(list(join(t.root, 'tmp')), [], 'nothing of the download is left behind');
    // The builder's own work on a big file (the layer's hash reads it in fresh 1 MB buffers,
    // which V8 frees only after tens of MB of them) is the floor: a COPY of the same bytes
    // from the context. The download must add nothing to it that grows with the body.
    const copy = await berthMeasured(t.root, ['build', '--progress', 'plain', '-t', 'big:2', context('copy', 'FROM bb:1\nCOPY weights.bin /models/\n', true)]);
    assert.equal(copy.code, 0, copy.stderr);
    tc.diagnostic(`peak RSS for ${total / MB} MB: ADD ${(add.peakRss / MB).toFixed(1)} MB, COPY ${(copy.peakRss / MB).toFixed(1)} MB`);
    assert.ok(
      add.peakRss < Math.max(RSS_LIMIT, copy.peakRss + 24 * MB),
      `ADD peak RSS ${(add.peakRss / MB).toFixed(1)} MB, COPY ${(copy.peakRss / MB).toFixed(1)} MB`,
    );
    assert.ok(add.peakRss < 160 * MB, 'the body is not held in memory');
  });

  it('a wrong --checksum fails with one line and leaves no file behind', async () => {
    const r = await berthMeasured(t.root, [
      'build',
      '--progress',
      'plain',
      '-t',
      'big:3',
      context('wrong', `FROM bb:1\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/weights.bin /models/\n`),
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^berth: Error: .*digest mismatch for http:\S+\/weights\.bin: expected sha256:0{64}, got sha256:[0-9a-f]{64}\nhint: \S/m);
    assert.ok(r.peakRss < RSS_LIMIT, `peak RSS ${(r.peakRss / MB).toFixed(1)} MB`);
    assert.deepEqual(list(join(t.root, 'tmp')), []);
  });
});
