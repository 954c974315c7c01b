/**
 * Named network namespaces made in process (network/netns.ts with berth's addon), as
 * `ip netns add/del` makes them: `ip` sees and enters the namespace, which is a fresh one
 * with only `lo`, up; a second add of the same name is ALREADY_EXISTS; delete leaves no file and
 * no mount, and deleting twice is fine. Hostile names never reach here (netnsNameFor).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { BerthError } from '../../src/errors/index.ts';
import { createNetns, deleteNetns, NETNS_DIR } from '../../src/network/netns.ts';
import { sys } from '../../src/sys/index.ts';

const NAME = `berth-nstest${process.pid}`;

function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

describe('network namespaces in process', { skip: !sys()?.netnsBind && 'no addon with netnsBind' }, () => {
  after(async () => {
    await deleteNetns(NAME);
  });

  test('add makes a namespace ip can enter, with lo only; a second add is ALREADY_EXISTS; delete undoes it', async () => {
    const { path, loopbackUp } = await createNetns(NAME);
    assert.equal(path, `${NETNS_DIR}/${NAME}`);
    assert.equal(loopbackUp, true);
    assert.ok(mounted(path), 'the namespace is bind-mounted on its file');
    assert.ok(
      execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .split('\n')
        .some((l) => l.split(' ')[0] === NAME),
    );
    const links = execFileSync('ip', ['-n', NAME, '-o', 'link', 'show'], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(
      links.map((l) => l.split(':')[1]!.trim()),
      ['lo'],
    );
    // lo is up, with its address, as the loopback plugin would leave it.
    assert.match(links[0]!, /<LOOPBACK,UP,LOWER_UP>/);
    const addrs = execFileSync('ip', ['-n', NAME, '-o', '-4', 'addr', 'show', 'lo'], { encoding: 'utf8' });
    assert.match(addrs, /inet 127\.0\.0\.1\/8/);
    // Another namespace than this process's own.
    const inside = execFileSync('ip', ['netns', 'exec', NAME, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim();
    assert.notEqual(inside, execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).trim());
    await assert.rejects(createNetns(NAME), (e: unknown) => e instanceof BerthError && e.code === 'ALREADY_EXISTS');
    await deleteNetns(NAME);
    assert.ok(!existsSync(path));
    assert.ok(!mounted(path));
    await deleteNetns(NAME); // already gone: no error
  });

  test('this process stays in its own network namespace', async () => {
    const before = execFileSync('readlink', [`/proc/${process.pid}/ns/net`], { encoding: 'utf8' }).trim();
    await createNetns(NAME);
    await deleteNetns(NAME);
    // Every thread of this process, not only the main one.
    const { readdirSync, readlinkSync } = await import('node:fs');
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) assert.equal(readlinkSync(`/proc/${process.pid}/task/${tid}/ns/net`), before);
  });
});
