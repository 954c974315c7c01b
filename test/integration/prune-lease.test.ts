/**
 * A container a live process has just created (a `run` between its create and its start) is
 * kept from a prune in another process; once that process lets go, the container is prunable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEngine } from '../../src/engine.ts';
import { pullImage } from '../../src/registry/index.ts';
import { createContainer } from '../../src/services/containers.ts';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';

const t = tempRoot('berth-prune-lease-');
before(() => assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0));
after(() => t.cleanup());

describe('prune and a live creator', () => {
  it('keeps the container while its creator lives, and takes it after', async () => {
    const engine = await openEngine({ root: t.root, puller: { pull: pullImage } });
    let id = '';
    try {
      const rec = await createContainer(engine, {
        image: 'bb:1',
        command: ['true'],
        env: [],
        envFiles: [],
        tty: false,
        interactive: false,
        network: 'none',
        publish: [],
        volumes: [],
        mounts: [],
        tmpfs: [],
        autoRemove: false,
        labels: {},
        pull: 'never',
        runtime: {},
      } as unknown as Parameters<typeof createContainer>[1]);
      id = rec.id;
      const r = t.run(['container', 'prune', '-f']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, new RegExp(id));
      assert.equal(t.run(['inspect', '-f', '{{.State.Status}}', id]).stdout.trim(), 'created');
    } finally {
      engine.close();
    }
    const r = t.run(['container', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(id));
    assert.notEqual(t.run(['inspect', id]).code, 0);
  });
});
