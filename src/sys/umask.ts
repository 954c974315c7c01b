/**
 * berth works with docker's daemon's umask, 022, whatever the caller's. berth has no daemon:
 * it inherited the shell's umask, and a hardened root's 077 made a container's upper dir, so
 * its `/`, 0700, and its /etc/hosts, volume `_data`, WORKDIR and the mount points runc makes
 * unreadable to a `--user 1000` process. The modes a container sees must be the image's and
 * docker's, and privacy on the host comes from the 0700 roots (store/private-root.ts), not
 * from the umask. Files written for the caller (`save -o`, `build --output`, `--iidfile`)
 * keep the caller's umask, as docker's CLI, which writes them, does.
 */
export const ENGINE_UMASK = 0o022;

let caller: number | undefined;

/** Sets the engine's umask, once, at the CLI's start; remembers the caller's. */
export function useEngineUmask(): void {
  caller ??= process.umask(ENGINE_UMASK);
}

/**
 * The mode to create a caller's file (0o666) or dir (0o777) with: the caller's umask applied.
 * The engine's umask still applies on top: only a caller umask looser than 022 differs.
 */
export function callerMode(base: 0o666 | 0o777): number {
  return base & ~(caller ?? ENGINE_UMASK);
}
