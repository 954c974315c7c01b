/**
 * Which metadata calls the layer applier makes for a new file: the common case (the
 * extracting user's ids, a plain mode, a parent dir without setgid) needs neither chown nor
 * chmod; everything else still gets them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileMetaCalls } from '../../src/layer/apply.ts';

const uid = process.geteuid!();
const gid = process.getegid!();

describe('fileMetaCalls', () => {
  const cases: Array<{
    name: string;
    mode: number;
    uid?: number;
    gid?: number;
    plainParent?: boolean;
    mask?: number;
    want: { createMode: number; chown: boolean; chmod: boolean };
  }> = [
    { name: 'own ids, 0644, plain parent', mode: 0o100644, want: { createMode: 0o644, chown: false, chmod: false } },
    { name: 'own ids, 0755, plain parent', mode: 0o100755, want: { createMode: 0o755, chown: false, chmod: false } },
    { name: 'read-only file is still created with its mode', mode: 0o100444, want: { createMode: 0o444, chown: false, chmod: false } },
    { name: 'parent may be setgid (unknown or set)', mode: 0o100644, plainParent: false, want: { createMode: 0o644, chown: true, chmod: false } },
    { name: 'other uid', mode: 0o100644, uid: uid + 1, want: { createMode: 0o644, chown: true, chmod: false } },
    { name: 'other gid', mode: 0o100644, gid: gid + 1, want: { createMode: 0o644, chown: true, chmod: false } },
    { name: 'bits the umask drops', mode: 0o100666, want: { createMode: 0o600, chown: false, chmod: true } },
    { name: 'no umask: 0666 directly', mode: 0o100666, mask: 0, want: { createMode: 0o666, chown: false, chmod: false } },
    { name: 'setuid goes through chmod', mode: 0o104755, want: { createMode: 0o600, chown: false, chmod: true } },
    { name: 'setgid with other ids: chown, then chmod', mode: 0o102711, uid: 1234, want: { createMode: 0o600, chown: true, chmod: true } },
    { name: 'sticky goes through chmod', mode: 0o101644, mask: 0, want: { createMode: 0o600, chown: false, chmod: true } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = fileMetaCalls({ mode: c.mode, uid: c.uid ?? uid, gid: c.gid ?? gid }, c.plainParent ?? true, c.mask ?? 0o022);
      assert.deepEqual(got, c.want);
    });
  }
});
