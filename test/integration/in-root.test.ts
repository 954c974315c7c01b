/**
 * The in-root primitive (src/sys/in-root.ts): one table, run against openat2 (the addon) and
 * against the walk that serves without it. Every link that would leave the root on the host
 * must land inside it, or fail.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO } from '../helpers/berth.ts';
import { sys } from '../../src/sys/index.ts';
import {
  closeFd,
  fstatFd,
  hostPathOf,
  mkdirAllInRoot,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_PATH,
  openInRoot,
  openInRootWalk,
  openRoot,
  type OpenInRootOptions,
} from '../../src/sys/in-root.ts';

const base = mkdtempSync(join(tmpdir(), 'berth-inroot-'));
const root = join(base, 'root');
const outside = join(base, 'outside');
after(() => rmSync(base, { recursive: true, force: true }));

mkdirSync(join(root, 'etc'), { recursive: true });
mkdirSync(join(root, 'dir', 'sub'), { recursive: true });
mkdirSync(outside);
writeFileSync(join(outside, 'secret'), 'host');
writeFileSync(join(root, 'etc', 'passwd'), 'inside');
writeFileSync(join(root, 'file'), 'f');
const links: Array<[string, string]> = [
  ['abs', '/etc'],
  ['rel', '../../../etc'],
  ['esc', '../outside'],
  ['hostabs', outside],
  ['loop1', 'loop2'],
  ['loop2', 'loop1'],
  ['dirlink', 'dir'],
  ['chain', 'abs'],
  ['dangling', '/nonexistent/x'],
  ['dir/sub/uplink', '../../etc'],
  ['dir/sub/dotdot', '..'],
];
for (const [p, target] of links) symlinkSync(target, join(root, p));

type Open = (rootFd: number, rel: string, opts?: OpenInRootOptions) => number;
const impls: Array<[string, Open | undefined]> = [
  ['openat2', sys()?.openat2 ? openInRoot : undefined],
  ['walk', openInRootWalk],
];

/** The opened file's path relative to the root, or the error code. */
function landed(open: Open, rel: string, opts: OpenInRootOptions = {}): string {
  const rootFd = openRoot(root);
  try {
    const fd = open(rootFd, rel, opts);
    try {
      const host = hostPathOf(fd);
      return host === root ? '/' : host.startsWith(`${root}/`) ? host.slice(root.length + 1) : `OUTSIDE:${host}`;
    } finally {
      closeFd(fd);
    }
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  } finally {
    closeFd(rootFd);
  }
}

const follow = { followFinal: true };
const cases: Array<{ rel: string; opts?: OpenInRootOptions; want: string }> = [
  { rel: 'etc/passwd', want: 'etc/passwd' },
  { rel: '/etc/passwd', want: 'etc/passwd' },
  { rel: '', want: '/' },
  { rel: '..', want: '/' },
  { rel: 'abs/passwd', want: 'etc/passwd' },
  { rel: 'rel/passwd', want: 'etc/passwd' },
  { rel: 'chain/passwd', want: 'etc/passwd' },
  { rel: '../../etc/passwd', want: 'etc/passwd' },
  { rel: 'dir/../../../etc', want: 'etc' },
  { rel: 'dirlink/sub', want: 'dir/sub' },
  { rel: 'dir/sub/uplink/passwd', want: 'etc/passwd' },
  { rel: 'dir/sub/dotdot/sub/dotdot/../../file', want: 'file' },
  { rel: 'abs', want: 'abs' },
  { rel: 'abs', opts: follow, want: 'etc' },
  { rel: 'esc', opts: follow, want: 'ENOENT' },
  { rel: 'esc/secret', want: 'ENOENT' },
  { rel: 'hostabs/secret', want: 'ENOENT' },
  { rel: 'dangling', opts: follow, want: 'ENOENT' },
  { rel: 'loop1', opts: follow, want: 'ELOOP' },
  { rel: 'loop1/x', want: 'ELOOP' },
  { rel: 'file/x', want: 'ENOTDIR' },
  { rel: 'missing/x', want: 'ENOENT' },
  { rel: 'abs', opts: { flags: O_PATH | O_DIRECTORY, followFinal: true }, want: 'etc' },
  { rel: 'file', opts: { flags: O_PATH | O_DIRECTORY, followFinal: true }, want: 'ENOTDIR' },
  { rel: 'abs', opts: { flags: constants.O_RDONLY }, want: 'ELOOP' },
  { rel: 'abs/passwd', opts: { flags: constants.O_RDONLY, followFinal: true }, want: 'etc/passwd' },
  // A create never follows its last component: the link itself is there, so O_EXCL fails.
  { rel: 'dangling', opts: { flags: constants.O_WRONLY | O_CREAT | O_EXCL, followFinal: true }, want: 'EEXIST' },
  { rel: 'hostabs', opts: { flags: constants.O_WRONLY | O_CREAT | O_EXCL }, want: 'EEXIST' },
];

for (const [name, open] of impls) {
  describe(`in-root open: ${name}`, { skip: open ? false : 'the addon has no openat2 (not built)' }, () => {
    for (const c of cases) {
      it(`${c.rel || '(root)'} ${c.opts ? JSON.stringify(c.opts) : ''} -> ${c.want}`, () => {
        assert.equal(landed(open!, c.rel, c.opts), c.want);
      });
    }

    it('creates through an absolute link inside the root, with O_EXCL', () => {
      const leaf = `new-${name}`;
      assert.equal(landed(open!, `abs/${leaf}`, { flags: constants.O_WRONLY | O_CREAT | O_EXCL, mode: 0o600 }), `etc/${leaf}`);
      assert.ok(existsSync(join(root, 'etc', leaf)));
      assert.equal(landed(open!, `abs/${leaf}`, { flags: constants.O_WRONLY | O_CREAT | O_EXCL }), 'EEXIST');
    });

    it('an O_PATH fd of a symlink is the link itself', () => {
      const rootFd = openRoot(root);
      const fd = open!(rootFd, 'hostabs');
      assert.ok(fstatFd(fd).isSymbolicLink());
      closeFd(fd);
      closeFd(rootFd);
    });
  });
}

describe('mkdirAllInRoot', () => {
  it('makes missing dirs through links, inside the root', () => {
    const rootFd = openRoot(root);
    try {
      const fd = mkdirAllInRoot(rootFd, 'abs/made/deep', 0o750);
      assert.equal(hostPathOf(fd), join(root, 'etc', 'made', 'deep'));
      assert.equal(fstatFd(fd).mode & 0o777, 0o750);
      closeFd(fd);
      assert.throws(() => mkdirAllInRoot(rootFd, 'hostabs/x'), { code: 'ENOENT' });
      assert.throws(() => mkdirAllInRoot(rootFd, 'file/x'), { code: 'ENOTDIR' });
      assert.deepEqual(readdirSync(outside), ['secret']);
    } finally {
      closeFd(rootFd);
    }
  });
});

describe('without the addon (BERTH_NO_NATIVE=1)', () => {
  it('openInRoot walks, and lands in the same places', () => {
    const script = `import { openRoot, openInRoot, hostPathOf } from './src/sys/in-root.ts';
      const r = openRoot(${JSON.stringify(root)});
      console.log(hostPathOf(openInRoot(r, 'rel/passwd')));
      try { openInRoot(r, 'hostabs/secret'); } catch (e) { console.log(e.code); }`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      env: { ...process.env, BERTH_NO_NATIVE: '1' },
    }).toString();
    assert.equal(out, `${join(root, 'etc', 'passwd')}\nENOENT\n`);
  });
});
