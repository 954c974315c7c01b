/**
 * The services layer called directly, as the coming API server will call it: no CLI, no
 * commander objects, plain options in and plain data out, on an engine opened over a temp
 * state root with the registry client as its puller.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openEngine, type Engine } from '../../src/engine.ts';
import { pullImage } from '../../src/registry/index.ts';
import { createContainer, findContainer, inspectObjects, listContainers, pruneContainers } from '../../src/services/containers.ts';
import { checkStore, pruneStore } from '../../src/services/gc.ts';
import { historyOf, importImage, inspectImages, listImages, tagImage } from '../../src/services/images.ts';
import { pull, push } from '../../src/services/registry.ts';
import { removeImage } from '../../src/services/remove-image.ts';
import { systemInfo } from '../../src/services/system.ts';
import { diskUsageDetail, summarizeDiskUsage } from '../../src/services/disk-usage.ts';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const t = tempRoot('berth-services-');
let reg: TestRegistry | undefined;
let engine: Engine | undefined;

before(async () => {
  reg = await startRegistry();
  engine = await openEngine({ root: t.root, puller: { pull: pullImage } });
});
after(() => {
  engine?.close();
  reg?.stop();
  t.cleanup();
});

describe('services, called without the CLI', () => {
  it('imports, pushes, removes, pulls back, lists and prunes an image', async () => {
    const e = engine!;
    const imported = await importImage(e, createReadStream(busyboxTar()), { reference: 'bb:1', changes: ['CMD ["sh"]'] });
    assert.deepEqual(
      listImages(e, { repository: 'bb' }).map((r) => [r.repository, r.tag, r.id]),
      [['bb', '1', imported.id]],
    );

    const name = `${reg!.host}/svc/bb:1`;
    tagImage(e, 'bb:1', name);
    const started: string[] = [];
    const pushed = await push(e, name, { insecure: true, onStart: (w) => started.push(w.repository) });
    assert.deepEqual(started, [`${reg!.host}/svc/bb`]);
    assert.equal(pushed.tag, '1');
    assert.match(pushed.digest, /^sha256:[a-f0-9]{64}$/);
    await assert.rejects(push(e, name, { compression: 'brotli' }), /unknown compression format "brotli"/);

    // Untagging both names deletes the image; the store then lists nothing.
    assert.deepEqual(removeImage(e, 'bb:1'), [{ Untagged: 'bb:1' }]);
    const removed = removeImage(e, name);
    assert.deepEqual(removed.at(-1), { Deleted: imported.id });
    assert.deepEqual(listImages(e), []);

    const events: string[] = [];
    const pulled = await pull(e, name, { insecure: true, onProgress: (ev) => events.push(ev.kind) });
    assert.equal(pulled.record.id, imported.id, 'the same config comes back');
    assert.equal(pulled.digest, pushed.digest);
    assert.equal(pulled.familiar, name);
    assert.ok(events.includes('blob-done'), 'progress reaches the caller');
    const rows = listImages(e);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.digest, pushed.digest, 'the pull records the repo digest');
    const [view] = await inspectImages(e, [name]);
    assert.deepEqual((view as { RepoTags: string[] }).RepoTags, [name]);
    assert.deepEqual((view as { Config: { Cmd: string[] } }).Config.Cmd, ['sh']);
    assert.equal((await historyOf(e, name))[0]!.id, imported.id);

    assert.equal((await systemInfo(e)).Images, 1);
    assert.equal(summarizeDiskUsage(await diskUsageDetail(e)).find((u) => u.type === 'Images')!.total, 1);
    const check = await checkStore(e);
    assert.deepEqual(check.problems, []);
    assert.equal(check.images, 1);

    removeImage(e, name);
    // This process's lease still names what it pulled: prune keeps it until the lease is gone.
    e.lease.release();
    const pruned = await pruneStore(e);
    assert.ok(pruned.deletedBlobs > 0, 'the pulled blobs are reclaimed once nothing names them');
    assert.equal((await checkStore(e)).blobs, 0);
  });

  it('creates a container whose image is pulled when missing, lists, inspects and prunes it', async () => {
    const e = engine!;
    const name = `${reg!.host}/svc/bb:1`; // pushed by the case above, and gone from the store
    const log: string[] = [];
    const rec = await createContainer(
      e,
      {
        image: name,
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
        runtime: {},
        pull: 'missing',
      },
      { log: (s) => log.push(s) },
    );
    assert.match(log.join(''), new RegExp(`Unable to find image '${name}' locally`));
    assert.equal(findContainer(e, rec.name).id, rec.id);
    assert.deepEqual(
      (await listContainers(e, { all: true })).map((c) => c.id),
      [rec.id],
    );
    assert.deepEqual(await listContainers(e), [], 'a created container is not running');
    const [view] = await inspectObjects(e, [rec.id]);
    assert.equal((view as { Config: { Image: string } }).Config.Image, name);
    assert.deepEqual(await pruneContainers(e), [rec.id]);
    assert.deepEqual(await listContainers(e, { all: true }), []);
  });
});
