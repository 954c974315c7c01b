import { BerthError } from '../errors/index.ts';
import type { Platform } from './schema.ts';

const NODE_TO_OCI_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export function hostPlatform(): Platform {
  const architecture = NODE_TO_OCI_ARCH[process.arch] ?? process.arch;
  return architecture === 'arm64' ? { os: 'linux', architecture, variant: 'v8' } : { os: 'linux', architecture };
}

/** Parses `os/arch[/variant]` (also `arch` alone), normalizing aliases like docker does. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new BerthError('INVALID_ARGUMENT', `invalid platform "${s}"`, { hint: 'use os/arch[/variant], e.g. linux/arm64' });
  }
  let [os, arch, variant] = parts.length === 1 ? ['linux', parts[0], undefined] : parts;
  if (arch === 'x86_64' || arch === 'x86-64') arch = 'amd64';
  if (arch === 'aarch64') arch = 'arm64';
  if (arch === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (arch === 'arm' && variant === undefined) variant = 'v7';
  if (arch === 'amd64' && variant === 'v1') variant = undefined;
  return variant ? { os: os!, architecture: arch!, variant } : { os: os!, architecture: arch! };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** True when `candidate` can run where `want` is asked for (variant v8 is arm64's default). */
export function platformMatches(want: Platform, candidate: Platform): boolean {
  if (want.os !== candidate.os || want.architecture !== candidate.architecture) return false;
  const norm = (p: Platform) => (p.architecture === 'arm64' ? (p.variant ?? 'v8') : (p.variant ?? ''));
  return !want.variant || norm(want) === norm(candidate);
}
