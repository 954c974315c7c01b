/**
 * `login` on a terminal (the password asked with echo off, docker's warning about credentials
 * kept unencrypted) and `pull --all-tags` (every tag the registry lists, and a hostile list refused).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { onTerminal } from '../helpers/pty.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const dockerConfig = mkdtempSync(join(tmpdir(), 'berth-login-config-'));
const t = tempRoot('berth-cli-registry-');
after(() => {
  t.cleanup();
  rmSync(dockerConfig, { recursive: true, force: true });
});
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));

describe('login and pull --all-tags against a registry with htpasswd over TLS', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: { user: 'alice', password: 's3cret' }, tls: true });
  });
  after(() => reg.stop());
  const env = () => ({ DOCKER_CONFIG: dockerConfig, BERTH_CERTS_D: reg.certsDir! });

  it('asks for the password without echoing it, and warns that it is kept unencrypted', () => {
    const r = onTerminal([BERTH, '--root', t.root, 'login', '-u', 'alice', reg.host], [['Password: ', 's3cret\r']], env());
    assert.equal(r.code, 0, r.screen);
    assert.doesNotMatch(r.screen, /s3cret/);
    assert.match(r.screen, /Password: /);
    assert.match(r.screen, new RegExp(`WARNING! Your credentials are stored unencrypted in '${join(dockerConfig, 'config.json')}'\\.`));
    assert.match(r.screen, /Configure a credential helper to remove this warning\. See\r?\nhttps:\/\/docs\.docker\.com\/go\/credential-store\//);
    assert.match(r.screen, /Login Succeeded/);
    assert.ok(JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')).auths[reg.host].auth);
  });

  it('asks for the username too when -u is not given; backspace edits what is typed', () => {
    const r = onTerminal(
      [BERTH, '--root', t.root, 'login', reg.host],
      [
        ['Username: ', 'alice\r'],
        ['Password: ', 's3crex\u007ft\r'],
      ],
      env(),
    );
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Login Succeeded/);
  });

  it('a wrong password typed at the prompt fails with 1 and stores nothing new', () => {
    const r = onTerminal([BERTH, '--root', t.root, 'login', '-u', 'bob', reg.host], [['Password: ', 'nope\r']], env());
    assert.equal(r.code, 1, r.screen);
    assert.doesNotMatch(r.screen, /nope/);
  });

  it('refuses to prompt without a terminal', () => {
    const r = t.run(['login', '-u', 'alice', reg.host], { env: env(), input: '' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot perform an interactive login from a non TTY device/);
  });

  it('--password-stdin still works without a terminal, and warns too', () => {
    const r = t.run(['login', '-u', 'alice', '--password-stdin', reg.host], { env: env(), input: 's3cret\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARNING! Your credentials are stored unencrypted/);
  });

  it('pull -a takes every tag of the repository', () => {
    for (const tag of ['1', '2', 'edge']) {
      assert.equal(t.run(['tag', 'bb:1', `${reg.host}/team/tools:${tag}`]).code, 0);
      const p = t.run(['push', `${reg.host}/team/tools:${tag}`], { env: env() });
      assert.equal(p.code, 0, p.stderr);
    }
    const fresh = tempRoot('berth-pull-all-');
    try {
      const r = fresh.run(['pull', '-a', `${reg.host}/team/tools`], { env: env() });
      assert.equal(r.code, 0, r.stderr);
      for (const tag of ['1', '2', 'edge']) assert.match(r.stdout, new RegExp(`^${tag}: Pulling from ${reg.host}/team/tools$`, 'm'));
      assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/team/tools\\n${reg.host}/team/tools\\n$`));
      const tags = fresh
        .run(['images', '--format', '{{.Tag}}', `${reg.host}/team/tools`])
        .stdout.trim()
        .split('\n')
        .sort();
      assert.deepEqual(tags, ['1', '2', 'edge']);
    } finally {
      fresh.cleanup();
    }
  });

  it('pull -a with a tag is refused, as docker refuses it', () => {
    const r = t.run(['pull', '--all-tags', `${reg.host}/team/tools:1`], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tag can't be used with --all-tags\/-a/);
  });
});

describe('pull -a from a registry whose tag list is hostile', () => {
  let server: Server;
  let host = '';
  const lists: Record<string, { body: string; link?: string }> = {
    escape: { body: JSON.stringify({ tags: ['1', '../../../etc/passwd'] }) },
    notjson: { body: '{"tags": [' },
    loop: { body: JSON.stringify({ tags: ['1'] }), link: '</v2/loop/tags/list?n=1&last=1>; rel="next"' },
  };
  before(async () => {
    server = createServer((req, res) => {
      const name = /^\/v2\/([a-z]+)\/tags\/list/.exec(req.url ?? '')?.[1];
      if (req.url === '/v2/') return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      const list = name ? lists[name] : undefined;
      if (!list) return res.writeHead(404).end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
      res.writeHead(200, { 'Content-Type': 'application/json', ...(list.link ? { Link: list.link } : {}) }).end(list.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  const cases: Array<[string, RegExp]> = [
    ['escape', /with something that is not a tag/],
    ['notjson', /that is not JSON/],
    ['loop', /more than 100 pages of tags/],
    ['missing', /not known|not found/i],
  ];
  for (const [repo, message] of cases) {
    it(`${repo}: refused with 1, nothing pulled`, async () => {
      const { berthAsync } = await import('../helpers/berth.ts');
      const r = await berthAsync(t.root, ['pull', '-a', '--tls-verify=false', `${host}/${repo}`], { env: { DOCKER_CONFIG: dockerConfig } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(t.run(['images', '-q', `${host}/${repo}`]).stdout, '');
    });
  }
});
