/**
 * The config file's registry settings and certs.d, on real registries: a pull through a mirror
 * (for Docker Hub and for any registry) that falls back to the origin when the mirror is
 * down; plain http only for a listed insecure registry (loopback ones stay insecure by
 * default); mutual TLS with certs.d's CA and client certificate; `info` showing the settings;
 * a bad config file refused with its file and key named.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthAsync, tempRoot } from '../helpers/berth.ts';
import { makeTestCertificates } from '../helpers/certs.ts';
import { startFront, type RegistryFront } from '../helpers/registry-front.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let origin: TestRegistry;
let mirror: TestRegistry | undefined;
let plainFront: RegistryFront;
let tlsFront: RegistryFront;
const dir = mkdtempSync(join(tmpdir(), 'berth-hosts-test-'));
const src = tempRoot('berth-hosts-src-');
/** No proxy and no config file, unless a test sets one. */
const NO_PROXY_ENV = { HTTP_PROXY: '', HTTPS_PROXY: '', NO_PROXY: '', http_proxy: '', https_proxy: '', no_proxy: '', BERTH_CONFIG: join(dir, 'none.json') };

function writeConfig(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

/** Pulls `name` into a fresh root; with `list`, also gives the root's images. */
async function pullFresh(name: string, env: NodeJS.ProcessEnv, list = false): Promise<{ code: number; stderr: string; images: string }> {
  const t = tempRoot('berth-hosts-pull-');
  try {
    const r = await berthAsync(t.root, ['pull', '-q', name], { env: { ...NO_PROXY_ENV, ...env } });
    const images = r.code === 0 && list ? (await berthAsync(t.root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout : '';
    return { ...r, images };
  } finally {
    t.cleanup();
  }
}

before(async () => {
  [origin, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  makeTestCertificates(dir, '192.0.2.2');
  const read = (f: string) => readFileSync(join(dir, f));
  plainFront = await startFront(origin.host, { listen: '192.0.2.2' });
  tlsFront = await startFront(origin.host, { listen: '192.0.2.2', tls: { cert: read('server.crt'), key: read('server.key'), clientCa: read('ca.crt') } });
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  execFileSync('tar', ['-C', dir, '-cf', join(dir, 'img.tar'), 'hello.txt']);
  const push = async (name: string) => {
    assert.equal(src.run(['tag', 'hosts/img:1', name]).code, 0);
    const r = await berthAsync(src.root, ['push', name], { env: NO_PROXY_ENV });
    assert.equal(r.code, 0, r.stderr);
  };
  assert.equal(src.run(['import', join(dir, 'img.tar'), 'hosts/img:1']).code, 0);
  // Only the mirror has the first two at first: a pull that finds them was served by it.
  await Promise.all([push(`${mirror!.host}/only/img:1`), push(`${mirror!.host}/library/hubonly:1`), push(`${origin.host}/plain/img:1`)]);
});
after(async () => {
  await Promise.all([plainFront?.close(), tlsFront?.close()]);
  origin?.stop();
  mirror?.stop();
  src.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('registry mirrors', () => {
  it('serves a pull of any registry from its mirror, and of Docker Hub from registry-mirrors, then falls back to the origin', async () => {
    const config = writeConfig('mirrors.json', {
      'registry-mirrors': [`http://${mirror!.host}`],
      'registry-host-mirrors': { [origin.host]: [`http://${mirror!.host}/`] },
    });
    const viaMirror = await pullFresh(`${origin.host}/only/img:1`, { BERTH_CONFIG: config }, true);
    assert.equal(viaMirror.code, 0, viaMirror.stderr);
    assert.equal(viaMirror.images.trim(), `${origin.host}/only/img:1`, 'tagged under the name asked for');
    // No machine here reaches Docker Hub: only the mirror can have served it.
    const hub = await pullFresh('hubonly:1', { BERTH_CONFIG: config });
    assert.equal(hub.code, 0, hub.stderr);

    src.run(['tag', 'hosts/img:1', `${origin.host}/only/img:1`]);
    assert.equal(src.run(['push', `${origin.host}/only/img:1`], { env: { ...NO_PROXY_ENV, BERTH_CONFIG: join(dir, 'none.json') } }).code, 0);
    mirror!.stop();
    mirror = undefined;
    const fallback = await pullFresh(`${origin.host}/only/img:1`, { BERTH_CONFIG: config });
    assert.equal(fallback.code, 0, fallback.stderr);
  });
});

describe('insecure registries', () => {
  it('speaks plain http to a registry that is not loopback only when insecure-registries lists it', async () => {
    const name = `${plainFront.host}/plain/img:1`;
    const unlisted = await pullFresh(name, { BERTH_CONFIG: writeConfig('other.json', { 'insecure-registries': ['10.0.0.0/8', '192.0.2.2:1'] }) });
    assert.notEqual(unlisted.code, 0);
    assert.match(unlisted.stderr, new RegExp(`list ${plainFront.host.replace(/\./g, '\\.')} in insecure-registries`));
    assert.equal(plainFront.requests.length, 0, 'no plain http request reached the unlisted registry');
    const byHost = await pullFresh(name, { BERTH_CONFIG: writeConfig('host.json', { 'insecure-registries': [plainFront.host] }) });
    assert.equal(byHost.code, 0, byHost.stderr);
    const byCidr = await pullFresh(name, { BERTH_CONFIG: writeConfig('cidr.json', { 'insecure-registries': ['192.0.2.0/24'] }) });
    assert.equal(byCidr.code, 0, byCidr.stderr);
    // Loopback registries stay insecure without a config, as docker's 127.0.0.0/8: the pushes
    // to 127.0.0.1 in before() and the mirror test's pulls are plain http without one.
  });
});

describe('certs.d', () => {
  it("verifies the registry with certs.d's CA and presents its client certificate", async () => {
    const certsD = join(dir, 'certs.d');
    const hostDir = join(certsD, tlsFront.host);
    mkdirSync(hostDir, { recursive: true });
    const env = { BERTH_CONFIG: join(dir, 'none.json'), BERTH_CERTS_D: certsD };
    const name = `${tlsFront.host}/plain/img:1`;
    const noCa = await pullFresh(name, env);
    assert.notEqual(noCa.code, 0);
    assert.match(noCa.stderr, /certificate|self.signed|issuer/i);
    writeFileSync(join(hostDir, 'ca.crt'), readFileSync(join(dir, 'ca.crt')));
    const noClient = await pullFresh(name, env);
    assert.notEqual(noClient.code, 0, 'the registry demands a client certificate');
    // A certificate without its key is refused by name: test/unit/registry-network.test.ts.
    writeFileSync(join(hostDir, 'client.cert'), readFileSync(join(dir, 'client.crt')));
    writeFileSync(join(hostDir, 'client.key'), readFileSync(join(dir, 'client.key')));
    const ok = await pullFresh(name, env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(tlsFront.requests.some((r) => r.startsWith('GET /v2/plain/img/manifests/1')));
  });
});

describe('config file', () => {
  it('shows its registry settings in info, and in the API shape', async () => {
    const t = tempRoot('berth-hosts-info-');
    try {
      const config = writeConfig('info.json', {
        'registry-mirrors': ['https://mirror.example.com'],
        'registry-host-mirrors': { 'ghcr.io': ['https://ghcr-mirror.example.com:5000'] },
        'insecure-registries': ['10.1.0.0/16', 'reg.internal:5000'],
        'default-address-pools': [{ base: '10.200.0.0/16', size: 24 }],
        'log-opts': { 'max-size': '10m' },
        features: { buildkit: true },
      });
      const env = { ...NO_PROXY_ENV, BERTH_CONFIG: config, HTTPS_PROXY: 'http://u:secret@proxy.example:3128', NO_PROXY: '.internal' };
      const r = await berthAsync(t.root, ['info'], { env });
      assert.equal(r.code, 0, r.stderr);
      for (const line of [
        ' Insecure Registries:\n  reg.internal:5000\n  10.1.0.0/16\n  127.0.0.0/8\n',
        ' Registry Mirrors:\n  https://mirror.example.com/\n',
        ' Registry Mirrors for ghcr.io:\n  https://ghcr-mirror.example.com:5000/\n',
        ' HTTPS Proxy: http://u:xxxxx@proxy.example:3128\n',
        ' No Proxy: .internal\n',
      ]) {
        assert.ok(r.stdout.includes(line), `${JSON.stringify(line)} in\n${r.stdout}`);
      }
      assert.doesNotMatch(r.stdout, /secret/);
      const j = await berthAsync(t.root, ['info', '--format', '{{json .RegistryConfig}}'], { env });
      const rc = JSON.parse(j.stdout) as { Mirrors: string[]; IndexConfigs: Record<string, { Secure: boolean; Mirrors: string[] }> };
      assert.deepEqual(rc.Mirrors, ['https://mirror.example.com/']);
      assert.equal(rc.IndexConfigs['reg.internal:5000']?.Secure, false);
      assert.deepEqual(rc.IndexConfigs['ghcr.io']?.Mirrors, ['https://ghcr-mirror.example.com:5000/']);
    } finally {
      t.cleanup();
    }
  });

  it("applies default-address-pools to a new network and log-opts to a new container's json-file log", async () => {
    const t = tempRoot('berth-hosts-defaults-');
    const net = `pool-${process.pid}`;
    try {
      const config = writeConfig('defaults.json', {
        'default-address-pools': [{ base: '10.213.0.0/16', size: 26 }],
        'log-opts': { 'max-size': '5m', 'max-file': '2' },
      });
      const env = { ...NO_PROXY_ENV, BERTH_CONFIG: config };
      assert.equal((await berthAsync(t.root, ['network', 'create', net], { env })).code, 0);
      const subnet = await berthAsync(t.root, ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', net], { env });
      assert.match(subnet.stdout.trim(), /^10\.213\.\d+\.(0|64|128|192)\/26$/);
      assert.equal((await berthAsync(t.root, ['import', join(dir, 'img.tar'), 'logs/img:1'], { env })).code, 0);
      const c = await berthAsync(t.root, ['create', '--log-opt', 'max-file=3', 'logs/img:1', '/x'], { env });
      assert.equal(c.code, 0, c.stderr);
      const lc = await berthAsync(t.root, ['inspect', '--format', '{{json .HostConfig.LogConfig}}', c.stdout.trim()], { env });
      assert.deepEqual(JSON.parse(lc.stdout), { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '3' } });
      const bad = writeConfig('bad-log.json', { 'log-opts': { 'max-size': 'huge' } });
      const refused = await berthAsync(t.root, ['create', 'logs/img:1', '/x'], { env: { ...env, BERTH_CONFIG: bad } });
      assert.notEqual(refused.code, 0);
      assert.ok(refused.stderr.includes(`${bad}: log-opts:`), refused.stderr);
    } finally {
      await berthAsync(t.root, ['network', 'rm', net]);
      t.cleanup();
    }
  });

  it('is refused, naming the file and the key, when a value is bad or a key unknown', async () => {
    const t = tempRoot('berth-hosts-bad-');
    try {
      // test/unit/registry-config.test.ts holds the other bad values; these show the CLI's message.
      const cases: Array<[unknown, RegExp]> = [
        [{ 'registry-mirrors': ['https://user:pw@mirror.example'] }, /registry-mirrors\.0 .* is not a mirror URL/],
        [{ 'registry-mirror': ['https://m.example'] }, /unknown key "registry-mirror"/],
      ];
      for (const [i, [value, expected]] of cases.entries()) {
        const file = writeConfig(`bad-${i}.json`, value);
        const r = await berthAsync(t.root, ['pull', 'whatever:1'], { env: { ...NO_PROXY_ENV, BERTH_CONFIG: file } });
        assert.notEqual(r.code, 0);
        assert.ok(r.stderr.includes(file), r.stderr);
        assert.match(r.stderr, expected);
      }
    } finally {
      t.cleanup();
    }
  });
});
