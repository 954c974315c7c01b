/**
 * `--user name|uid[:group|gid]` resolved against the image's /etc/passwd and /etc/group,
 * as Docker does: a numeric uid needs no passwd entry; a name must exist; supplementary
 * groups come from /etc/group membership.
 */
import { BerthError } from '../errors/index.ts';
import { readFileInRoot } from '../sys/in-root.ts';

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: number[];
  readonly home: string;
  readonly name?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * A small file of the rootfs (passwd, group), read in line through an in-root fd (a running
 * container's process may swap it for a link to a host file); '' when it is missing.
 */
async function readRootFile(rootfs: string, path: string): Promise<string> {
  try {
    return readFileInRoot(rootfs, path) ?? '';
  } catch {
    return '';
  }
}

function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    if (f.length < 7 || l.startsWith('#')) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }];
  });
}

function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    if (f.length < 4 || l.startsWith('#')) return [];
    return [{ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }];
  });
}

const isNum = (s: string) => /^\d+$/.test(s);

export async function resolveUser(rootfs: string, spec: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  const [userPart = '', groupPart] = spec.split(':');
  const passwd = parsePasswd(await readRootFile(rootfs, '/etc/passwd'));
  const groups = parseGroup(await readRootFile(rootfs, '/etc/group'));
  const user =
    userPart === ''
      ? (passwd.find((p) => p.uid === 0) ?? { name: 'root', uid: 0, gid: 0, home: '/root' })
      : isNum(userPart)
        ? passwd.find((p) => p.uid === Number(userPart))
        : passwd.find((p) => p.name === userPart);
  if (!user && !isNum(userPart)) {
    throw new BerthError('INVALID_ARGUMENT', `unable to find user ${userPart}: no matching entries in passwd file`);
  }
  const uid = user?.uid ?? Number(userPart);
  let gid = user?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (isNum(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new BerthError('INVALID_ARGUMENT', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additional = new Set<number>();
  if (user && groupPart === undefined) for (const g of groups) if (g.members.includes(user.name)) additional.add(g.gid);
  for (const ga of groupAdd) {
    if (isNum(ga)) additional.add(Number(ga));
    else {
      const g = groups.find((x) => x.name === ga);
      if (!g) throw new BerthError('INVALID_ARGUMENT', `unable to find group ${ga}: no matching entries in group file`);
      additional.add(g.gid);
    }
  }
  // Docker always lists the primary gid among the supplementary groups too.
  additional.add(gid);
  return { uid, gid, additionalGids: [...additional], home: user?.home || '/', name: user?.name };
}
