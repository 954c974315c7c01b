import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/errors/index.ts';
import { familiarName, formatReference, looksLikeImageId, parseReference, registryHost, withDefaultTag } from '../../src/reference/index.ts';

const D = `sha256:${'a'.repeat(64)}`;

// input → full normalized form (tag defaulted), and docker's familiar form
const valid: Array<[string, string, string]> = [
  ['ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'],
  ['ubuntu:22.04', 'docker.io/library/ubuntu:22.04', 'ubuntu:22.04'],
  ['library/ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'],
  ['docker.io/ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'],
  ['docker.io/library/ubuntu:1', 'docker.io/library/ubuntu:1', 'ubuntu:1'],
  ['index.docker.io/ubuntu', 'docker.io/library/ubuntu:latest', 'ubuntu:latest'],
  ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
  ['user/app:v1.2', 'docker.io/user/app:v1.2', 'user/app:v1.2'],
  ['a/b/c', 'docker.io/a/b/c:latest', 'a/b/c:latest'],
  ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
  ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
  ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
  ['127.0.0.1:5000/app:1', '127.0.0.1:5000/app:1', '127.0.0.1:5000/app:1'],
  ['myimage:5000', 'docker.io/library/myimage:5000', 'myimage:5000'],
  ['registry.example.com/team/model', 'registry.example.com/team/model:latest', 'registry.example.com/team/model:latest'],
  ['ghcr.io/huggingface/tgi:2.0', 'ghcr.io/huggingface/tgi:2.0', 'ghcr.io/huggingface/tgi:2.0'],
  ['[::1]:5000/x:1', '[::1]:5000/x:1', '[::1]:5000/x:1'],
  ['[fe80::1]/x', '[fe80::1]/x:latest', '[fe80::1]/x:latest'],
  ['Example.COM/x', 'Example.COM/x:latest', 'Example.COM/x:latest'],
  [`ubuntu@${D}`, `docker.io/library/ubuntu@${D}`, `ubuntu@${D}`],
  [`ubuntu:22.04@${D}`, `docker.io/library/ubuntu:22.04@${D}`, `ubuntu:22.04@${D}`],
  [`localhost:5000/a@${D}`, `localhost:5000/a@${D}`, `localhost:5000/a@${D}`],
  ['a_b/c__d/e-f--g', 'docker.io/a_b/c__d/e-f--g:latest', 'a_b/c__d/e-f--g:latest'],
  ['x.y/z', 'x.y/z:latest', 'x.y/z:latest'],
  ['foo:TAG_1.x-y', 'docker.io/library/foo:TAG_1.x-y', 'foo:TAG_1.x-y'],
  [`t:${'a'.repeat(128)}`, `docker.io/library/t:${'a'.repeat(128)}`, `t:${'a'.repeat(128)}`],
  ['registry-1.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['host.docker.internal:5000/a', 'host.docker.internal:5000/a:latest', 'host.docker.internal:5000/a:latest'],
  ['  padded  ', 'docker.io/library/padded:latest', 'padded:latest'],
];

const invalid: Array<[string, string]> = [
  ['', 'empty'],
  ['Ubuntu', 'uppercase repository'],
  ['user/App', 'uppercase path component'],
  ['ubuntu:', 'empty tag'],
  ['ubuntu@', 'empty digest'],
  ['ubuntu@sha256:abc', 'short digest'],
  ['a//b', 'double slash'],
  ['a/', 'trailing slash'],
  ['/a', 'leading slash'],
  ['a:b:c', 'colon in path'],
  [`t:${'a'.repeat(129)}`, '129-char tag'],
  ['t:-tag', 'tag starting with -'],
  ['t:.tag', 'tag starting with .'],
  ['foo bar', 'space'],
  ['foo$', 'bad character'],
  ['-foo', 'leading dash'],
  ['foo-', 'trailing dash'],
  ['foo..bar', 'double dot'],
  ['localhost:abc/x', 'non-numeric port'],
  [`${'a'.repeat(250)}/${'b'.repeat(10)}`, 'name over 255 characters'],
];

describe('parseReference: valid references normalize like docker', () => {
  for (const [input, full, familiar] of valid) {
    it(`${input} → ${full}`, () => {
      const r = withDefaultTag(parseReference(input));
      assert.equal(formatReference(r), full);
      assert.equal(familiarName(r), familiar);
    });
  }
});

describe('parseReference: invalid references are rejected with a clear message', () => {
  for (const [input, why] of invalid) {
    it(`${JSON.stringify(input.slice(0, 40))} (${why})`, () => {
      assert.throws(
        () => parseReference(input),
        (e) => isBerthError(e, 'INVALID_ARGUMENT') && e.message.startsWith('invalid reference format'),
      );
    });
  }
});

describe('helpers', () => {
  it('leaves the tag unset when only a digest is given', () => assert.equal(parseReference(`a@${D}`).tag, undefined));
  it('maps docker.io to its API host', () => assert.equal(registryHost(parseReference('ubuntu')), 'registry-1.docker.io'));
  it('keeps other hosts as they are', () => assert.equal(registryHost(parseReference('localhost:5000/a')), 'localhost:5000'));
  it('treats 64 hex as an image id', () => {
    assert.equal(looksLikeImageId('a'.repeat(64)), true);
    assert.equal(looksLikeImageId(D), true);
    assert.equal(looksLikeImageId('abc'), false);
  });
  it(`has at least 40 table cases (${valid.length + invalid.length})`, () => assert.ok(valid.length + invalid.length >= 40));
});
