/** The proxy rules, the retry policy and the config file's checks, without a network. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { parseConfig } from '../../src/config/file.ts';
import { inCidr, noProxyMatches, proxyFor, proxySettings } from '../../src/registry/proxy.ts';
import { isTransientError, isTransientStatus, MAX_DELAY_MS, retryDelay } from '../../src/registry/retry.ts';

describe('proxyFor', () => {
  const env = { HTTPS_PROXY: 'http://u:p@proxy:3128', http_proxy: 'proxy:8080', NO_PROXY: '.corp.example,10.0.0.0/8,exact.example:5000' };
  const via = (url: string, e: Record<string, string> = env) => proxyFor(new URL(url), e)?.href;

  it('takes the variable of the scheme, upper case first, and adds http:// to a bare host:port', () => {
    assert.equal(via('https://ghcr.io/v2/'), 'http://u:p@proxy:3128/');
    assert.equal(via('http://ghcr.io/v2/'), 'http://proxy:8080/');
    assert.equal(via('https://ghcr.io/', { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:2' }), 'http://up:2/');
    assert.equal(via('https://ghcr.io/', {}), undefined);
  });

  it('never proxies localhost or loopback addresses', () => {
    for (const u of ['https://localhost:5000/', 'https://127.0.0.1:5000/', 'https://127.9.9.9/', 'https://[::1]:5000/']) assert.equal(via(u), undefined, u);
  });

  it("follows NO_PROXY's domains, CIDRs, ports and *", () => {
    assert.equal(via('https://a.corp.example/'), undefined);
    assert.ok(via('https://corp.example/'), '.corp.example matches subdomains only');
    assert.equal(via('https://10.2.3.4:5000/'), undefined);
    assert.ok(via('https://11.2.3.4/'));
    assert.equal(via('https://exact.example:5000/'), undefined);
    assert.ok(via('https://exact.example:5001/'), 'a port in NO_PROXY matches that port only');
    assert.equal(noProxyMatches('*', 'any.host', '443'), true);
    assert.equal(noProxyMatches('example.com', 'sub.example.com', '443'), true);
    assert.equal(noProxyMatches('example.com', 'badexample.com', '443'), false);
    assert.equal(noProxyMatches(' , ,', 'example.com', '443'), false);
  });

  it('refuses a proxy it cannot speak to, without showing its credentials', () => {
    assert.throws(
      () => proxyFor(new URL('https://ghcr.io/'), { HTTPS_PROXY: 'socks5://u:secret@proxy:1080' }),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /not an http:\/\/ proxy URL/.test(e.message) && !e.message.includes('secret'),
    );
  });

  it('masks the password in what info shows', () => {
    assert.deepEqual(proxySettings({ HTTP_PROXY: 'http://u:pw@p:1', https_proxy: 'p:2', NO_PROXY: 'x' }), {
      HttpProxy: 'http://u:xxxxx@p:1',
      HttpsProxy: 'p:2',
      NoProxy: 'x',
    });
  });

  it('matches IPv4 CIDRs exactly', () => {
    assert.equal(inCidr('192.0.2.200', '192.0.2.0/24'), true);
    assert.equal(inCidr('192.0.3.1', '192.0.2.0/24'), false);
    assert.equal(inCidr('8.8.8.8', '0.0.0.0/0'), true);
    assert.equal(inCidr('not-an-ip', '10.0.0.0/8'), false);
  });
});

describe('retry policy', () => {
  it('retries resets, timeouts, 429 and 5xx, not 4xx, 501 or a cancel', () => {
    assert.equal(isTransientError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), true);
    assert.equal(isTransientError(new Error('socket hang up')), true);
    assert.equal(isTransientError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), false);
    assert.equal(isTransientError(Object.assign(new Error('x'), { name: 'AbortError', code: 'ECONNRESET' })), false);
    for (const s of [429, 500, 502, 503, 504]) assert.equal(isTransientStatus(s), true, String(s));
    for (const s of [200, 400, 401, 404, 501, 505]) assert.equal(isTransientStatus(s), false, String(s));
  });

  it('honours Retry-After in seconds or as a date, and gives up on one beyond its limit', () => {
    assert.equal(retryDelay(1, '2'), 2000);
    const soon = retryDelay(1, new Date(Date.now() + 3000).toUTCString())!;
    assert.ok(soon > 1000 && soon <= 3000, String(soon));
    assert.equal(retryDelay(1, String(MAX_DELAY_MS / 1000 + 1)), undefined);
    const backoff = [1, 2, 3].map((a) => retryDelay(a, 'garbage')!);
    assert.ok(backoff[0]! >= 125 && backoff[0]! <= 250 && backoff[2]! >= 500 && backoff[2]! <= 1000, backoff.join(','));
  });
});

describe('config file', () => {
  const bad = (value: unknown, expected: RegExp) =>
    assert.throws(
      () => parseConfig(typeof value === 'string' ? value : JSON.stringify(value), '/etc/berth/config.json'),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && e.message.startsWith('/etc/berth/config.json') && expected.test(e.message),
    );

  it("accepts docker's daemon.json keys and an empty file", () => {
    const c = parseConfig(
      JSON.stringify({
        'registry-mirrors': ['https://mirror.gcr.io'],
        'insecure-registries': ['10.0.0.0/8', 'reg:5000', '[fd00::1]:5000', 'fd00::/8'],
        'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }],
        'log-opts': { 'max-size': '10m', 'max-file': '3' },
        features: { buildkit: true },
      }),
      'f',
    );
    assert.deepEqual(c['registry-mirrors'], ['https://mirror.gcr.io']);
    assert.deepEqual(parseConfig('', 'f'), {});
  });

  it("takes daemon.json's builder.gc, and names a bad size or an unknown gc key", () => {
    const c = parseConfig(JSON.stringify({ builder: { gc: { enabled: true, defaultKeepStorage: '20GB' } } }), 'f');
    assert.equal(c.builder?.gc?.defaultKeepStorage, '20GB');
    bad({ builder: { gc: { defaultKeepStorage: 'lots' } } }, /builder\.gc\.defaultKeepStorage/);
    bad({ builder: { gc: { policy: [] } } }, /unknown key "policy"/);
  });

  it('names the key of a bad value', () => {
    bad({ 'registry-mirrors': ['file:///etc/passwd'] }, /registry-mirrors\.0 .* is not a mirror URL/);
    bad({ 'registry-mirrors': ['https://m.example/v2/'] }, /registry-mirrors\.0/);
    bad({ 'registry-mirrors': 'https://m.example' }, /registry-mirrors/);
    bad({ 'insecure-registries': ['http://reg:5000'] }, /insecure-registries\.0 "http:\/\/reg:5000" is neither/);
    bad({ 'insecure-registries': ['10.0.0.0/33'] }, /insecure-registries\.0/);
    bad({ 'registry-host-mirrors': { '../../etc': ['https://m.example'] } }, /registry-host-mirrors\.\.\.\/\.\.\/etc .*is not a registry host/);
    bad({ 'default-address-pools': [{ base: '10.0.0.0/16', size: 40 }] }, /default-address-pools\.0\.size/);
    bad({ 'default-address-pools': [{ base: '10.0.0.0/16', size: 12 }] }, /size must be at least/);
    bad({ 'log-opts': { 'max-size': 10 } }, /log-opts\.max-size/);
    bad({ features: { buildkit: 'yes' } }, /features\.buildkit/);
  });

  it('names unknown keys, at the top and inside, and text that is not JSON', () => {
    bad({ 'registry-mirror': [] }, /unknown key "registry-mirror"/);
    bad({ 'default-address-pools': [{ base: '10.0.0.0/16', size: 24, extra: 1 }] }, /unknown key "extra" in default-address-pools\.0/);
    bad('{"registry-mirrors": [', /is not valid JSON/);
    bad('[]', /whole file|expected object/i);
    bad('x'.repeat((1 << 20) + 1), /larger than 1 MiB/);
  });
});

describe('certs.d', () => {
  it('reads CAs and client pairs for a well-formed host only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-certsd-'));
    const prev = process.env.BERTH_CERTS_D;
    try {
      mkdirSync(join(dir, 'reg.example:5000'), { recursive: true });
      writeFileSync(join(dir, 'reg.example:5000', 'ca.crt'), 'CA');
      writeFileSync(join(dir, 'reg.example:5000', 'client.cert'), 'CERT');
      writeFileSync(join(dir, 'reg.example:5000', 'client.key'), 'KEY');
      writeFileSync(join(dir, 'secret.crt'), 'NOT FOR A HOST');
      // settings() takes the environment at its first call, which is hostTls's in this file.
      process.env.BERTH_CERTS_D = dir;
      const { hostTls } = await import('../../src/registry/hosts.ts');
      const t = hostTls('reg.example:5000');
      assert.deepEqual(t.ca.map(String), ['CA']);
      assert.deepEqual(t.cert.map(String), ['CERT']);
      assert.deepEqual(t.key.map(String), ['KEY']);
      for (const hostile of ['..', '../reg.example:5000', 'a/../..', '']) assert.deepEqual(hostTls(hostile), { ca: [], cert: [], key: [] }, hostile);
      mkdirSync(join(dir, 'nokey.example'));
      writeFileSync(join(dir, 'nokey.example', 'client.cert'), 'CERT');
      assert.throws(() => hostTls('nokey.example'), /missing key client\.key for client certificate/);
    } finally {
      if (prev === undefined) delete process.env.BERTH_CERTS_D;
      else process.env.BERTH_CERTS_D = prev;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
