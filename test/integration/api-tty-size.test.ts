/** A `-t` container made through the API has the client's terminal size from its first instant. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { DOCKER_28, type ServeHandle, startServe } from '../helpers/api-server.ts';

describe('berth serve: a TTY container starts at the size the client sent', () => {
  let s: ServeHandle;
  before(async () => {
    s = await startServe();
    const r = berthIn(s.root, ['import', busyboxTar(), 'bb:1']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => s.stop());

  test('docker run -t under a 31x101 terminal: stty size inside says 31 101 at once', () => {
    const r = spawnSync('script', ['-qec', `stty rows 31 cols 101; ${DOCKER_28} run -t --rm bb:1 busybox stty size`, '/dev/null'], {
      env: { ...process.env, DOCKER_HOST: s.host },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.match(r.stdout.toString(), /^31 101\r?$/m);
  });

  test('a create body whose ConsoleSize is not two sizes is a 400', async () => {
    for (const size of [[1], [1, 2, 3], ['a', 'b'], [-1, 5]]) {
      const body = JSON.stringify({ Image: 'bb:1', Cmd: ['true'], Tty: true, HostConfig: { ConsoleSize: size } });
      const r = await s.request('POST', '/containers/create', { body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 400, `${JSON.stringify(size)}: ${r.body}`);
    }
  });
});
