/** `--security-opt` values as docker takes or refuses them (its CLI's and daemon's checks). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSecurityOpts } from '../../src/runtime/security-opt.ts';

describe('parseSecurityOpts', () => {
  const accepted: Array<[string[], { noNewPrivileges: boolean; seccomp?: string; unconfinedSystemPaths: boolean }]> = [
    [[], { noNewPrivileges: false, seccomp: undefined, unconfinedSystemPaths: false }],
    [['no-new-privileges'], { noNewPrivileges: true, seccomp: undefined, unconfinedSystemPaths: false }],
    [['no-new-privileges=true'], { noNewPrivileges: true, seccomp: undefined, unconfinedSystemPaths: false }],
    [['no-new-privileges:1'], { noNewPrivileges: true, seccomp: undefined, unconfinedSystemPaths: false }],
    [['no-new-privileges', 'no-new-privileges=false'], { noNewPrivileges: false, seccomp: undefined, unconfinedSystemPaths: false }],
    [['seccomp=unconfined'], { noNewPrivileges: false, seccomp: 'unconfined', unconfinedSystemPaths: false }],
    [['seccomp:/p.json', 'seccomp=builtin'], { noNewPrivileges: false, seccomp: 'builtin', unconfinedSystemPaths: false }],
    [['apparmor=unconfined', 'label=disable', 'label:type:svirt_t'], { noNewPrivileges: false, seccomp: undefined, unconfinedSystemPaths: false }],
    [['systempaths=unconfined'], { noNewPrivileges: false, seccomp: undefined, unconfinedSystemPaths: true }],
  ];
  for (const [opts, want] of accepted) it(`takes ${JSON.stringify(opts)}`, () => assert.deepEqual(parseSecurityOpts(opts), want));

  const refused: Array<[string, string]> = [
    ['foo', 'Invalid --security-opt: "foo"'],
    ['disable', 'Invalid --security-opt: "disable"'],
    ['seccomp=', 'Invalid --security-opt: "seccomp="'],
    ['label=', 'Invalid --security-opt: "label="'],
    ['foo=bar', 'invalid --security-opt 2: "foo=bar"'],
    ['no-new-privileges=maybe', 'invalid --security-opt 2: "no-new-privileges=maybe"'],
    ['systempaths=confined', 'invalid --security-opt 2: "systempaths=confined"'],
    ['writable-cgroups=true', 'invalid --security-opt 2: "writable-cgroups=true"'],
  ];
  for (const [opt, message] of refused) {
    it(`refuses ${opt}`, () =>
      assert.throws(
        () => parseSecurityOpts([opt]),
        (e: Error & { code?: string }) => e.message === message && e.code === 'INVALID_ARGUMENT',
      ));
  }
});
