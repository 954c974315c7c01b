/**
 * `RUN --mount=type=ssh` and `build --ssh`: a step reaches a real sshd on 127.0.0.1 with
 * `git ls-remote` through the forwarded agent (key files loaded into an agent berth starts,
 * or the caller's own agent), and the key is in no layer, config or history of the image
 * (a grep of `berth save`). What a step without a forwarded agent sees, and the errors for
 * a missing agent, an unknown id and bad `--ssh` values.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { gitSshRootfsTar, startGitSshServer, type GitSshServer } from '../helpers/sshd.ts';

const t = tempRoot('berth-sshtest-');
const work = mkdtempSync(join(tmpdir(), 'berth-sshtest-work-'));
let server: GitSshServer;
let agentPid: number | undefined;
const agentSock = join(work, 'agent.sock');

before(async () => {
  server = await startGitSshServer();
  assert.equal(t.run(['import', gitSshRootfsTar(work), 'gitssh:1']).code, 0);
  // The caller's own agent, holding the client key, for `--ssh default`.
  const agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  agentPid = agent.pid;
  for (let i = 0; i < 200 && !existsSync(agentSock); i++) await new Promise((r) => setTimeout(r, 10));
  execFileSync('ssh-add', ['-q', server.keyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, stdio: 'ignore' });
});
after(() => {
  if (agentPid) process.kill(agentPid, 'SIGKILL');
  server?.stop();
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
function build(dockerfile: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const dir = join(work, `ctx${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return t.run(['build', '--progress', 'plain', ...args, dir], { env: { SSH_AUTH_SOCK: '', ...env } });
}

const sshCommand = () => `ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR`;
const cat = (file: string) => `while read -r l; do echo "$l"; done < ${file}`;

/** Every byte `berth save` writes for the image, its layer tars unpacked. */
function savedText(tag: string): string {
  const dir = mkdtempSync(join(work, 'save-'));
  assert.equal(t.run(['save', '-o', join(dir, 'img.tar'), tag]).code, 0);
  execFileSync('tar', ['-xf', join(dir, 'img.tar'), '-C', dir]);
  let text = readFileSync(join(dir, 'img.tar')).toString('latin1');
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) text += readFileSync(p).toString('latin1');
    }
  };
  walk(dir);
  return text;
}

/** The ssh-agents still running on a socket berth made (`berth-ssh-*`). */
function agentsBerthStarted(): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    })
    .filter((c) => c.includes('ssh-agent') && /berth-ssh-agent-/.test(c));
}

describe('build: RUN --mount=type=ssh', () => {
  it('forwards key files through an agent berth starts: git ls-remote over ssh succeeds; the key is in no layer, config or history', () => {
    const r = build(
      `FROM gitssh:1\nRUN --mount=type=ssh GIT_SSH_COMMAND="${sshCommand()}" git ls-remote ${server.repoUrl} > /refs && echo "sock=$SSH_AUTH_SOCK" >> /refs\n`,
      ['--network', 'host', '--ssh', `default=${server.keyFile}`, '-t', 'ssh-keys:1'],
    );
    assert.equal(r.code, 0, r.stderr);
    const refs = t.run(['run', '--rm', 'ssh-keys:1', '/bin/sh', '-c', `${cat('/refs')}; test -e /run/buildkit && echo mount-point-left`]);
    assert.match(refs.stdout, new RegExp(`^${server.head}\\s+HEAD`, 'm'));
    assert.match(refs.stdout, /^sock=\/run\/buildkit\/ssh_agent\.0$/m);
    assert.doesNotMatch(refs.stdout, /mount-point-left/);
    const saved = savedText('ssh-keys:1');
    const keyBody = server.keyText.split('\n')[1]!;
    assert.ok(keyBody.length > 40);
    assert.ok(!saved.includes(keyBody), 'the private key is in the saved image');
  });

  it('forwards the caller agent ($SSH_AUTH_SOCK) to a target, owner and mode of its own, for a non-root step', () => {
    const r = build(
      [
        'FROM gitssh:1',
        'USER 1000:1000',
        `RUN --mount=type=ssh,id=default,target=/tmp/agent,uid=1000,mode=0600 HOME=/tmp GIT_SSH_COMMAND="${sshCommand()}" git ls-remote ${server.repoUrl} > /tmp/refs`,
        '',
      ].join('\n'),
      ['--network', 'host', '--ssh', 'default', '--no-cache', '-t', 'ssh-agent:1'],
      { SSH_AUTH_SOCK: agentSock },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(t.run(['run', '--rm', 'ssh-agent:1', '/bin/sh', '-c', cat('/tmp/refs')]).stdout, new RegExp(server.head));
    assert.ok(!savedText('ssh-agent:1').includes(server.keyText.split('\n')[1]!));
  });

  it('a step whose ssh mount is not required runs without an agent when the build has none', () => {
    const r = build('FROM gitssh:1\nRUN --mount=type=ssh test -z "$SSH_AUTH_SOCK" && test ! -e /run/buildkit/ssh_agent.0\n', ['--network', 'none']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('hostile: required=true without --ssh, an unknown id, no agent, bad values: clear errors', () => {
    let r = build('FROM gitssh:1\nRUN --mount=type=ssh,required=true true\n', ['--network', 'none']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no SSH key "default" forwarded from the client/);
    assert.match(r.stderr, /--ssh default/);
    r = build('FROM gitssh:1\nRUN --mount=type=ssh,id=deploy,required=true true\n', ['--network', 'none', '--ssh', `other=${server.keyFile}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no SSH key "deploy" forwarded from the client \(the build has other\)/);
    r = build('FROM gitssh:1\nRUN true\n', ['--network', 'none', '--ssh', 'default']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SSH_AUTH_SOCK is set/);
    r = build('FROM gitssh:1\nRUN true\n', ['--network', 'none', '--ssh', 'default'], { SSH_AUTH_SOCK: join(work, 'no-such.sock') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot read .*no-such\.sock/);
    r = build('FROM gitssh:1\nRUN true\n', ['--network', 'none', '--ssh', 'bad id=/x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid --ssh "bad id=\/x"/);
    const notKey = join(work, 'not-a-key');
    writeFileSync(notKey, 'hello\n', { mode: 0o600 });
    r = build('FROM gitssh:1\nRUN true\n', ['--network', 'none', '--ssh', `k=${notKey}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ssh-add could not load/);
    assert.deepEqual(agentsBerthStarted(), [], 'an ssh-agent berth started outlived its build');
  });
});
