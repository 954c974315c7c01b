/** Docker's seccomp profile filtered for a container, and custom profiles (table-driven). */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_CAPS } from '../../src/runtime/defaults.ts';
import { DEFAULT_SECCOMP } from '../../src/runtime/seccomp-default.ts';
import { seccompFor, toOciSeccomp } from '../../src/runtime/seccomp.ts';

type Rule = { names: string[]; action: string; errnoRet?: number; args?: unknown[] };
const oci = (caps: readonly string[], arch = 'x64') =>
  toOciSeccomp(DEFAULT_SECCOMP, caps, arch as NodeJS.Architecture) as {
    defaultAction: string;
    defaultErrnoRet: number;
    architectures: string[];
    syscalls: Rule[];
  };
/** Allowed with no condition on its arguments. */
const plainlyAllowed = (p: ReturnType<typeof oci>, name: string) => p.syscalls.some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args && r.names.includes(name));
const mentioned = (p: ReturnType<typeof oci>, name: string) => p.syscalls.some((r) => r.names.includes(name));

describe("the default profile for docker's default capabilities", () => {
  const p = oci(DEFAULT_CAPS);
  it('denies by default with EPERM, for x86_64 and its 32-bit ABIs', () => {
    assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(p.defaultErrnoRet, 1);
    assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });
  for (const name of ['read', 'write', 'execve', 'openat', 'chroot', 'arch_prctl', 'ptrace']) {
    it(`allows ${name}`, () => assert.ok(plainlyAllowed(p, name)));
  }
  for (const name of [
    'mount',
    'umount2',
    'unshare',
    'setns',
    'keyctl',
    'add_key',
    'bpf',
    'kexec_load',
    'open_by_handle_at',
    'reboot',
    'init_module',
    'set_tls',
  ]) {
    it(`does not allow ${name}`, () => assert.ok(!plainlyAllowed(p, name)));
  }
  it('allows clone only without namespace flags, and answers clone3 with ENOSYS', () => {
    const clone = p.syscalls.filter((r) => r.names.includes('clone'));
    assert.deepEqual(
      clone.map((r) => r.args),
      [[{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]],
    );
    assert.deepEqual(
      p.syscalls.find((r) => r.names.includes('clone3')),
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    );
  });
  it('allows socket except AF_VSOCK, and personality only for safe values', () => {
    assert.deepEqual(p.syscalls.find((r) => r.names.includes('socket'))?.args, [{ index: 0, value: 40, valueTwo: 0, op: 'SCMP_CMP_NE' }]);
    assert.equal(p.syscalls.filter((r) => r.names.includes('personality')).length, 5);
  });
});

describe('capabilities and architectures change the rules', () => {
  const cases: Array<[string, string[], string, string, boolean]> = [
    ['CAP_SYS_ADMIN allows mount', [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], 'x64', 'mount', true],
    ['CAP_SYS_ADMIN allows unshare', [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], 'x64', 'unshare', true],
    ['CAP_SYS_MODULE allows init_module', [...DEFAULT_CAPS, 'CAP_SYS_MODULE'], 'x64', 'init_module', true],
    ['dropping CAP_SYS_CHROOT drops chroot', DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT'), 'x64', 'chroot', false],
    ['arm64 allows set_tls', [...DEFAULT_CAPS], 'arm64', 'set_tls', true],
    ['arm64 has no arch_prctl', [...DEFAULT_CAPS], 'arm64', 'arch_prctl', false],
  ];
  for (const [name, caps, arch, syscall, want] of cases) {
    it(name, () => assert.equal(plainlyAllowed(oci(caps, arch), syscall), want));
  }
  it('with CAP_SYS_ADMIN clone3 is not refused', () =>
    assert.ok(!oci([...DEFAULT_CAPS, 'CAP_SYS_ADMIN']).syscalls.some((r) => r.names.includes('clone3') && r.action !== 'SCMP_ACT_ALLOW')));
  it('arm64 maps to aarch64 and arm', () => assert.deepEqual(oci(DEFAULT_CAPS, 'arm64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']));
  it('an unknown arch name is only mentioned, never a crash', () => assert.ok(!mentioned(oci(DEFAULT_CAPS, 'mips'), 'arch_prctl')));
});

describe('which profile a container gets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-unit-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  it('the default unless told otherwise', () => assert.equal((seccompFor({}, DEFAULT_CAPS) as { defaultAction: string }).defaultAction, 'SCMP_ACT_ERRNO'));
  it('none for --privileged', () => assert.equal(seccompFor({ privileged: true }, DEFAULT_CAPS), undefined));
  it('none for seccomp=unconfined (and the old seccomp:unconfined)', () => {
    assert.equal(seccompFor({ securityOpt: ['seccomp=unconfined'] }, DEFAULT_CAPS), undefined);
    assert.equal(seccompFor({ securityOpt: ['seccomp:unconfined'] }, DEFAULT_CAPS), undefined);
  });
  it('a custom profile file, even with --privileged', () => {
    const f = file('p.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }] }));
    assert.deepEqual(seccompFor({ privileged: true, securityOpt: [`seccomp=${f}`] }, DEFAULT_CAPS), {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: [],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    });
  });
  const bad: Array<[string, string, RegExp]> = [
    ['missing file', join(dir, 'nope.json'), /opening seccomp profile .* failed/],
    ['not JSON', file('bad.json', '{'), /decoding seccomp profile/],
    ['no defaultAction', file('nodefault.json', '{"syscalls":[]}'), /decoding seccomp profile/],
  ];
  for (const [name, path, message] of bad) {
    it(`a ${name} is a clear INVALID_ARGUMENT`, () =>
      assert.throws(
        () => seccompFor({ securityOpt: [`seccomp=${path}`] }, DEFAULT_CAPS),
        (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && message.test(e.message),
      ));
  }
});
