/** Login with htpasswd over TLS, bearer tokens from a token server, and multi-arch indexes. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthAsync, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { RegistryClient, RegistrySink } from '../../src/registry/index.ts';
import { parseReference } from '../../src/reference/index.ts';
import { Readable } from 'node:stream';
import { sha256 } from '../../src/sys/crypto.ts';

const dockerConfig = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
const t = tempRoot('berth-auth-');
after(() => {
  t.cleanup();
  rmSync(dockerConfig, { recursive: true, force: true });
});
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));

describe('htpasswd + TLS registry', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: { user: 'alice', password: 's3cret' }, tls: true });
  });
  after(() => reg.stop());
  const env = () => ({ DOCKER_CONFIG: dockerConfig, BERTH_CERTS_D: reg.certsDir! });

  it('a wrong password gives a clear 401 error and stores nothing', () => {
    const r = t.run(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'wrong\n', env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /401 unauthorized/);
    assert.throws(() => readFileSync(join(dockerConfig, 'config.json')));
  });

  it('login stores the credentials; push and pull then work over verified TLS', () => {
    const r = t.run(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 's3cret\n', env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    const cfg = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host]!.auth, 'base64').toString(), 'alice:s3cret');
    const name = `${reg.host}/private/bb:1`;
    assert.equal(t.run(['tag', 'bb:1', name]).code, 0);
    const push = t.run(['push', name], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    const fresh = tempRoot('berth-auth-pull-');
    try {
      const pull = fresh.run(['pull', name], { env: env() });
      assert.equal(pull.code, 0, pull.stderr);
    } finally {
      fresh.cleanup();
    }
    assert.equal(t.run(['logout', reg.host], { env: env() }).code, 0);
    const anon = t.run(['pull', name], { env: env() });
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /unauthorized|requires authentication/);
  });

  it('a loopback registry with an unknown CA is insecure by default, as in docker', () => {
    const r = t.run(['login', '-u', 'alice', '--password-stdin', reg.host], {
      input: 's3cret\n',
      env: { DOCKER_CONFIG: dockerConfig, BERTH_CERTS_D: '/nonexistent' },
    });
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('bearer token auth', () => {
  let reg: TestRegistry;
  let front: Server;
  let host = '';
  const tokensIssued: string[] = [];
  before(async () => {
    reg = await startRegistry();
    const seed = tempRoot('berth-bearer-seed-');
    assert.equal(seed.run(['import', busyboxTar(), `${reg.host}/tok/bb:1`]).code, 0);
    assert.equal(seed.run(['push', `${reg.host}/tok/bb:1`]).code, 0);
    seed.cleanup();
    front = createServer((req, res) => {
      if (req.url?.startsWith('/token')) {
        const basic = req.headers.authorization === `Basic ${Buffer.from('bob:pw').toString('base64')}`;
        if (!basic) {
          res.writeHead(401).end('{"details":"bad credentials"}');
          return;
        }
        const scope = new URL(req.url, 'http://x').searchParams.get('scope') ?? '';
        tokensIssued.push(scope);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'good-token' }));
        return;
      }
      if (req.headers.authorization !== 'Bearer good-token') {
        res.writeHead(401, {
          'WWW-Authenticate': `Bearer realm="http://${host}/token",service="test-registry",scope="repository:tok/bb:pull"`,
          'Content-Type': 'application/json',
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      const [h, p] = reg.host.split(':');
      const up = request(
        { host: h, port: Number(p), method: req.method, path: req.url, headers: { ...req.headers, host: reg.host, authorization: '' } },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    host = `127.0.0.1:${(front.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => front.close(() => r()));
    reg.stop();
  });

  it('pulls with a token fetched for the repository scope', async () => {
    const cfgDir = mkdtempSync(join(tmpdir(), 'berth-bearer-cfg-'));
    const fresh = tempRoot('berth-bearer-');
    try {
      const env = { DOCKER_CONFIG: cfgDir };
      const bad = await berthAsync(fresh.root, ['login', '-u', 'bob', '--password-stdin', host], { input: 'nope\n', env });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /401|unauthorized/);
      const ok = await berthAsync(fresh.root, ['login', '-u', 'bob', '--password-stdin', host], { input: 'pw\n', env });
      assert.equal(ok.code, 0, ok.stderr);
      const pull = await berthAsync(fresh.root, ['pull', `${host}/tok/bb:1`], { env });
      assert.equal(pull.code, 0, pull.stderr);
      assert.ok(tokensIssued.includes('repository:tok/bb:pull'), tokensIssued.join(','));
    } finally {
      fresh.cleanup();
      rmSync(cfgDir, { recursive: true, force: true });
    }
  });
});

describe('multi-arch index', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(() => reg.stop());

  it('pulls the variant for --platform and for the host, and lists platforms when none match', async () => {
    const layer = readFileSync(busyboxTar());
    const diffId = sha256(layer);
    const ref = parseReference(`${reg.host}/multi/bb:1`);
    const sink = new RegistrySink(new RegistryClient(reg.host), ref);
    const blob = async (bytes: Buffer, mediaType: string) => {
      const desc = { mediaType, digest: sha256(bytes), size: bytes.length };
      if (!(await sink.hasBlob(desc))) await sink.putBlob(desc, async () => Readable.from([bytes]));
      return desc;
    };
    const layerDesc = await blob(layer, 'application/vnd.oci.image.layer.v1.tar');
    const entries = [];
    for (const [arch, variant] of [
      ['amd64', undefined],
      ['arm64', 'v8'],
    ] as const) {
      const config = Buffer.from(
        JSON.stringify({
          architecture: arch,
          ...(variant ? { variant } : {}),
          os: 'linux',
          config: { Cmd: ['echo', arch] },
          rootfs: { type: 'layers', diff_ids: [diffId] },
        }),
      );
      const configDesc = await blob(config, 'application/vnd.oci.image.config.v1+json');
      const manifest = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers: [layerDesc] }),
      );
      await sink.putManifest({ digest: sha256(manifest), bytes: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
      entries.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(manifest),
        size: manifest.length,
        platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) },
      });
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
    await sink.finish({ digest: sha256(index), bytes: index, mediaType: 'application/vnd.oci.image.index.v1+json' });

    const name = `${reg.host}/multi/bb:1`;
    const arm = tempRoot('berth-multi-arm-');
    const host = tempRoot('berth-multi-host-');
    try {
      assert.equal((await berthAsync(arm.root, ['pull', '--platform', 'linux/arm64', name])).code, 0);
      assert.equal((await berthAsync(arm.root, ['inspect', '-f', '{{.Architecture}}/{{.Variant}}', name])).stdout, 'arm64/v8\n');
      assert.equal((await berthAsync(host.root, ['pull', name])).code, 0);
      assert.equal((await berthAsync(host.root, ['inspect', '-f', '{{.Architecture}}', name])).stdout, 'amd64\n');
      assert.equal((await berthAsync(host.root, ['run', '--rm', '--network', 'none', name])).stdout, 'amd64\n');
      const none = await berthAsync(host.root, ['pull', '--platform', 'linux/s390x', name]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no matching manifest for linux\/s390x/);
      assert.match(none.stderr, /linux\/amd64, linux\/arm64\/v8/);
      void createHash;
    } finally {
      arm.cleanup();
      host.cleanup();
    }
  });
});
