/**
 * An ordinary user's subordinate ids, from /etc/subuid and /etc/subgid (shadow's format:
 * `NAME-OR-UID:START:COUNT` per line). berth maps the first range of each as ids 1 and up of
 * the user namespace its verbs run in, as rootless Podman does, so an image's uid 1000 is a
 * real, distinct id outside. An image may own files by any id up to 65535 (nobody is 65534),
 * so fewer than 65,536 ids would leave some of its files unowned.
 */
import { readFileSync } from 'node:fs';
import { BerthError } from '../errors/index.ts';

/** The ids a user namespace needs beyond the user's own: 1 to 65536, as Podman asks. */
export const NEEDED_IDS = 65536;

export interface IdRange {
  readonly start: number;
  readonly count: number;
}

export type IdKind = 'uid' | 'gid';

/** The first range the file grants `name` (or `id`), or undefined: shadow's rule, by name or by number. */
export function parseSubordinateRange(text: string, name: string, id: number): IdRange | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [owner, start, count] = line.split(':');
    if (owner !== name && owner !== String(id)) continue;
    if (!/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) continue;
    const range = { start: Number(start), count: Number(count) };
    if (range.count > 0 && Number.isSafeInteger(range.start + range.count)) return range;
  }
  return undefined;
}

/** The addition an admin runs once for a user, in the errors' hints and the README. */
export function usermodLine(name: string): string {
  return `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name}`;
}

/**
 * The user's range from `file` (/etc/subuid or /etc/subgid), checked: an error that names the
 * fix when there is none or it is too small for an image's ids.
 */
export function subordinateRange(kind: IdKind, name: string, id: number, file = kind === 'uid' ? '/etc/subuid' : '/etc/subgid'): IdRange {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // No file is no entry: the same fix.
  }
  const range = parseSubordinateRange(text, name, id);
  if (!range) {
    throw new BerthError('FAILED_PRECONDITION', `rootless berth: no subordinate ${kind}s for user ${name} in ${file}`, {
      hint: `an administrator gives them once: ${usermodLine(name)}`,
    });
  }
  if (range.count < NEEDED_IDS) {
    throw new BerthError(
      'FAILED_PRECONDITION',
      `rootless berth: potentially insufficient UIDs or GIDs available in user namespace: ${file} gives ${name} only ${range.count} ${kind}s, an image may use ${NEEDED_IDS}`,
      { hint: `an administrator gives a full range once: ${usermodLine(name)}` },
    );
  }
  return range;
}
