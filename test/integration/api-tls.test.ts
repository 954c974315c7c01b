/** `berth serve` on TCP: TLS with client certificates (`--tlsverify`), or plain only with `--insecure-tcp` and a warning. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOCKER_28, type ServeHandle, startServe } from '../helpers/api-server.ts';
import { makeTestCertificates } from '../helpers/certs.ts';
import { freePort } from '../helpers/registry.ts';

describe('berth serve on TCP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('with --tlsverify', () => {
    let s: ServeHandle;
    let port: number;
    before(async () => {
      makeTestCertificates(dir, '127.0.0.1');
      port = await freePort();
      s = await startServe({
        args: [
          '-H',
          `tcp://127.0.0.1:${port}`,
          '--tlsverify',
          '--tlscacert',
          join(dir, 'ca.crt'),
          '--tlscert',
          join(dir, 'server.crt'),
          '--tlskey',
          join(dir, 'server.key'),
        ],
      });
    });
    after(() => s?.stop());

    test('a client with a certificate the CA signed is served', () => {
      const flags = ['--tlsverify', '--tlscacert', join(dir, 'ca.crt'), '--tlscert', join(dir, 'client.crt'), '--tlskey', join(dir, 'client.key')];
      const v = s.docker([...flags, '-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.APIVersion}}'], { cli: DOCKER_28 });
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.trim(), '1.41');
    });

    test('a client without a certificate is turned away, and plain HTTP gets nothing', async () => {
      const v = s.docker(['--tls', '--tlscacert', join(dir, 'ca.crt'), '-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.APIVersion}}']);
      assert.notEqual(v.code, 0);
      assert.equal(v.stdout.trim(), '');
      const plain = await new Promise<number | string>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/_ping' }, (res) => resolve(res.statusCode ?? 0));
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        req.end();
      });
      assert.notEqual(plain, 200);
    });
  });

  test('--insecure-tcp serves plain HTTP and says why that is dangerous', async () => {
    const port = await freePort();
    const s = await startServe({ args: ['-H', `tcp://127.0.0.1:${port}`, '--insecure-tcp'] });
    try {
      const v = s.docker(['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.APIVersion}}']);
      assert.equal(v.code, 0, v.stderr);
      assert.match(s.log(), /WARNING: API listening on tcp:\/\/127\.0\.0\.1:\d+ without TLS/);
    } finally {
      await s.stop();
    }
  });
});
