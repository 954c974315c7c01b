/**
 * ADD of an https URL, from a server in this process with a self-signed certificate: the
 * download follows redirects, checks --checksum, reports HTTP errors, and trusts a CA given
 * only through NODE_EXTRA_CA_CERTS. bin/berth hands that variable over to berth under
 * another name, so that Node does not parse the bundle at every start: this is what shows
 * the CAs still reach the connection.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthAsync, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { selfSignedCert } from '../helpers/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-add-url-'));
const t = tempRoot('berth-add-url-root-');
const body = 'weights v1\n';
let server: Server;
let base = '';

before(async () => {
  selfSignedCert(dir);
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    if (req.url === '/model.bin') res.end(body);
    else if (req.url === '/latest') res.writeHead(302, { location: '/model.bin' }).end();
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0);
});
after(() => {
  server.close();
  t.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function build(dockerfile: string, env: NodeJS.ProcessEnv) {
  const ctx = join(dir, `ctx-${Math.random().toString(36).slice(2)}`);
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
  return berthAsync(t.root, ['build', '--progress', 'plain', '-t', 'add:1', ctx], { env });
}

const trusted = () => ({ NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });

describe('ADD of an https URL', () => {
  it('follows a redirect, checks the checksum and trusts NODE_EXTRA_CA_CERTS', async () => {
    const sum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const r = await build(`FROM bb:1\nADD --checksum=${sum} ${base}/latest /models/model.bin\n`, trusted());
    assert.equal(r.code, 0, r.stderr);
    const cat = await berthAsync(t.root, ['run', '--rm', '--network', 'none', 'add:1', 'cat', '/models/model.bin']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, body);
  });

  it('refuses the certificate when no CA vouches for it', async () => {
    const r = await build(`FROM bb:1\nADD ${base}/model.bin /m\n`, { NODE_EXTRA_CA_CERTS: '' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot download .*(SELF_SIGNED|self.signed|certificate)/i);
  });

  it('reports a wrong checksum and an HTTP error', async () => {
    const wrong = await build(`FROM bb:1\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/model.bin /m\n`, trusted());
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /digest mismatch/);
    const missing = await build(`FROM bb:1\nADD ${base}/nothing-here /m\n`, trusted());
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /HTTP 404/);
  });
});
