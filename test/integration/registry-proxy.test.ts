/**
 * Registry traffic on a company network: every connection of a pull, a push and an ADD of a
 * URL goes through HTTP(S)_PROXY (CONNECT for https, absolute form for http, with the
 * proxy's credentials), none for a NO_PROXY host; transient registry failures are retried.
 * The registries are reached by names only the proxy resolves (`reg.test`), so a request
 * that went around the proxy could not have succeeded.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthAsync, tempRoot } from '../helpers/berth.ts';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.ts';
import { startFront, type RegistryFront } from '../helpers/registry-front.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const NO_PROXY_ENV = {
  HTTP_PROXY: '',
  HTTPS_PROXY: '',
  NO_PROXY: '',
  http_proxy: '',
  https_proxy: '',
  no_proxy: '',
  BERTH_CONFIG: '/nonexistent/berth-config.json',
};

let plain: TestRegistry;
let secure: TestRegistry;
let proxy: ForwardProxy;
let front: RegistryFront;
let web: Server;
let webPort: number;
const dir = mkdtempSync(join(tmpdir(), 'berth-proxy-test-'));
const src = tempRoot('berth-proxy-src-');
const config = join(dir, 'config.json');
const plainName = () => `reg.test:${plain.host.split(':')[1]}`;
const secureName = () => `tls.test:${secure.host.split(':')[1]}`;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...NO_PROXY_ENV, BERTH_CONFIG: config, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, ...extra };
}

before(async () => {
  [plain, secure] = await Promise.all([startRegistry(), startRegistry({ tls: true })]);
  proxy = await startForwardProxy({
    auth: { user: 'proxy user', password: 'pa:ss' },
    names: { 'reg.test': '127.0.0.1', 'tls.test': '127.0.0.1', 'web.test': '127.0.0.1' },
  });
  front = await startFront(plain.host, { listen: '192.0.2.2' });
  web = createServer((req, res) => {
    const body = 'fetched through the proxy\n';
    res.writeHead(req.url === '/file.txt' ? 200 : 404, { 'Content-Length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webPort = (web.address() as { port: number }).port;
  writeFileSync(config, JSON.stringify({ 'insecure-registries': [plainName(), secureName(), '192.0.2.0/24'] }));
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  execFileSync('tar', ['-C', dir, '-cf', join(dir, 'img.tar'), 'hello.txt']);
  assert.equal(src.run(['import', join(dir, 'img.tar'), 'px/img:1'], { env: NO_PROXY_ENV }).code, 0);
  // The image the retry tests pull, pushed straight to the registry.
  assert.equal(src.run(['tag', 'px/img:1', `${plain.host}/retry/img:1`]).code, 0);
  assert.equal(src.run(['push', `${plain.host}/retry/img:1`], { env: NO_PROXY_ENV }).code, 0);
});
after(async () => {
  await Promise.all([proxy?.close(), front?.close(), new Promise((r) => (web ? web.close(r) : r(undefined)))]);
  plain?.stop();
  secure?.stop();
  src.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function pullFresh(name: string, e: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  const t = tempRoot('berth-proxy-pull-');
  try {
    return await berthAsync(t.root, ['pull', '-q', name], { env: e });
  } finally {
    t.cleanup();
  }
}

describe('HTTP(S)_PROXY', () => {
  it('carries every connection of a pull from an http registry, in absolute form with the credentials', async () => {
    // The push is the next test's, through a tunnel; here the image was pushed in before().
    const name = `${plainName()}/retry/img:1`;
    const before = proxy.requests.length;
    const pull = await pullFresh(name, env());
    assert.equal(pull.code, 0, pull.stderr);
    const seen = proxy.requests.slice(before);
    assert.ok(
      seen.every((r) => r.includes(` http://${plainName()}/`)),
      seen.join('\n'),
    );
    assert.ok(
      seen.some((r) => r.startsWith(`GET http://${plainName()}/v2/retry/img/manifests/1`)),
      'the manifest came through the proxy',
    );
    assert.ok(
      seen.some((r) => /^GET .*\/v2\/retry\/img\/blobs\/sha256:/.test(r)),
      'blobs came through the proxy',
    );
    assert.equal(proxy.refused, 0);
  });

  it('tunnels a push and a pull to an https registry with CONNECT', async () => {
    const name = `${secureName()}/px/img:1`;
    assert.equal(src.run(['tag', 'px/img:1', name]).code, 0);
    const connects = proxy.connects.length;
    const requests = proxy.requests.length;
    const push = await berthAsync(src.root, ['push', name], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    const pull = await pullFresh(name, env());
    assert.equal(pull.code, 0, pull.stderr);
    const tunnels = proxy.connects.slice(connects);
    assert.ok(tunnels.length >= 2, `tunnels: ${tunnels.join(', ')}`);
    assert.ok(tunnels.every((c) => c === secureName()));
    assert.equal(proxy.requests.length, requests, 'nothing to an https registry goes in plain http');
  });

  it('fails with the proxy named, and its password not shown, when the credentials are wrong', async () => {
    const wrong = proxy.url.replace('pa%3Ass', 'nope');
    const r = await pullFresh(`${secureName()}/px/img:1`, env({ HTTP_PROXY: wrong, HTTPS_PROXY: wrong }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /proxy 127\.0\.0\.1:\d+ refused CONNECT .*407/);
    assert.doesNotMatch(r.stderr, /nope|pa:ss/);
  });

  it('goes around the proxy for a NO_PROXY host', async () => {
    const connects = proxy.connects.length;
    const requests = proxy.requests.length;
    // The lower-case variable serves when the upper-case one is empty; a CIDR holds the host.
    const r = await pullFresh(`${front.host}/retry/img:1`, env({ NO_PROXY: '', no_proxy: 'example.com, 192.0.2.0/24' }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.connects.length, connects);
    assert.equal(proxy.requests.length, requests);
  });

  it("carries ADD <url>'s download", async () => {
    const t = tempRoot('berth-proxy-add-');
    try {
      const ctx = join(dir, 'ctx');
      execFileSync('mkdir', ['-p', ctx]);
      writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\nADD http://web.test:${webPort}/file.txt /file.txt\n`);
      const before = proxy.requests.length;
      const r = await berthAsync(t.root, ['build', '-q', '-t', 'added:1', ctx], { env: env() });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(proxy.requests.slice(before), [`GET http://web.test:${webPort}/file.txt`]);
    } finally {
      t.cleanup();
    }
  });
});

describe('retries', () => {
  it('waits out a 429 with Retry-After, a 503 and a dropped connection, then pulls', async () => {
    let manifests = 0;
    let blobs = 0;
    front.requests.length = 0;
    front.fault = (req) => {
      if (req.method === 'GET' && req.url?.includes('/manifests/') && manifests++ === 0) return { status: 429, headers: { 'Retry-After': '1' } };
      if (req.url?.includes('/blobs/') && blobs++ < 2) return { status: blobs === 1 ? 503 : 'reset' };
      return undefined;
    };
    try {
      const started = Date.now();
      const r = await pullFresh(`${front.host}/retry/img:1`, { ...NO_PROXY_ENV, BERTH_CONFIG: config });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Date.now() - started >= 1000, 'Retry-After: 1 was waited out');
      assert.equal(front.requests.filter((q) => q.startsWith('GET /v2/retry/img/manifests/1')).length, 2);
    } finally {
      front.fault = undefined;
    }
  });

  it('gives up after its limit on a permanent 500, naming the registry', async () => {
    front.requests.length = 0;
    front.fault = (req) => (req.url?.includes('/manifests/') ? { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"disk on fire"}]}' } : undefined);
    try {
      const r = await pullFresh(`${front.host}/retry/img:1`, { ...NO_PROXY_ENV, BERTH_CONFIG: config });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`registry ${front.host.replace(/\./g, '\\.')}.*tried 4 times`));
      assert.match(r.stderr, /500|disk on fire/);
      assert.equal(front.requests.filter((q) => q.includes('/manifests/')).length, 4);
    } finally {
      front.fault = undefined;
    }
  });
});
