/** The parsers of `build --ssh` and `--build-context`: docker's forms, and what they refuse. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { namedContextOf, parseNamedContext } from '../../src/builder/named-contexts.ts';
import { parseSshSpecs } from '../../src/builder/ssh.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-team-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('--ssh values', () => {
  it('default and a bare id are $SSH_AUTH_SOCK; ID=PATH[,PATH] keeps its paths', () => {
    assert.deepEqual(parseSshSpecs(['default', 'gh=/k1,/k2', 'work'], { SSH_AUTH_SOCK: '/run/agent' }), [
      { id: 'default', paths: ['/run/agent'] },
      { id: 'gh', paths: ['/k1', '/k2'] },
      { id: 'work', paths: ['/run/agent'] },
    ]);
  });

  it('refuses no agent, a repeated id and an id with odd characters', () => {
    assert.throws(() => parseSshSpecs(['default'], {}), /SSH_AUTH_SOCK is set/);
    assert.throws(() => parseSshSpecs(['a=/k', 'a=/j'], {}), /id a given twice/);
    for (const bad of ['../x=/k', '=/k', 'a b=/k', '-x=/k']) assert.throws(() => parseSshSpecs([bad], {}), /the id must be/, bad);
  });
});

describe('--build-context values', () => {
  it('splits NAME=VALUE; a dir, docker-image:// and other schemes', () => {
    assert.deepEqual(parseNamedContext('base=docker-image://alpine:3'), { name: 'base', value: 'docker-image://alpine:3' });
    assert.deepEqual(namedContextOf('base', 'docker-image://alpine:3'), { kind: 'image', ref: 'alpine:3' });
    assert.deepEqual(namedContextOf('d', dir), { kind: 'dir', path: dir });
    assert.throws(() => namedContextOf('x', 'https://example.com/ctx.tar'), /https:\/\/ contexts are not supported/);
    assert.throws(() => namedContextOf('x', 'docker-image://'), /needs an image reference/);
    writeFileSync(join(dir, 'f'), '');
    assert.throws(() => namedContextOf('x', join(dir, 'f')), /is not a directory/);
  });

  it('refuses a value without a name or a value, and names docker would not take', () => {
    for (const bad of ['x', '=dir', 'x=', 'UPPER=dir', 'sp ace=dir', '.dot=dir']) assert.throws(() => parseNamedContext(bad), /invalid --build-context/, bad);
  });
});
