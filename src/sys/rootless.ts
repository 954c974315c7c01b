/**
 * Whether this process is rootless: an ordinary user, or root only inside a user namespace that
 * an ordinary user owns. berth started by a user runs its verbs inside such a namespace, where
 * getuid() is 0, so code that must act differently there (the network through slirp4netns or
 * pasta, cgroup limits only with delegation, ports below the unprivileged limit) asks this
 * rather than the uid. The initial namespace maps every id onto itself, in one line.
 */
import { readFileSync } from 'node:fs';

let answer: boolean | undefined;

export function isRootless(): boolean {
  if (answer !== undefined) return answer;
  if (process.getuid?.() !== 0) return (answer = true);
  const map = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
  answer = !(map.length === 3 && map[0] === '0' && map[1] === '0' && map[2] === '4294967295');
  return answer;
}

/**
 * overlayfs keeps its marks (opaque dirs, redirects, metacopy) in `trusted.overlay.*`, which
 * only the host's root may set. In a user namespace it is mounted with `userxattr` and keeps
 * them in `user.overlay.*`: the name a layer dir's mark has for this process.
 */
export function overlayXattr(name: 'opaque' | 'redirect' | 'metacopy'): string {
  return `${isRootless() ? 'user' : 'trusted'}.overlay.${name}`;
}

/** The mount options an overlay needs in this process's namespace (see overlayXattr). */
export function overlayNamespaceOptions(): readonly string[] {
  return isRootless() ? ['userxattr'] : [];
}
