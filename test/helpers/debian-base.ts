/**
 * The Debian bookworm base image examples/ml starts from, as a rootfs tarball that
 * scripts/make-debian-base.sh makes with debootstrap from the machine's apt mirror and caches
 * per day. The first call of the day takes a minute or two of debootstrap; later ones reuse it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './berth.ts';

/** Why a test that needs the base cannot run here, or undefined when it can. */
export function debianBaseMissing(): string | undefined {
  const debootstrap = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap'].some((p) => existsSync(p));
  return debootstrap ? undefined : 'debootstrap is not installed (scripts/setup.sh installs it)';
}

/** The path of today's base tarball, made when absent. */
export function debianBase(): string {
  const out = execFileSync(
    'bash',
    [
      '-c',
      `bash ${join(REPO, 'scripts', 'make-debian-base.sh')} > /dev/null && ls -1 "\${BERTH_CACHE:-/var/cache/berth}"/debian-bookworm-minbase-$(date +%Y%m%d).tar`,
    ],
    {
      timeout: 600_000,
    },
  );
  return out.toString().trim();
}
