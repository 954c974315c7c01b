/**
 * The CLI refuses what docker refuses, with docker's words, and does what docker does:
 * `--security-opt`, `-v`, `network create --subnet/--gateway`, `--format` templates,
 * `import` of something that is not a tar, and `exec -d`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-checks-');
const work = mkdtempSync(join(tmpdir(), 'berth-checks-'));
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => {
  t.run(['rm', '-f', 'checks-exec']);
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function refused(args: string[], message: string, code = 125): void {
  const r = t.run(args);
  assert.equal(r.code, code, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.ok(r.stderr.includes(message), `${args.join(' ')}: ${r.stderr}`);
}

describe('options refused as docker refuses them', () => {
  it('--security-opt', () => {
    refused(['run', '--rm', '--network', 'none', '--security-opt', 'foo=bar', 'bb:1', 'true'], 'invalid --security-opt 2: "foo=bar"');
    refused(['create', '--security-opt', 'nonsense', 'bb:1'], 'Invalid --security-opt: "nonsense"');
    refused(['create', '--security-opt', 'no-new-privileges=maybe', 'bb:1'], 'invalid --security-opt 2: "no-new-privileges=maybe"');
    assert.equal(t.run(['ps', '-aq']).stdout.trim(), '', 'a refused create left a container');
  });

  it('takes systempaths=unconfined: /proc is not masked', () => {
    const masked = t.run(['run', '--rm', '--network', 'none', 'bb:1', 'sh', '-c', 'test -c /proc/timer_list && echo masked']);
    assert.equal(masked.stdout.trim(), 'masked', masked.stderr);
    const open = t.run([
      'run',
      '--rm',
      '--network',
      'none',
      '--security-opt',
      'systempaths=unconfined',
      '--security-opt',
      'no-new-privileges:false',
      'bb:1',
      'sh',
      '-c',
      'test -f /proc/timer_list && echo open',
    ]);
    assert.equal(open.stdout.trim(), 'open', open.stderr);
  });

  it('-v with an empty section or too many colons', () => {
    refused(['create', '-v', ':/x', 'bb:1', 'true'], 'invalid spec: :/x: empty section between colons');
    refused(['create', '-v', '/a:/x:ro:z', 'bb:1', 'true'], 'invalid spec: /a:/x:ro:z: too many colons');
  });

  it('network create with a subnet or gateway that is not one', () => {
    refused(['network', 'create', '--subnet', '999.1.1.0/24', 'checks-net'], 'Invalid subnet 999.1.1.0/24 : invalid CIDR address: 999.1.1.0/24', 1);
    refused(['network', 'create', '--subnet', '10.77.1.0/24', '--gateway', '10.77.2.1', 'checks-net'], 'no matching subnet for gateway 10.77.2.1', 1);
    assert.doesNotMatch(t.run(['network', 'ls']).stdout, /checks-net/);
  });

  it('a --format template that does not parse', () => {
    refused(['inspect', '--format', '{{.Foo', 'bb:1'], 'template parsing error: template: :1: unclosed action', 64);
    refused(['images', '--format', '{{bogus .ID}}'], 'function "bogus" not defined', 1);
    const ok = t.run(['inspect', '--format', '{{.Architecture}}', 'bb:1']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('import of what is not a tar', () => {
  it('fails at once for /dev/zero and for a text file, and stores nothing', () => {
    const r = t.run(['import', '/dev/zero', 'zero:1'], { timeout: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot import \/dev\/zero: invalid tar header/);
    const text = join(work, 'notes.txt');
    writeFileSync(text, 'not a tar\n'.repeat(200));
    refused(['import', text, 'text:1'], 'invalid tar header checksum at byte 0', 1);
    assert.equal(t.run(['images', '-q']).stdout.trim().split('\n').length, 1);
  });

  it('takes an empty tar', () => {
    const empty = join(work, 'empty.tar');
    writeFileSync(empty, Buffer.alloc(10240));
    const r = t.run(['import', empty, 'empty:1']);
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('exec -d', () => {
  it('returns while the process runs on', () => {
    assert.equal(t.run(['run', '-d', '--name', 'checks-exec', '--network', 'none', 'bb:1', 'sleep', '60']).code, 0);
    const t0 = Date.now();
    const r = t.run(['exec', '-d', 'checks-exec', 'sh', '-c', 'echo started > /tmp/s; sleep 30; echo late > /tmp/late']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 20_000, 'exec -d waited for the process');
    const seen = t.run(['exec', 'checks-exec', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -f /tmp/s ] && break; sleep 0.2; done; cat /tmp/s; ls /tmp']);
    assert.equal(seen.stdout.split('\n')[0], 'started', seen.stderr);
    assert.doesNotMatch(seen.stdout, /late/);
  });
});
