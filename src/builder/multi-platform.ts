/**
 * `build --platform a,b`: the platform list, what the platforms' builds share, and the index
 * their images are committed into. Each platform is a build of its own (builder.ts), with
 * TARGETPLATFORM and the rest set for it; a step with the same cache key on two platforms
 * (everything in a `FROM --platform=$BUILDPLATFORM` stage that does not read TARGET*) runs
 * once, and a base image is resolved once per platform it is asked for.
 */
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../oci/digest.ts';
import { commitIndex, platformOf } from '../image/image-index.ts';
import type { LocalImage } from '../image/resolve.ts';
import { formatPlatform, parsePlatform } from '../oci/platform.ts';
import type { ImageConfig, Platform } from '../oci/schema.ts';
import type { ImageRecord } from '../store/images.ts';
import type { CachedLayer } from './cache.ts';
import type { BuilderDeps } from './step-context.ts';
import type { StageState } from './state.ts';

/** The OSes and architectures an image platform may name (Go's GOOS and GOARCH values that images use). */
const KNOWN_OS = new Set(['linux', 'windows', 'freebsd', 'darwin']);
const KNOWN_ARCH = new Set(['amd64', 'arm64', 'arm', '386', 'ppc64le', 'ppc64', 's390x', 'riscv64', 'mips64le', 'mips64', 'loong64']);

/** `--platform`: one platform, or a comma-separated list of distinct ones; empty when none was given. */
export function parsePlatformList(spec: string | undefined): Platform[] {
  if (spec === undefined || spec.trim() === '') return [];
  const out: Platform[] = [];
  for (const item of spec.split(',')) {
    // As BuildKit: linux/arm64 is TARGETPLATFORM=linux/arm64 with no TARGETVARIANT (v8 is arm64's only one).
    const { variant, ...rest } = parsePlatform(item);
    const p: Platform = rest.architecture === 'arm64' && variant === 'v8' ? rest : { ...rest, ...(variant ? { variant } : {}) };
    if (!KNOWN_OS.has(p.os) || !KNOWN_ARCH.has(p.architecture)) {
      throw new BerthError('INVALID_ARGUMENT', `failed to parse platform ${item.trim()}: "${item.trim()}": unknown operating system or architecture`, {
        hint: 'use os/arch[/variant], e.g. linux/amd64,linux/arm64',
      });
    }
    const text = formatPlatform(p);
    if (out.some((q) => formatPlatform(q) === text)) {
      throw new BerthError('INVALID_ARGUMENT', `duplicate platform ${text} in --platform ${spec}`, { hint: 'name each platform once' });
    }
    out.push(p);
  }
  return out;
}

/**
 * A stage's own platform: `FROM --platform=…` (expanded by the planner), else the one the build
 * asked for (undefined when it asked for none: the base image is taken as it is).
 */
export function stagePlatform(fromPlatform: string | undefined, asked: Platform | undefined): Platform | undefined {
  return fromPlatform ? parsePlatform(fromPlatform) : asked;
}

/** What the builds of one command share, whether for one platform or several. */
export interface SharedWork {
  /** Steps by cache key: the second platform to reach a step takes the first one's layer. */
  readonly steps: Map<string, Promise<CachedLayer>>;
  /** A base image resolved once per reference and platform. */
  base(key: string, resolve: () => Promise<LocalImage>): Promise<LocalImage>;
  /** Step numbers for the progress view, one sequence across the platforms. */
  readonly nextStep: () => number;
  /** The progress label's prefix for a platform's steps, `linux/arm64 `, when there are several. */
  label(platform: Platform | undefined): string;
}

export function newSharedWork(platforms: number): SharedWork {
  const bases = new Map<string, Promise<LocalImage>>();
  let steps = 0;
  return {
    steps: new Map(),
    base(key, resolve) {
      let p = bases.get(key);
      if (!p) bases.set(key, (p = resolve()));
      return p;
    },
    nextStep: () => ++steps,
    label: (platform) => (platform && platforms > 1 ? `${formatPlatform(platform)} ` : ''),
  };
}

/** A multi-platform build's index: its digest, and each platform's image in the index's order. */
export interface PlatformIndex {
  readonly digest: Digest;
  readonly platforms: readonly string[];
  readonly children: ReadonlyArray<{ readonly image: ImageRecord; readonly layers: StageState['layers'] }>;
}

/** The platforms' images committed: the index over them, held by the tags. */
export async function commitPlatforms(
  engine: BuilderDeps,
  images: ReadonlyArray<{ image: ImageRecord; config: ImageConfig; stage: StageState }>,
  tags: readonly string[],
): Promise<{ image: ImageRecord; config: ImageConfig; stage: StageState; index: PlatformIndex }> {
  const records = images.map((i) => i.image);
  const index = await commitIndex(engine, records, tags);
  engine.lease.add('blob', [index.digest]);
  const chosen = images.find((i) => i.image.id === index.tagged.id) ?? images[0]!;
  return {
    ...chosen,
    index: {
      digest: index.digest,
      platforms: records.map((r) => formatPlatform(platformOf(r))),
      children: images.map((i) => ({ image: i.image, layers: i.stage.layers })),
    },
  };
}
