/**
 * Seccomp for containers, as Docker applies it: every container gets the default profile
 * (seccomp-default.ts) unless it is `--privileged` or `--security-opt seccomp=unconfined`;
 * `--security-opt seccomp=FILE` takes a profile in Docker's format. The profile's rules are
 * filtered for the container (the capabilities it has, the host's architecture, the kernel)
 * and written in the OCI runtime spec's form for runc.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { BerthError } from '../errors/index.ts';
import { DEFAULT_SECCOMP } from './seccomp-default.ts';
import { makeProfileSchema, type DockerSeccompProfile, type DockerSyscallRule } from './seccomp-profile.ts';
import { parseSecurityOpts } from './security-opt.ts';

let profileSchema: ReturnType<typeof makeProfileSchema> | undefined;

/** Node's process.arch → the Go names profiles use, and the native seccomp architecture. */
const HOST: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
};

function kernelAtLeast(min: string, have = release()): boolean {
  const [a, b] = have.split(/[.-]/).map(Number);
  const [x, y] = min.split('.').map(Number);
  return a! > x! || (a === x && b! >= y!);
}

/** The OCI `linux.seccomp` for a container with capabilities `caps` (names with CAP_). */
export function toOciSeccomp(profile: DockerSeccompProfile, caps: readonly string[], arch = process.arch): Record<string, unknown> {
  const host = HOST[arch] ?? { go: arch, scmp: '' };
  const has = new Set(caps);
  const applies = (r: DockerSyscallRule) => {
    const inc = r.includes ?? {};
    const exc = r.excludes ?? {};
    if (inc.caps && !inc.caps.every((c) => has.has(c))) return false;
    if (inc.arches && !inc.arches.includes(host.go)) return false;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
    if (exc.caps?.some((c) => has.has(c))) return false;
    if (exc.arches?.includes(host.go)) return false;
    return true;
  };
  const mapped = profile.archMap?.find((m) => m.architecture === host.scmp);
  const architectures = profile.architectures?.length ? profile.architectures : mapped ? [mapped.architecture, ...(mapped.subArchitectures ?? [])] : [];
  const syscalls = (profile.syscalls ?? []).filter(applies).map((r) => ({
    names: r.names ?? (r.name ? [r.name] : []),
    action: r.action,
    ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
    ...(r.args?.length ? { args: r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
  }));
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    syscalls: syscalls.filter((s) => s.names.length),
  };
}

/** Reads a `--security-opt seccomp=FILE` profile, with a clear error for a bad one. */
export function readSeccompProfile(path: string): DockerSeccompProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BerthError('INVALID_ARGUMENT', `opening seccomp profile (${path}) failed: ${(e as Error).message}`);
  }
  try {
    return (profileSchema ??= makeProfileSchema()).parse(JSON.parse(text));
  } catch (e) {
    throw new BerthError('INVALID_ARGUMENT', `decoding seccomp profile (${path}) failed: ${(e as Error).message.split('\n')[0]}`, {
      hint: 'the file must be a Docker seccomp profile (JSON with defaultAction and syscalls)',
    });
  }
}

/**
 * The seccomp part of a container's spec, or undefined for none: `--privileged` and
 * `seccomp=unconfined` run without a filter, as Docker runs them.
 */
export function seccompFor(opts: { privileged?: boolean; securityOpt?: readonly string[] }, caps: readonly string[]): Record<string, unknown> | undefined {
  const choice = parseSecurityOpts(opts.securityOpt).seccomp;
  if (choice === 'unconfined') return undefined;
  if (choice !== undefined && choice !== 'builtin') return toOciSeccomp(readSeccompProfile(choice), caps);
  if (opts.privileged) return undefined;
  // The same for every container with the same capabilities: a build's RUN steps share one.
  const key = caps.join(',');
  let spec = defaultByCaps.get(key);
  if (!spec) defaultByCaps.set(key, (spec = toOciSeccomp(DEFAULT_SECCOMP, caps)));
  return spec;
}

/** The default profile in OCI form, by capability set (read only: it goes into spec JSON as is). */
const defaultByCaps = new Map<string, Record<string, unknown>>();
