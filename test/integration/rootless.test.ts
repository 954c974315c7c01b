/**
 * berth as an ordinary user (issue 25's core): a user made here with subordinate ids runs
 * berth through setpriv, which enters the user's namespaces (sys/userns.ts). Images keep
 * their owners, builds and saves are the same bytes as root's, containers run rootless with
 * `--network none` or `host` (the default network is src/network/rootless/, tested there),
 * and nothing the user cannot remove is left in its state root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { debianBase, debianBaseMissing } from '../helpers/debian-base.ts';
import { makeUser, userDir, type TestUser } from '../helpers/rootless-user.ts';

describe('rootless berth', () => {
  let user: TestUser;
  let registry: TestRegistry | undefined;
  const root = tempRoot('berth-rootless-cmp-');
  let context: string;

  before(async () => {
    user = makeUser();
    const tar = join(userDir(user, 'in'), 'bb.tar');
    execFileSync('cp', [busyboxTar(), tar]);
    chmodSync(tar, 0o644);
    const r = user.berth(['import', tar, 'bb:1']);
    assert.equal(r.code, 0, r.stderr);
    context = mkdtempSync('/tmp/berth-rootless-ctx-');
    writeFileSync(
      join(context, 'Dockerfile'),
      'FROM bb:1\nCOPY a.txt /data/a.txt\nRUN --mount=type=cache,target=/cache echo c >> /cache/c && mkdir /owned && echo o > /owned/f && chown -R 1000:1000 /owned\nRUN rm -rf /home/user && mkdir /home/user\n',
    );
    writeFileSync(join(context, 'a.txt'), 'a\n');
    execFileSync('chmod', ['-R', 'a+rX', context]);
  });
  after(() => {
    user?.remove();
    registry?.stop();
    stopDockerd();
    root.cleanup();
    if (context) rmSync(context, { recursive: true, force: true });
  });

  test('a container runs as uid 0 of the user namespace; an image file of uid 1000 stays 1000 inside, a subordinate id outside', () => {
    const r = user.berth(['run', '--rm', '--network', 'none', 'bb:1', 'sh', '-c', 'id -u; stat -c %u /home/user; cat /proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    const [uid, owner, ...map] = r.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.equal(owner, '1000');
    assert.match(map.join('\n'), new RegExp(`^\\s*0\\s+${user.uid}\\s+1\\n\\s*1\\s+200000\\s+65536$`));
    // The layer dir on disk: uid 1000 of the image is subordinate id 200000 + 999 outside.
    const layers = join(user.home, '.local/share/berth/snapshots/layers');
    const found = execFileSync('find', [layers, '-path', '*/home/user', '-maxdepth', '3']).toString().trim().split('\n')[0]!;
    assert.equal(statSync(found).uid, 200999);
  });

  test('a file written as uid 0 into a bind-mounted dir of the home belongs to the user outside; --network host runs', () => {
    const out = userDir(user, 'out');
    const r = user.berth(['run', '--rm', '--network', 'host', '-v', `${out}:/out`, 'bb:1', 'sh', '-c', 'echo hi > /out/f && mkdir /out/d']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(join(out, 'f')).uid, user.uid);
    assert.equal(statSync(join(out, 'd')).uid, user.uid);
  });

  test("the host's pid and ipc namespaces, and an oom score below the user's own, run (what a user namespace refuses is not tried)", () => {
    const r = user.berth([
      'run',
      '--rm',
      '--network',
      'host',
      '--pid',
      'host',
      '--ipc',
      'host',
      '--oom-score-adj',
      '-500',
      'bb:1',
      'sh',
      '-c',
      'test -d /proc/1 && cat /proc/self/oom_score_adj',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
  });

  test('a detached container is seen by later commands (exec, cp, rm) through the same namespace holder', () => {
    const run = user.berth(['run', '-d', '--network', 'none', 'bb:1', 'sleep', '60']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const ex = user.berth(['exec', id, 'sh', '-c', 'echo x > /x && stat -c %u /home/user']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout.trim(), '1000');
    const dest = join(userDir(user, 'cp'), 'x');
    const cp = user.berth(['cp', `${id}:/x`, dest]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'x\n');
    if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      const pause = user.berth(['pause', id]);
      assert.equal(pause.code, 1);
      assert.match(pause.stderr, /pause is not supported for rootless containers without a delegated cgroup/);
    }
    assert.equal(user.berth(['rm', '-f', id]).code, 0);
  });

  test('a holder killed is replaced, and a pid file naming another process is never joined', () => {
    const pidFile = join(user.runDir, 'berth', 'userns.pid');
    const [pid] = readFileSync(pidFile, 'utf8').trim().split(' ');
    assert.ok(Number(pid) > 1);
    process.kill(Number(pid), 'SIGKILL');
    // A pid file that names a live process of root's, with a start time: refused, not joined.
    writeFileSync(pidFile, `${process.pid} 1\n`);
    const r = user.berth(['run', '--rm', '--network', 'none', 'bb:1', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const [now] = readFileSync(pidFile, 'utf8').trim().split(' ');
    assert.notEqual(now, String(process.pid));
    assert.notEqual(now, pid);
  });

  test('info shows the rootless storage driver and why it was chosen', () => {
    const r = user.berth(['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Storage Driver: overlay\n {2}Chosen because: a test mount of kernel overlayfs worked in the user's namespace \(userxattr\)\n {2}Rootless: true/,
    );
    assert.match(r.stdout, new RegExp(`Berth Root Dir: ${user.home}/.local/share/berth`));
  });

  test('a cgroup limit without a delegated cgroup gives a warning, and the container runs', () => {
    const r = user.berth(['run', '--rm', '--network', 'none', '-m', '64m', '--pids-limit', '50', 'bb:1', 'echo', 'ran']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ran\n');
    if (!existsSync('/sys/fs/cgroup/cgroup.controllers'))
      assert.match(r.stderr, /WARNING: Resource limits are not supported and ignored on cgroups V1 rootless systems/);
  });

  test('a build as the user (COPY, RUN with chown 1000, a cache mount) gives the image ID root builds', () => {
    const env = { SOURCE_DATE_EPOCH: '0' };
    // The same base in both: root loads the user's bb:1 (import stamps its own time).
    const saved = join(userDir(user, 'save'), 'bb.tar');
    assert.equal(user.berth(['save', '-o', saved, 'bb:1']).code, 0);
    assert.equal(root.run(['load', '-i', saved]).code, 0);
    const mine = user.berth(['build', '-q', '--network', 'host', '-t', 't:1', context], { env });
    assert.equal(mine.code, 0, mine.stderr);
    const roots = root.run(['build', '-q', '--network', 'host', '-t', 't:1', context], { env: { ...process.env, ...env } });
    assert.equal(roots.code, 0, roots.stderr);
    assert.equal(mine.stdout.trim(), roots.stdout.trim());
    const inside = user.berth(['run', '--rm', '--network', 'none', 't:1', 'stat', '-c', '%u', '/owned/f']);
    assert.equal(inside.stdout.trim(), '1000');
  });

  test('login writes the user own ~/.docker/config.json (0600); push to a registry and pull back', async () => {
    registry = await startRegistry({ auth: { user: 'u', password: 'p' } });
    const login = user.berth(['login', '-u', 'u', '--password-stdin', registry.host], { input: 'p' });
    assert.equal(login.code, 0, login.stderr);
    const cfg = join(user.home, '.docker', 'config.json');
    const st = statSync(cfg);
    assert.equal(st.uid, user.uid);
    assert.equal(st.mode & 0o777, 0o600);
    const ref = `${registry.host}/rootless/t:1`;
    assert.equal(user.berth(['tag', 't:1', ref]).code, 0);
    const id = user.berth(['image', 'inspect', '--format', '{{.Id}}', ref]).stdout.trim();
    const push = user.berth(['push', ref]);
    assert.equal(push.code, 0, push.stderr);
    assert.equal(user.berth(['rmi', ref]).code, 0);
    const pull = user.berth(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(user.berth(['image', 'inspect', '--format', '{{.Id}}', ref]).stdout.trim(), id);
  });

  test("the user's saved image loads into root's docker with the same image ID", async () => {
    await startDockerd();
    const saved = join(userDir(user, 'save'), 't.tar');
    assert.equal(user.berth(['save', '-o', saved, 't:1']).code, 0);
    const id = user.berth(['image', 'inspect', '--format', '{{.Id}}', 't:1']).stdout.trim();
    const load = docker(['load', '-i', saved]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(docker(['image', 'inspect', '--format', '{{.Id}}', 't:1']).stdout.trim(), id);
  });

  test("serve listens on $XDG_RUNTIME_DIR/berth/berth.sock, and answers with the user's images", async () => {
    const server = user.start(['serve']);
    const sock = join(user.runDir, 'berth', 'berth.sock');
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(statSync(sock).uid, user.uid);
      const images = execFileSync('curl', ['-sf', '--unix-socket', sock, 'http://x/images/json']).toString();
      assert.match(images, /"bb:1"/);
    } finally {
      if (server.pid) process.kill(server.pid, 'SIGTERM');
    }
  });

  test('a busybox httpd published with -p 8080:80 answers on 127.0.0.1', () => {
    const run = user.berth(['run', '-d', '-p', '18080:80', 'bb:1', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    assert.equal(run.code, 0, run.stderr);
    try {
      const got = execFileSync('sh', [
        '-c',
        'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:18080/passwd && exit 0; sleep 0.3; done; exit 1',
      ]).toString();
      assert.match(got, /^root:/);
    } finally {
      user.berth(['rm', '-f', run.stdout.trim()]);
    }
  });

  test('examples/ml builds as the user (apt-get inside reaches the mirror) and runs', { skip: debianBaseMissing() ?? false }, () => {
    const base = join(userDir(user, 'in'), 'debian.tar');
    execFileSync('install', ['-m', '644', debianBase(), base]);
    const imported = user.berth(['import', base, 'debian:bookworm-slim']);
    assert.equal(imported.code, 0, imported.stderr);
    const ml = join(userDir(user, 'ctx'), 'ml');
    execFileSync('cp', ['-r', join(REPO, 'examples', 'ml'), ml]);
    execFileSync('chmod', ['-R', 'a+rX', ml]);
    const build = user.berth(['build', '-q', '-t', 'ml:1', ml], { timeout: 600_000 });
    assert.equal(build.code, 0, build.stderr);
    const run = user.berth(['run', '--rm', 'ml:1']);
    assert.equal(run.code, 0, run.stderr);
  });

  test('after system prune -a, rm -rf of the state root as the user succeeds', () => {
    const keep = user.berth(['run', '-d', '--network', 'none', 'bb:1', 'sleep', '60']);
    assert.equal(keep.code, 0, keep.stderr);
    assert.equal(user.berth(['rm', '-f', keep.stdout.trim()]).code, 0);
    const prune = user.berth(['system', 'prune', '-af']);
    assert.equal(prune.code, 0, prune.stderr);
    const rm = user.sh('rm -rf ~/.local/share/berth && echo gone');
    assert.equal(rm.stdout.trim(), 'gone', rm.stderr);
    // And `system reset` removes a root with images in it, from inside the namespace.
    assert.equal(user.berth(['import', join(user.home, 'in', 'bb.tar'), 'bb:1']).code, 0);
    const reset = user.berth(['system', 'reset', '-f']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(existsSync(join(user.home, '.local/share/berth')), false);
  });
});
