/**
 * BuildKit's cache keys for the steps berth maps onto its operations, as the BuildKit inside
 * docker 20.10's dockerd (v0.8) computes them, so that an inline cache berth writes gives that
 * BuildKit cache hits. A record's digest there is `rootKey(d, output)`, the sha256 of
 * "<d>@<output>", where d is the operation's CacheMap digest:
 * - FROM image (its source op): sha256 of "buildkit.source.v0:" and the image's chain ID;
 * - RUN (its exec op): sha256 of the Go JSON of {Type, Exec (the ExecOp: meta with args, env,
 *   cwd, user; network), OS, Arch}, where a RUN with only its root mount leaves the mounts out;
 * - COPY and WORKDIR (file ops): sha256 of the Go JSON of {Type, Actions}, each action its own
 *   JSON (base64 in the outer one), a copy's source reduced to its base name.
 * An operation's inputs are not in its digest: they are the record's links. A COPY's link to
 * its source is a record of its own, rootKey(content digest, -1): the digest of the selected
 * paths' checksums (BuildKit's contenthash), each file a v1 tarsum header and its bytes.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Digest } from '../../oci/digest.ts';
import { createSha256, sha256 } from '../../sys/crypto.ts';
import type { CacheRecord } from './format.ts';

/** A BuildKit cache record as berth computed it: its digest, the records it links from, and the layers of its result. */
export interface LlbNode {
  readonly digest: string;
  /** Per input of the operation, the records that stand for it. */
  readonly inputs: readonly (readonly LlbNode[])[];
  /** The result: the stage's layers after the step, bottom first (its top layer is the step's). */
  readonly result?: readonly Digest[];
}

/** Go's encoding/json text for a value: `<`, `>`, `&`, U+2028/9 and control characters as \u escapes, as Go writes them. */
export function goJson(value: unknown): string {
  // Pairs first, so an escaped backslash is never read as the start of \b or \f.
  return JSON.stringify(value).replace(/\\(.)|[<>&\u2028\u2029]/g, (m, escaped: string | undefined) => {
    if (escaped === 'b') return '\\u0008';
    if (escaped === 'f') return '\\u000c';
    if (escaped !== undefined) return m;
    return `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const hex = (s: string | Buffer) => createSha256().update(s).digest('hex');

/** solver.rootKey: the record digest of an operation's output. */
export function rootKey(opDigest: string, output: number): string {
  return `sha256:${hex(`${opDigest}@${output}`)}`;
}

/** identity.ChainID of an image's diffIDs. */
export function chainId(diffIds: readonly string[]): string {
  let chain = diffIds[0]!;
  for (const d of diffIds.slice(1)) chain = sha256(`${chain} ${d}`);
  return chain;
}

/** FROM an image (moby's puller, its config key): the image's chain ID. */
export function imageSourceNode(diffIds: readonly Digest[]): LlbNode {
  return { digest: rootKey(sha256(`buildkit.source.v0:${chainId(diffIds)}`), 0), inputs: [] };
}

export interface ExecMeta {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  /** BuildKit's NetMode: 0 sandbox (the default), 1 host, 2 none. */
  readonly network: number;
  readonly platform: { readonly os: string; readonly architecture: string; readonly variant?: string };
  /** `--mount=type=cache`: the absolute target, the cache ID as dockerfile2llb makes it, the sharing. */
  readonly cacheMounts?: readonly { readonly dest: string; readonly id: string; readonly sharing: 'shared' | 'private' | 'locked' }[];
}

const SHARING = { shared: 0, private: 1, locked: 2 } as const;

/** The exec op's CacheMap digest for a RUN with only its root mount. */
export function execDigest(m: ExecMeta): string {
  const meta: Record<string, unknown> = { args: m.args };
  if (m.env.length) meta.env = m.env;
  if (m.cwd) meta.cwd = m.cwd;
  if (m.user) meta.user = m.user;
  const exec: Record<string, unknown> = { meta };
  // The root mount alone is left out of the key (execOp.CacheMap); with cache mounts, all are in, sorted by target.
  if (m.cacheMounts?.length) {
    const mounts: { dest: string; [k: string]: unknown }[] = [
      { input: 0, dest: '/', output: 0 },
      ...m.cacheMounts.map((c) => ({
        input: -1,
        dest: c.dest,
        output: -1,
        mountType: 3,
        cacheOpt: { ID: c.id, ...(SHARING[c.sharing] ? { sharing: SHARING[c.sharing] } : {}) },
      })),
    ];
    exec.mounts = mounts.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  }
  if (m.network) exec.network = m.network;
  const doc: Record<string, unknown> = { Type: 'buildkit.exec.v0', Exec: exec, OS: m.platform.os, Arch: m.platform.architecture };
  if (m.platform.variant) doc.Variant = m.platform.variant;
  return sha256(goJson(doc));
}

/**
 * A file op's CacheMap digest. `indexes`: each action's input, secondary input and output,
 * left out where they follow the pattern older BuildKits keyed without (isDefaultIndexes).
 */
function fileOpDigest(actions: readonly Record<string, unknown>[], indexes: readonly (readonly number[])[]): string {
  const n = indexes.length;
  const isDefault = indexes.every(
    ([input, secondary, output], i) => input === (i === 0 ? 0 : n + i - 1) && (secondary === -1 || secondary === 1) && output === (i === n - 1 ? 0 : -1),
  );
  const doc: Record<string, unknown> = { Type: 'buildkit.file.v0', Actions: actions.map((a) => Buffer.from(goJson(a)).toString('base64')) };
  if (!isDefault) doc.indexes = indexes;
  return sha256(goJson(doc));
}

/**
 * llb.WithUser's owner: "user[:group]", each part an ID ("root" is 0) or a name looked up in
 * the op's input 0. Go's omitempty leaves an ID of 0 out: {"User":{}}.
 */
function chownOpt(user: string): Record<string, unknown> {
  const part = (v: string) => {
    const id = v === 'root' ? 0 : /^\+?\d+$/.test(v) && Number(v) <= 0x7fffffff ? Number(v) : undefined;
    if (id === undefined) return { User: { byName: { name: v, input: 0 } } };
    return { User: id ? { byID: id } : {} };
  };
  const [u, g] = user.split(/:(.*)/s);
  return { user: part(u!), ...(g !== undefined ? { group: part(g) } : {}) };
}

/** WORKDIR's mkdir (mode 0755, with parents), owned by the stage's USER when there is one. */
export function mkdirDigest(path: string, user = ''): string {
  return fileOpDigest([{ path, mode: 0o755, makeParents: true, ...(user ? { owner: chownOpt(user) } : {}), timestamp: -1 }], [[0, -1, 0]]);
}

/** A COPY's or ADD's options as dockerfile2llb gives them to each copy action. */
export interface CopyOptions {
  /** ADD: a local archive is unpacked. */
  readonly unpack?: boolean;
  /** --chown, as written (names are looked up in the stage's /etc/passwd and /etc/group). */
  readonly chown?: string;
  /** --chmod, parsed as octal; -1 (keep the source's) when absent or unreadable. */
  readonly mode?: number;
}

/** COPY or ADD of context paths into `dest` (as dockerfile2llb makes it: one action per source, each chained on the last). */
export function copyDigest(sources: readonly string[], dest: string, opts: CopyOptions = {}): string {
  return fileOpDigest(
    sources.map((src) => ({
      src: src === '/' ? '/' : posix.basename(src),
      dest,
      // Every action's owner names input 0 (the stage), where its /etc/passwd is.
      ...(opts.chown ? { owner: chownOpt(opts.chown) } : {}),
      mode: opts.mode ?? -1,
      followSymlink: true,
      dirCopyContents: true,
      ...(opts.unpack ? { attemptUnpackDockerCompatibility: true } : {}),
      createDestPath: true,
      allowWildcard: true,
      allowEmptyWildcard: true,
      timestamp: -1,
    })),
    // Inputs 0 (the stage) and 1 (the context); an action after the first works on the one before it (input 2 + i - 1).
    sources.map((_, i) => [i === 0 ? 0 : 2 + i - 1, 1, i === sources.length - 1 ? 0 : -1]),
  );
}

/** Go's strconv.ParseUint(s, 8, 32) as dockerfile2llb reads --chmod; undefined where it fails. */
export function octalMode(s: string): number | undefined {
  if (!/^[0-7]+$/.test(s)) return undefined;
  const n = Number.parseInt(s, 8);
  return n <= 0xffffffff ? n | 0 : undefined;
}

/** The v1 tarsum header fields BuildKit hashes for an entry (no name, no mtime, uid and gid 0). */
function tarsumHeader(mode: number, size: number, type: '0' | '2' | '5', link = ''): string {
  return `namemode${mode}uid0gid0size${size}typeflag${type}linkname${link}unamegnamedevmajor0devminor0`;
}

/** Go's tar mode bits of a file mode: the permissions with setuid, setgid and sticky. */
const tarMode = (mode: number) => mode & 0o7777;

/** What a context entry cannot be hashed as BuildKit hashes it: the caller then writes no key. */
export class UnsupportedForKeys extends Error {}

/**
 * contenthash.Checksum of a context path (relative to `root`, followed as COPY follows it):
 * a file's is its tarsum (header, then bytes); a dir's the sha256 over "\0" and its own
 * header's digest, then each child's "\0name" and checksum, names in byte order.
 * `skip(rel)`: entries .dockerignore leaves out (which the client never sends).
 */
export async function contextChecksum(root: string, rel: string, skip: (rel: string) => boolean): Promise<string> {
  const abs = join(root, rel);
  const st = await lstat(abs);
  if (st.isSymbolicLink()) throw new UnsupportedForKeys(`${rel} is a symlink`);
  if (st.isFile()) {
    const h = createSha256().update(tarsumHeader(tarMode(st.mode), st.size, '0'));
    for await (const chunk of createReadStream(abs)) h.update(chunk as Buffer);
    return `sha256:${h.digest('hex')}`;
  }
  if (!st.isDirectory()) throw new UnsupportedForKeys(`${rel} is neither a file nor a directory`);
  // The context root's header is no entry the client sent: BuildKit gives it the digest of nothing.
  const header = rel === '' ? sha256('') : `sha256:${hex(tarsumHeader(tarMode(st.mode), 0, '5'))}`;
  const h = createSha256().update('\0').update(header);
  const names = (await readdir(abs)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    if (skip(childRel)) continue;
    const child = await lstat(join(abs, name));
    if (child.isSymbolicLink()) throw new UnsupportedForKeys(`${childRel} is a symlink (${await readlink(join(abs, name))})`);
    h.update(`\0${name}`).update(await contextChecksum(root, childRel, skip));
  }
  return `sha256:${h.digest('hex')}`;
}

/** The record of a COPY's context input: the digest of its selected paths' checksums (deduplicated, sorted), at output -1. */
export async function copySourceNode(root: string, sources: readonly string[], skip: (rel: string) => boolean): Promise<LlbNode> {
  const all = [...new Set(sources)];
  const paths = all.filter((p) => !all.some((q) => p !== q && p.startsWith(`${q}/`))).sort();
  const sums: string[] = [];
  for (const p of paths) {
    // No component on the way is a symlink: nothing outside the context is read, even hashed.
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      if ((await lstat(join(root, ...parts.slice(0, i)))).isSymbolicLink()) throw new UnsupportedForKeys(`${p} is below a symlink`);
    }
    sums.push(await contextChecksum(root, p.slice(1), skip));
  }
  return { digest: rootKey(sha256(sums.join('\0')), -1), inputs: [] };
}

/**
 * The records of `top` and every record it links from, for an inline cache whose image has
 * these layers: a record's result is its top layer's index where that layer is the image's;
 * `first` is the index the first of them will have in the whole list (links count from 0).
 */
export function llbInlineRecords(top: LlbNode, imageDiffIds: readonly Digest[], createdAt: string, first: number): CacheRecord[] {
  const out: CacheRecord[] = [];
  const index = new Map<string, number>();
  const add = (n: LlbNode): number => {
    const known = index.get(n.digest);
    if (known !== undefined) return known;
    const inputs = n.inputs.map((links) => links.map((l) => ({ selector: '', link: add(l) })));
    const r = n.result;
    const top = r && r.length <= imageDiffIds.length && r.every((d, j) => d === imageDiffIds[j]) ? r.length - 1 : undefined;
    const i = first + out.length;
    index.set(n.digest, i);
    out.push({
      digest: n.digest,
      ...(top !== undefined ? { layers: [{ layer: top, createdAt }] } : {}),
      ...(inputs.length ? { inputs } : {}),
    });
    return i;
  };
  add(top);
  return out;
}

/** The records of `top` and every record it links from, in link order (a record after those it links from), for a cache config. */
export function llbExportRecords(top: LlbNode): { key: string; inputs: string[][]; diffIds: readonly Digest[] }[] {
  const out: { key: string; inputs: string[][]; diffIds: readonly Digest[] }[] = [];
  const seen = new Set<string>();
  const add = (n: LlbNode): void => {
    if (seen.has(n.digest)) return;
    for (const links of n.inputs) for (const l of links) add(l);
    seen.add(n.digest);
    out.push({ key: n.digest, inputs: n.inputs.map((links) => links.map((l) => l.digest)), diffIds: n.result ?? [] });
  };
  add(top);
  return out;
}
