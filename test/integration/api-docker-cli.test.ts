/**
 * The docker CLI against `berth serve` and against a private dockerd: the same commands give the
 * same output (normalized: ids, times, sizes, versions) and exit code on both. The private
 * dockerd has no bridge network, so `-p` is checked against what docker prints and serves.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { background, type CliResult, clientEnv, dockerAt, httpGetWhenUp, normalize, shellAt, startServeWithBusybox } from '../helpers/api-clients.ts';
import { DOCKER_20, DOCKER_28, type ServeHandle } from '../helpers/api-server.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { DOCKER_HOST as DOCKERD_HOST, docker as dockerd, startDockerd, stopDockerd } from '../helpers/dockerd.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

interface Engine {
  readonly name: 'dockerd' | 'berth';
  readonly host: string;
}

describe('docker CLI: berth serve answers as dockerd does', () => {
  let s: ServeHandle;
  let registry: TestRegistry;
  const work = mkdtempSync(join(tmpdir(), 'berth-api-cli-'));
  let engines: Engine[] = [];

  before(async () => {
    s = await startServeWithBusybox();
    registry = await startRegistry();
    await startDockerd();
    const imported = dockerd(['import', busyboxTar(), 'bb:1']);
    assert.equal(imported.code, 0, imported.stderr);
    engines = [
      { name: 'dockerd', host: DOCKERD_HOST },
      { name: 'berth', host: s.host },
    ];
  });
  after(async () => {
    for (const e of engines) dockerAt(e.host, ['rm', '-f', 'f1', 'f2', 'd1', 'cpc', 'web']);
    await s?.stop();
    stopDockerd();
    registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * Runs the same command on both engines and asserts the same exit code and normalized stdout
   * (and stderr when asked). `vars` gives per-engine values (a repository name) that the
   * command's `{name}` placeholders take and that normalization turns back into `{name}`.
   */
  function same(
    args: readonly string[],
    opts: { cli?: string; input?: string; stderr?: boolean; vars?: (e: Engine) => Record<string, string>; shape?: (out: string) => string } = {},
  ): Record<Engine['name'], CliResult> {
    const results = {} as Record<Engine['name'], CliResult>;
    const seen: { code: number; stdout: string; stderr: string }[] = [];
    for (const e of engines) {
      const vars = opts.vars?.(e) ?? {};
      const expanded = args.map((a) => a.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m));
      const r = dockerAt(e.host, expanded, { cli: opts.cli, input: opts.input });
      results[e.name] = r;
      const shape = opts.shape ?? ((x: string) => x);
      seen.push({ code: r.code, stdout: shape(normalize(r.stdout, vars)), stderr: normalize(r.stderr, vars) });
    }
    const [d, b] = seen;
    const what = `docker ${args.join(' ')}${opts.cli ? ` (${opts.cli})` : ''}`;
    assert.equal(b.code, d.code, `${what}: exit code\ndockerd stderr: ${d.stderr}\nberth stderr: ${b.stderr}`);
    assert.equal(b.stdout, d.stdout, `${what}: stdout`);
    if (opts.stderr) assert.equal(b.stderr, d.stderr, `${what}: stderr`);
    return results;
  }

  /** `Label: value` lines of one section of `docker version` / `docker info` output. */
  function fields(out: string, section: RegExp): Map<string, string> {
    const lines = out.split('\n');
    const start = lines.findIndex((l) => section.test(l));
    const m = new Map<string, string>();
    const depth = /^ */.exec(lines[start])![0].length;
    for (const l of lines.slice(start + 1)) {
      if (/^ */.exec(l)![0].length <= depth && l.trim()) break;
      const kv = /^\s+([^:]+):\s*(.*)$/.exec(l);
      if (kv) m.set(kv[1], kv[2].trim());
    }
    return m;
  }

  test('version: the same fields for client and engine, with CLI 28 and 20.10', () => {
    for (const cli of [DOCKER_28, DOCKER_20]) {
      const [d, b] = engines.map((e) => dockerAt(e.host, ['version'], { cli }));
      assert.equal(b.code, d.code, b.stderr);
      assert.equal(b.code, 0);
      assert.deepEqual(fields(b.stdout, /^Client/), fields(d.stdout, /^Client/));
      const [de, be] = [fields(d.stdout, /^ Engine:/), fields(b.stdout, /^ Engine:/)];
      assert.deepEqual([...be.keys()], [...de.keys()]);
      for (const k of ['OS/Arch', 'Experimental']) assert.equal(be.get(k), de.get(k), k);
      assert.equal(be.get('API version')?.split(' ')[0], de.get('API version')?.split(' ')[0]);
    }
  });

  test('info: every field both engines print has the same value, except the engine-specific ones', () => {
    const ENGINE_SPECIFIC =
      /^(Server Version|Docker Root Dir|ID|Runtimes|Network|Log|Init Binary|.* version|Profile|Live Restore Enabled|Supports d_type|Native Overlay Diff|userxattr|Version|Context)$/;
    const [d, b] = engines.map((e) => dockerAt(e.host, ['info']));
    assert.equal(b.code, d.code, b.stderr);
    const [ds, bs] = [fields(d.stdout, /^Server:/), fields(b.stdout, /^Server:/)];
    const shared = [...bs.keys()].filter((k) => ds.has(k) && !ENGINE_SPECIFIC.test(k));
    assert.ok(shared.length >= 20, `only ${shared.join(', ')}`);
    for (const k of shared) assert.equal(bs.get(k), ds.get(k), `info field ${k}`);
    same(['info', '--format', '{{.Swarm.LocalNodeState}} {{.OSType}} {{.NCPU}} {{.Images}} {{.Containers}}']);
  });

  test('images, with CLI 28 and 20.10', () => {
    same(['images']);
    same(['images'], { cli: DOCKER_20 });
    same(['images', 'bb', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}']);
  });

  test('ps -a with label, status, name and id filters', () => {
    same(['create', '--name', 'f1', '--label', 'k=v', 'bb:1', 'true']);
    same(['run', '--name', 'f2', '--label', 'k=w', 'bb:1', 'sh', '-c', 'exit 3']);
    same(['ps', '-a', '--filter', 'label=k']);
    same(['ps', '-a', '--filter', 'label=k=v']);
    same(['ps', '-a', '--filter', 'label=k'], { cli: DOCKER_20 });
    same(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}} {{.Command}}']);
    same(['ps', '-a', '--filter', 'name=f1', '--filter', 'status=created', '--format', '{{.Names}} {{.Labels}}']);
    same(['ps', '--filter', 'label=k']);
    same(['rm', 'f1', 'f2']);
    same(['ps', '-a', '--filter', 'label=k']);
  });

  test('run --rm: output and exit code, with CLI 28 and 20.10', () => {
    for (const cli of [DOCKER_28, DOCKER_20]) {
      const r = same(['run', '--rm', 'bb:1', 'echo', 'hi'], { cli, stderr: true });
      assert.equal(r.berth.stdout, 'hi\n');
      same(['run', '--rm', 'bb:1', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { cli, stderr: true });
    }
    const missing = same(['run', '--rm', 'bb:1', 'nosuchcmd']);
    assert.equal(missing.berth.code, 127);
  });

  test('run -i with piped stdin reaches the container and its EOF ends it', () => {
    for (const cli of [DOCKER_28, DOCKER_20]) {
      const r = same(['run', '-i', '--rm', 'bb:1', 'sh', '-c', 'cat; echo done'], { cli, input: 'hello\nworld\n' });
      assert.equal(r.berth.stdout, 'hello\nworld\ndone\n');
    }
  });

  test('run -it under a pty: raw TTY output and the exit code', () => {
    const line = `script -qec "${DOCKER_28} run -it --rm bb:1 sh -c 'echo tty; tty; exit 2'" /dev/null`;
    const [d, b] = engines.map((e) => shellAt(e.host, `${line} </dev/null`));
    assert.equal(b.code, d.code, b.stdout + b.stderr);
    assert.equal(b.code, 2);
    const fromTty = (out: string) => out.slice(out.indexOf('tty\r\n'));
    assert.equal(fromTty(b.stdout), fromTty(d.stdout));
    assert.match(b.stdout, /tty\r\n\/dev\/pts\/0\r\n/);
  });

  test('run -d, logs, exec, stop, rm', () => {
    same(['run', '-d', '--name', 'd1', 'bb:1', 'sh', '-c', 'echo out; echo err >&2; trap "exit 0" TERM; while :; do sleep 0.1; done']);
    // Both lines logged on both engines before their logs are compared.
    const logged = (e: Engine) => {
      const r = dockerAt(e.host, ['logs', 'd1']);
      return r.stdout.includes('out') && r.stderr.includes('err');
    };
    for (let i = 0; i < 50 && !engines.every(logged); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    same(['logs', 'd1'], { stderr: true });
    same(['exec', 'd1', 'sh', '-c', 'echo x; exit 4']);
    same(['exec', '-i', 'd1', 'cat'], { input: 'piped\n' });
    same(['ps', '--filter', 'name=d1', '--format', '{{.Names}} {{.Status}}']);
    same(['stop', '-t', '5', 'd1']);
    same(['ps', '-a', '--filter', 'name=d1', '--format', '{{.Names}} {{.Status}}']);
    same(['stop', 'd1']);
    same(['rm', 'd1']);
    same(['rm', 'd1'], { stderr: true });
  });

  test('run -d -p 0:80 (busybox httpd) + port + logs -f + exec + stop + rm', async () => {
    const script = 'echo hello > /var/www/index.html; echo started; exec httpd -f -vv -p 80 -h /var/www';
    const run = s.docker(['run', '-d', '--name', 'web', '-p', '0:80', 'bb:1', 'sh', '-c', script]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^[0-9a-f]{64}\n$/);
    const port = s.docker(['port', 'web', '80/tcp']);
    assert.equal(port.code, 0, port.stderr);
    const hostPort = /^0\.0\.0\.0:(\d+)$/m.exec(port.stdout)?.[1];
    assert.ok(hostPort && Number(hostPort) > 0, port.stdout);
    assert.match(s.docker(['port', 'web']).stdout, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${hostPort}$`, 'm'));
    const follow = background(DOCKER_28, ['logs', '-f', 'web'], clientEnv(s.host));
    try {
      await follow.waitFor(/started/);
      assert.equal(await httpGetWhenUp(`http://127.0.0.1:${hostPort}/`), 'hello\n');
      assert.equal(s.docker(['exec', 'web', 'cat', '/var/www/index.html']).stdout, 'hello\n');
      const stop = s.docker(['stop', '-t', '2', 'web']);
      assert.deepEqual([stop.code, stop.stdout], [0, 'web\n'], stop.stderr);
      assert.equal(await follow.exited(), 0, 'logs -f ends when the container stops');
    } finally {
      follow.stop();
    }
    assert.match(s.docker(['ps', '-a', '--filter', 'name=web', '--format', '{{.Status}}']).stdout, /^Exited \(\d+\)/);
    assert.deepEqual(s.docker(['rm', 'web']).stdout, 'web\n');
    assert.equal(s.docker(['ps', '-aq', '--filter', 'name=web']).stdout, '');
  });

  test('build -t (classic builder), run it, tag, images, rmi', () => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN echo a > /a\nCOPY f /f\nCMD ["cat", "/f"]\n');
    writeFileSync(join(ctx, 'f'), 'from-context\n');
    // The classic builder runs a container for every step, metadata ones too; berth only for RUN.
    const steps = (out: string) =>
      out
        .split('\n')
        .filter((l) => !/^( ---> Running in|Removing intermediate container)/.test(l))
        .join('\n');
    same(['build', '-t', 'cap:1', ctx], { shape: steps });
    const run = same(['run', '--rm', 'cap:1']);
    assert.equal(run.berth.stdout, 'from-context\n');
    same(['tag', 'cap:1', 'cap:2']);
    same(['images', 'cap']);
    same(['rmi', 'cap:2']);
    same(['images', 'cap', '--format', '{{.Repository}}:{{.Tag}}']);
    const stepLines = (o: string) =>
      o
        .split('\n')
        .filter((l) => l.startsWith('Step'))
        .join('\n');
    const failing = join(work, 'failing');
    mkdirSync(failing, { recursive: true });
    writeFileSync(join(failing, 'Dockerfile'), 'FROM bb:1\nRUN exit 3\n');
    same(['build', '-t', 'bad:1', failing], { shape: stepLines, stderr: true });
    // `-f -`: the CLI adds the Dockerfile from stdin to the context tar, with a .dockerignore entry.
    same(['build', '-t', 'stdin:1', '-f', '-', ctx], { input: 'FROM bb:1\nCOPY f /g\n', shape: stepLines });
    assert.equal(same(['run', '--rm', 'stdin:1', 'cat', '/g']).berth.stdout, 'from-context\n');
  });

  test('save | load', () => {
    const tar = (e: Engine) => ({ tar: join(work, `${e.name}.tar`) });
    same(['save', '-o', '{tar}', 'cap:1'], { vars: tar });
    const untagged = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('Untagged'))
        .join('\n');
    same(['rmi', 'cap:1'], { shape: untagged });
    same(['load', '-i', '{tar}'], { vars: tar });
    const piped = engines.map((e) => shellAt(e.host, `${DOCKER_28} save cap:1 | ${DOCKER_28} load`));
    assert.deepEqual(
      piped.map((r) => [r.code, r.stdout]),
      piped.map(() => [0, 'Loaded image: cap:1\n']),
    );
    const run = same(['run', '--rm', 'cap:1']);
    assert.equal(run.berth.stdout, 'from-context\n');
  });

  test('cp both ways, and a missing path', () => {
    const src = join(work, 'cp-src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'f.txt'), 'file-data\n');
    same(['run', '-d', '--name', 'cpc', 'bb:1', 'sleep', '60']);
    same(['cp', join(src, 'sub', 'f.txt'), 'cpc:/tmp/'], { stderr: true });
    same(['cp', src, 'cpc:/tmp/tree'], { stderr: true });
    same(['exec', 'cpc', 'sh', '-c', 'cat /tmp/f.txt /tmp/tree/sub/f.txt; ls -R /tmp']);
    for (const e of engines) {
      const out = join(work, `cp-out-${e.name}`);
      const r = dockerAt(e.host, ['cp', 'cpc:/tmp/tree', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(out, 'sub', 'f.txt'), 'utf8'), 'file-data\n', e.name);
    }
    same(['cp', 'cpc:/etc/passwd', '-'], { shape: (o) => String(o.includes('root:x:0:0')) });
    same(['cp', 'cpc:/nonexist', join(work, 'x')], { stderr: true });
    same(['rm', '-f', 'cpc']);
  });

  test('volume create, ls, inspect, rm', () => {
    same(['volume', 'create', 'v1']);
    same(['volume', 'ls']);
    same(['volume', 'ls'], { cli: DOCKER_20 });
    same(['volume', 'inspect', 'v1', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    same(['volume', 'rm', 'v1']);
    same(['volume', 'rm', 'v1'], { stderr: true });
    same(['volume', 'ls']);
  });

  test('network create, ls, inspect, rm', () => {
    same(['network', 'create', 'n1']);
    same(['network', 'ls', '--filter', 'name=n1']);
    same(['network', 'inspect', 'n1', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    same(['network', 'create', 'n1'], { stderr: true });
    same(['network', 'rm', 'n1']);
    same(['network', 'ls', '--filter', 'name=n1']);
  });

  test('push and pull against a local registry', () => {
    const repo = (e: Engine) => ({ repo: `${registry.host}/${e.name}-cap`, name: `${e.name}-cap` });
    // Which transient progress lines appear is timing; the settled lines are compared, sorted.
    const settled = (out: string) =>
      out
        .split('\n')
        .filter((l) => l && !/^<id>: (Preparing|Waiting|Pulling fs layer|Verifying Checksum|Download complete|Downloading|Extracting|Pushing)/.test(l))
        // Whether a pull finds a layer already there depends on when the engine collects the
        // layers of a removed image (dockerd at rmi); either way the layer ends up complete.
        .map((l) => l.replace(/^<id>: (Already exists|Pull complete)$/, '<id>: present'))
        .sort()
        .join('\n');
    same(['tag', 'cap:1', '{repo}:1'], { vars: repo });
    same(['push', '{repo}:1'], { vars: repo, shape: settled });
    same(['rmi', 'cap:1', '{repo}:1'], {
      vars: repo,
      shape: (o) =>
        o
          .split('\n')
          .filter((l) => l.startsWith('Untagged'))
          .join('\n'),
    });
    same(['pull', '{repo}:1'], { vars: repo, shape: settled });
    const run = same(['run', '--rm', '{repo}:1'], { vars: repo });
    assert.equal(run.berth.stdout, 'from-context\n');
    same(['pull', '{repo}:nosuch'], { vars: repo, stderr: true });
  });

  test('events during a run: the container actions in docker order', async () => {
    const actions: Record<string, string> = {};
    for (const e of engines) {
      const since = String(Math.floor(Date.now() / 1000));
      const ev = background(
        DOCKER_28,
        ['events', '--since', since, '--filter', 'type=container', '--filter', 'container=ev', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'],
        clientEnv(e.host),
      );
      try {
        const r = dockerAt(e.host, ['run', '--rm', '--name', 'ev', 'bb:1', 'true']);
        assert.equal(r.code, 0, r.stderr);
        actions[e.name] = await ev.waitFor(/destroy ev/, 15_000);
      } finally {
        ev.stop();
      }
    }
    assert.equal(actions.berth, actions.dockerd);
    assert.match(actions.berth, /container create ev\n(.*\n)*container start ev\n(.*\n)*container die ev\n(.*\n)*container destroy ev\n/);
  });
});
