/**
 * berth's arguments and environment are berth's, never Node's (issue 18, item 4): Node 20 takes
 * `--env-file` from anywhere in argv, so `run --env-file F` once had Node load F itself (a
 * `NODE_OPTIONS=--require x.js` line ran x.js inside berth, as root), and a missing F ended
 * with Node's own message and exit 9. And a caller's NODE_OPTIONS or OPENSSL_CONF is for the
 * caller's Node programs. The lines still reach the container, as docker passes them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { busyboxRoot } from '../helpers/busybox.ts';

const t = busyboxRoot('berth-node-options-');
const dir = mkdtempSync(join(tmpdir(), 'berth-node-options-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const marker = join(dir, 'marker');
const payload = join(dir, 'x.js');
writeFileSync(payload, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran inside ' + process.argv.join(' '));\n`);

describe('--env-file is read by berth only', () => {
  const envFile = join(dir, 'env.list');
  const lines = [`NODE_OPTIONS=--require ${payload}`, `--require=${payload}`, '--inspect=127.0.0.1:9', 'PLAIN=1'];
  writeFileSync(envFile, `# a comment\n${lines.join('\n')}\n`);

  for (const form of [['--env-file', envFile], [`--env-file=${envFile}`]]) {
    it(`${form.join(' ')}: the container gets every line, Node none`, () => {
      rmSync(marker, { force: true });
      const r = t.run(['run', '--rm', ...form, 'bb:1', 'env']);
      assert.equal(r.code, 0, r.stderr);
      for (const l of lines) assert.ok(r.stdout.split('\n').includes(l), `${l} not in the container's env:\n${r.stdout}`);
      assert.equal(existsSync(marker), false, 'the file named by NODE_OPTIONS ran inside berth');
    });
  }

  for (const form of [['--env-file', join(dir, 'missing.list')], [`--env-file=${join(dir, 'missing.list')}`]]) {
    it(`${form.join(' ')} of a missing file: berth's own error, exit 125`, () => {
      const r = t.run(['run', '--rm', ...form, 'bb:1', 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`^berth: Error: open ${join(dir, 'missing.list')}: no such file or directory$`, 'm'));
      assert.doesNotMatch(r.stderr, /^node:/m);
    });
  }
});

describe("the caller's Node variables stay the caller's", () => {
  it('NODE_OPTIONS, NODE_V8_COVERAGE, NODE_REDIRECT_WARNINGS and OPENSSL_CONF do nothing to berth', () => {
    rmSync(marker, { force: true });
    const coverage = join(dir, 'coverage');
    mkdirSync(coverage);
    const warnings = join(dir, 'warnings.txt');
    // A provider that cannot load: Node aborts at start when it reads this config.
    const ssl = join(dir, 'openssl.cnf');
    writeFileSync(ssl, `nodejs_conf = c\nopenssl_conf = c\n[c]\nproviders = p\n[p]\nbad = b\n[b]\nmodule = ${join(dir, 'none.so')}\nactivate = 1\n`);
    const r = t.run(['run', '--rm', 'bb:1', 'echo', 'ok'], {
      env: { NODE_OPTIONS: `--require ${payload} --pending-deprecation`, NODE_V8_COVERAGE: coverage, NODE_REDIRECT_WARNINGS: warnings, OPENSSL_CONF: ssl },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
    assert.equal(existsSync(marker), false, 'NODE_OPTIONS --require ran inside berth');
    assert.deepEqual(readdirSync(coverage), [], 'Node wrote coverage for berth');
    assert.equal(existsSync(warnings), false);
  });
});
