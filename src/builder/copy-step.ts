/**
 * COPY and ADD in two halves: `planCopy` finds the sources and their content digest (the
 * cache key input, computed without touching the rootfs), and `applyCopy` writes them into
 * a fresh overlay over the stage's layers, whose upperdir becomes the layer. With one source,
 * big files are fills (layer/file-chunks.ts): made empty, and copied beside the small files
 * and the layer's hashing.
 */
import { createReadStream, readlinkSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rm, writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';
import { copyFlags, IgnoreMatcher, pathGlob, processWord, type CopyFlags, type Instruction } from '../dockerfile/index.ts';
import { applyLayer } from '../layer/index.ts';
import { isTarArchive } from '../layer/magic.ts';
import { resolveUser } from '../runtime/index.ts';
import type { CommittedLayer } from '../snapshot/index.ts';
import { createSha256, randomHex } from '../sys/crypto.ts';
import type { BuildContext } from './context.ts';
import { closeFd, fdPath, fstatFd, hostPathOf, O_DIRECTORY, O_PATH, openInRoot, openRoot, splitLeaf } from '../sys/in-root.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { copyInto, mkdirInRoot, type PendingFill } from './copy-files.ts';
import { downloadUrl } from './download.ts';
import { envMap, expandWord, type StageState } from './state.ts';
import type { StepContext } from './step-context.ts';

type CopyInstruction = Extract<Instruction, { kind: 'copy' | 'add' }>;

interface SourceRoot {
  /** Host path to read from. */
  readonly abs: string;
  /** Name relative to its base, for --parents and file destinations. */
  readonly rel: string;
  readonly isDir: boolean;
  /** Downloaded by ADD from a URL: never auto-extracted, as in docker. */
  readonly remote?: boolean;
  /** Paths under this root to leave out (the context's .dockerignore). */
  readonly skip?: (rel: string) => boolean;
}

export interface CopyPlan {
  readonly roots: readonly SourceRoot[];
  readonly dest: string;
  readonly destIsDir: boolean;
  readonly digest: string;
  readonly cleanup: () => Promise<void>;
  readonly extractTars: boolean;
  /** The instruction's flags, expanded in the step's scope. */
  readonly flags: CopyFlags;
}

export interface CopyEnv {
  readonly context?: BuildContext;
  /** A mounted rootfs for `--from` (stage name, index or image) and a key for its content. */
  readonly rootfsOf: (from: string) => Promise<{ rootfs: string; key: string }>;
  readonly tmpDir: string;
}

async function hashTree(roots: readonly SourceRoot[]): Promise<string> {
  const h = createSha256();
  for (const r of roots) {
    const stack = [r.abs];
    while (stack.length) {
      const p = stack.pop()!;
      if (p !== r.abs && r.skip?.(posix.relative(r.abs, p))) continue;
      const st = await lstat(p);
      h.update(`${posix.relative(r.abs, p)}\0${st.mode}\0${st.size}\0`);
      if (st.isDirectory())
        stack.push(
          ...(await readdir(p))
            .sort()
            .reverse()
            .map((n) => join(p, n)),
        );
      else if (st.isFile()) for await (const c of createReadStream(p)) h.update(c as Buffer);
    }
  }
  return h.digest('hex');
}

/**
 * The sources of a COPY --from in the view's rootfs, each opened in-root and read below its
 * fd (`held`, closed by the plan's cleanup): a symlink of that image is followed inside it.
 */
async function globIn(rootfs: string, pattern: string, held: number[]): Promise<SourceRoot[]> {
  const clean = posix.normalize(`/${pattern}`);
  const rootFd = openRoot(rootfs);
  try {
    if (!/[*?[]/.test(clean)) {
      const found = openSource(rootFd, clean, held);
      if (!found) throw new BerthError('NOT_FOUND', `failed to compute cache key: "${clean}" not found`);
      return [{ abs: found.abs, rel: clean.slice(1), isDir: found.isDir }];
    }
    const dir = posix.dirname(clean);
    const re = pathGlob(posix.basename(clean));
    const dirFd = openDirOrUndefined(rootFd, dir);
    const out: SourceRoot[] = [];
    if (dirFd !== undefined) {
      held.push(dirFd);
      for (const n of (await readdir(fdPath(dirFd)).catch(() => [])).sort()) {
        if (!re.test(n)) continue;
        const st = await lstat(fdPath(dirFd, n));
        out.push({ abs: fdPath(dirFd, n), rel: posix.join(dir, n).slice(1), isDir: st.isDirectory() });
      }
    }
    if (!out.length) throw new BerthError('NOT_FOUND', `failed to compute cache key: no files match "${clean}"`);
    return out;
  } finally {
    closeFd(rootFd);
  }
}

function openDirOrUndefined(rootFd: number, dir: string): number | undefined {
  try {
    return openInRoot(rootFd, dir, { flags: O_PATH | O_DIRECTORY, followFinal: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * One source path, its last component followed too (as docker does): a name in its parent
 * dir's fd, so that a lstat there sees the file itself (a lstat of /proc/<pid>/fd/N would see
 * the magic link). A relative link's target is taken from where its dir really is in the
 * rootfs (its `..` then means what it means to the kernel).
 */
function openSource(rootFd: number, path: string, held: number[]): { abs: string; isDir: boolean } | undefined {
  let cur = path;
  for (let hops = 0; hops <= 40; hops++) {
    const { parent, leaf } = splitLeaf(cur);
    const dirFd = openDirOrUndefined(rootFd, parent);
    if (dirFd === undefined) return undefined;
    held.push(dirFd);
    if (leaf === undefined) return { abs: `${fdPath(dirFd)}/.`, isDir: true };
    const st = lstatOrUndefined(fdPath(dirFd, leaf));
    if (!st) return undefined;
    if (!st.isSymbolicLink()) return { abs: fdPath(dirFd, leaf), isDir: st.isDirectory() };
    const target = readlinkSync(fdPath(dirFd, leaf));
    cur = target.startsWith('/') ? target : `${relative(hostPathOf(rootFd), hostPathOf(dirFd))}/${target}`;
  }
  throw new BerthError('UNSAFE_PATH', `too many levels of symbolic links resolving "${path}"`);
}

/** ADD <url>: the body on disk in a dir of its own (two URLs may end in the same name). */
async function download(url: string, tmpDir: string, checksum?: string): Promise<SourceRoot & { digest: string }> {
  const dir = join(tmpDir, `url-${randomHex(4)}`);
  await mkdir(dir, { recursive: true });
  const got = await downloadUrl(url, dir, { checksum });
  return { abs: got.path, rel: got.name, isDir: false, remote: true, digest: `${got.name}:${got.digest}:${got.mtimeMs ?? ''}` };
}

export async function planCopy(inst: CopyInstruction, state: StageState, env: CopyEnv): Promise<CopyPlan> {
  const tmp = join(env.tmpDir, randomHex(6));
  const held: number[] = [];
  const cleanup = () => {
    held.splice(0).forEach(closeFd);
    return rm(tmp, { recursive: true, force: true });
  };
  try {
    return await planIn(tmp, cleanup, held, inst, state, env);
  } catch (e) {
    // A failed plan leaves nothing: a download that came whole before a later one broke.
    await cleanup();
    throw e;
  }
}

async function planIn(tmp: string, cleanup: () => Promise<void>, held: number[], inst: CopyInstruction, state: StageState, env: CopyEnv): Promise<CopyPlan> {
  const flags = copyFlags(inst.flags, (word) => expandWord(state, word));
  const from = flags.from;
  const roots: SourceRoot[] = [];
  let key = '';
  const contextDigests: string[] = [];
  if (inst.heredocs.length) {
    await mkdir(tmp, { recursive: true });
    for (const h of inst.heredocs) {
      const content = h.expand ? processWord(h.content, envMap(state), state.escape) : h.content;
      await writeFile(join(tmp, h.name), content, { mode: 0o644 });
      roots.push({ abs: join(tmp, h.name), rel: h.name, isDir: false });
    }
  }
  const sources = inst.sources.filter((s) => !/^<<-?/.test(s)).map((s) => expandWord(state, s));
  for (const s of sources) {
    if (inst.kind === 'add' && /^https?:\/\//.test(s)) {
      const { digest, ...root } = await download(s, tmp, flags.checksum);
      roots.push(root);
      key += `url:${digest};`;
    } else if (from) {
      const view = await env.rootfsOf(from);
      roots.push(...(await globIn(view.rootfs, s, held)));
      key += `${view.key}:${s};`;
    } else {
      if (!env.context)
        throw new BerthError('INVALID_ARGUMENT', `${inst.kind.toUpperCase()} ${s}: there is no build context`, {
          hint: 'build from a directory, or use COPY --from',
        });
      const ctx = env.context;
      const { roots: found, matched } = await ctx.select(s);
      contextDigests.push(await ctx.digestOf(matched, found.length === 1 && found[0]!.stat.isDirectory() ? found[0]!.rel : ''));
      const whole = found.length === 0; // `.`: the context root itself
      const list = whole ? [{ abs: ctx.dir, rel: '', stat: { isDirectory: () => true } }] : found;
      for (const f of list) {
        const skip = (rel: string) => ctx.matcher.matches(f.rel ? `${f.rel}/${rel}` : rel);
        roots.push({ abs: f.abs, rel: f.rel, isDir: f.stat.isDirectory(), skip });
      }
    }
  }
  const rawDest = expandWord(state, inst.dest);
  const workdir = state.config.config?.WorkingDir || '/';
  const dest = rawDest.startsWith('/') ? rawDest : posix.join(workdir, rawDest);
  const destIsDir = rawDest.endsWith('/') || rawDest === '.' || roots.length > 1 || sources.some((s) => /[*?[]/.test(s));
  // Context sources are hashed from the context listing, downloads as they came, and --from
  // files by their view's key: only heredoc files are hashed here.
  const own = roots.filter((r) => r.abs.startsWith(tmp) && !r.remote);
  const digest = createSha256()
    .update(key)
    .update(contextDigests.join(','))
    .update(await hashTree(own))
    .digest('hex');
  return { roots, dest, destIsDir, digest, cleanup, extractTars: inst.kind === 'add', flags };
}

/** Whether `path` (symlinks followed inside the rootfs) is a directory; false when it is missing. */
function isDirInRoot(rootfs: string, path: string): boolean {
  const rootFd = openRoot(rootfs);
  try {
    const fd = openInRoot(rootFd, path, { followFinal: true });
    const dir = fstatFd(fd).isDirectory();
    closeFd(fd);
    return dir;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return false;
    if (errnoCode(e) === 'ELOOP') throw new BerthError('UNSAFE_PATH', `too many levels of symbolic links resolving "${path}"`);
    throw e;
  } finally {
    closeFd(rootFd);
  }
}

async function isTarArchiveFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(512);
    const { bytesRead } = await fh.read(b, 0, 512, 0);
    return isTarArchive(b.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export async function applyCopy(ctx: StepContext, state: StageState, _inst: CopyInstruction, plan: CopyPlan): Promise<CommittedLayer> {
  const engine = ctx.engine;
  const key = `build-${randomHex(8)}`;
  const snap = await engine.snapshots.prepare(
    key,
    state.layers.map((l) => l.diffId),
    { volatile: true },
  );
  // Big files are fills (their copies run on into the commit) only where nothing can replace
  // them once made: a COPY with one source. ADD may extract a tar over what it copied.
  const fills = plan.extractTars || plan.roots.length !== 1 ? undefined : new Map<string, PendingFill>();
  try {
    const { chown, chmod: mode, parents } = plan.flags;
    const user = chown ? await resolveUser(snap.rootfs, chown) : { uid: 0, gid: 0 };
    const exclude = plan.flags.exclude.length ? new IgnoreMatcher(plan.flags.exclude) : undefined;
    const own = { uid: user.uid, gid: user.gid, mode, exclude, fills };
    const destExistsAsDir = isDirInRoot(snap.rootfs, plan.dest);
    if (plan.destIsDir || destExistsAsDir) closeFd(mkdirInRoot(snap.rootfs, plan.dest, own));
    for (const r of plan.roots) {
      if (plan.extractTars && !r.isDir && !r.remote && (await isTarArchiveFile(r.abs))) {
        // The archive is unpacked below the destination's fd, as into a root of its own.
        const target = mkdirInRoot(snap.rootfs, plan.dest, own);
        try {
          await applyLayer(createReadStream(r.abs), fdPath(target), { whiteouts: 'apply' });
        } finally {
          closeFd(target);
        }
        continue;
      }
      const base = parents ? r.rel : posix.basename(r.rel);
      const target = r.isDir
        ? parents
          ? posix.join(plan.dest, r.rel)
          : plan.dest
        : plan.destIsDir || destExistsAsDir
          ? posix.join(plan.dest, base)
          : plan.dest;
      await copyInto(snap.rootfs, r.abs, target, { ...own, skip: r.skip });
    }
    const pending = [...(fills ?? [])].map(([host, f]) => ({ ...f, rel: relative(snap.rootfs, host) }));
    return await engine.snapshots.commit(key, { sourceDateEpoch: ctx.sourceDateEpoch, fills: pending });
  } catch (e) {
    // No copy may outlive the snapshot it writes into.
    await Promise.allSettled([...(fills?.values() ?? [])].map((f) => f.copying));
    await engine.snapshots.remove(key).catch(() => undefined);
    throw e;
  }
}
