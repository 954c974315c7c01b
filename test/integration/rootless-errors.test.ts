/**
 * The classic rootless failures, each one line naming its fix (sys/userns.ts, sys/subids.ts):
 * a user with no subordinate ids, with too few, without newuidmap on PATH, and without a
 * usable XDG_RUNTIME_DIR. Nothing is started for any of them: no holder is left behind.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSubordinateRange } from '../../src/sys/subids.ts';
import { isHolder, recordedHolder } from '../../src/sys/userns.ts';
import { REPO } from '../helpers/berth.ts';
import { makeUser, type TestUser } from '../helpers/rootless-user.ts';

describe('rootless berth: errors', () => {
  const users: TestUser[] = [];
  let none: TestUser;
  let few: TestUser;
  let full: TestUser;
  before(() => {
    none = makeUser(null);
    few = makeUser('300000-300999');
    full = makeUser('301000-366535');
    users.push(none, few, full);
  });
  after(() => {
    for (const u of users) u.remove();
  });

  const oneError = (r: { code: number; stdout: string; stderr: string }, message: RegExp, hint: RegExp) => {
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, message);
    assert.match(lines[1]!, hint);
  };

  test('no entry in /etc/subuid: the usermod line that adds one', () => {
    const r = none.berth(['images']);
    oneError(
      r,
      new RegExp(`^berth: Error: rootless berth: no subordinate uids for user ${none.name} in /etc/subuid$`),
      new RegExp(`^hint: .*usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${none.name}$`),
    );
    assert.equal(existsSync(join(none.runDir, 'berth', 'userns.pid')), false);
  });

  test('fewer than 65,536 ids: "potentially insufficient UIDs"', () => {
    const r = few.berth(['run', '--rm', '--network', 'none', 'bb:1', 'true']);
    oneError(
      r,
      /potentially insufficient UIDs or GIDs available in user namespace: \/etc\/subuid gives .* only 1000 uids, an image may use 65536$/,
      /^hint: .*usermod --add-subuids/,
    );
    assert.equal(r.code, 125, 'run says its own failure with 125');
  });

  test('a tun device the user may not open (root-only, as on some machines): the chmod that fixes it', () => {
    const dir = mkdtempSync('/tmp/berth-tun-');
    const tun = join(dir, 'tun');
    try {
      writeFileSync(tun, '', { mode: 0o600 });
      chmodSync(dir, 0o755);
      const script = join(dir, 'check.mjs');
      writeFileSync(
        script,
        `import(${JSON.stringify(join(REPO, 'src/network/rootless/helper.ts'))}).then((m) => { try { m.checkTunDevice(process.argv[2]); console.log('open'); } catch (e) { console.log(e.code, e.message, '|', e.hint); } });`,
        { mode: 0o644 },
      );
      const r = full.sh(`node --import file://${REPO}/node_modules/tsx/dist/loader.mjs ${script} ${tun}`);
      assert.match(r.stdout, new RegExp(`^UNAVAILABLE rootless networking needs ${tun}, which this user may not open \\| .*chmod 0666 ${tun}`), r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('newuidmap missing (not on PATH): apt-get install uidmap', () => {
    const r = full.berth(['images'], { env: { PATH: '/nonexistent' }, node: true });
    oneError(r, /^berth: Error: rootless berth: newuidmap is not installed \(or not on PATH\)$/, /^hint: .*apt-get install uidmap$/);
  });

  test('XDG_RUNTIME_DIR unset, or not the user own dir', () => {
    oneError(full.berth(['images'], { env: { XDG_RUNTIME_DIR: undefined } }), /rootless berth: XDG_RUNTIME_DIR is not set$/, /^hint: .*XDG_RUNTIME_DIR/);
    const other = mkdtempSync('/tmp/berth-not-mine-');
    try {
      oneError(
        full.berth(['images'], { env: { XDG_RUNTIME_DIR: other } }),
        /XDG_RUNTIME_DIR \/tmp\/berth-not-mine-\S+ is owned by uid 0, not by this user/,
        /^hint: /,
      );
      oneError(full.berth(['images'], { env: { XDG_RUNTIME_DIR: '/nonexistent/run' } }), /XDG_RUNTIME_DIR \/nonexistent\/run is missing$/, /^hint: /);
      chownSync(other, full.uid, full.gid);
      const ok = full.berth(['images'], { env: { XDG_RUNTIME_DIR: other } });
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(readdirSync(join(other, 'berth')).includes('userns.pid'), true);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('help and --version answer without entering (and without subordinate ids)', () => {
    const r = none.berth(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^berth version /);
  });

  test('/etc/subuid lines: by name or by uid, the first range, malformed lines passed over', () => {
    const text = '# comment\nalice:100000:65536\nbob:x:65536\nbob:200000:0\n1002:300000:65536\nbob:400000:70000\n';
    assert.deepEqual(parseSubordinateRange(text, 'alice', 1001), { start: 100000, count: 65536 });
    assert.deepEqual(parseSubordinateRange(text, 'carol', 1002), { start: 300000, count: 65536 });
    assert.deepEqual(parseSubordinateRange(text, 'bob', 1003), { start: 400000, count: 70000 });
    assert.equal(parseSubordinateRange(text, 'dave', 1004), undefined);
    assert.equal(parseSubordinateRange('eve:9007199254740991:2\n', 'eve', 1), undefined);
  });

  test('a pid file is trusted only for a holder: garbage, pid 0 or 1, a process of another user or in this namespace are not', () => {
    const started = readFileSync(`/proc/${process.pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[19]!;
    assert.equal(isHolder(0, '0', 0), false);
    assert.equal(isHolder(1, '1', 0), false);
    assert.equal(isHolder(Number.NaN, started, 0), false);
    // This process: the right owner and start time, but not the holder's command nor another namespace.
    assert.equal(isHolder(process.pid, started, 0), false);
    const dir = mkdtempSync('/tmp/berth-pidfile-');
    try {
      for (const text of ['', 'abc', '0 0', '-1 5', `${process.pid}`, `${process.pid} ${started}`, '1 1 1', `../../${process.pid} 1`]) {
        writeFileSync(join(dir, 'userns.pid'), text);
        assert.equal(recordedHolder(dir, 0), undefined, text);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
