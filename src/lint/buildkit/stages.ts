/** BuildKit's checks on FROM lines: stage names, `--platform` values, and base names under default ARGs. */
import { formatPlatform, hostPlatform, parsePlatform, type Platform } from '../../oci/index.ts';
import { parseReference } from '../../reference/index.ts';
import type { Rule, RuleHit } from '../types.ts';
import { buildkitRule, suggest } from './common.ts';
import { expandRecording, globalScope } from './expand.ts';

const RESERVED = new Set(['context', 'scratch']);

export const duplicateStageName = buildkitRule({
  id: 'DuplicateStageName',
  slug: 'duplicate-stage-name',
  summary: 'Stage names should be unique',
  why: 'With two stages of one name, a later `FROM name` or `COPY --from=name` cannot say which it means.',
  fix: 'Give each stage its own name.',
  check({ dockerfile }) {
    const seen = new Set<string>();
    return dockerfile.stages.flatMap((s) => {
      if (!s.name) return [];
      const dup = seen.has(s.name);
      seen.add(s.name);
      return dup ? [{ inst: s.from, message: `Duplicate stage name "${s.name}", stage names should be unique` }] : [];
    });
  },
});

export const reservedStageName = buildkitRule({
  id: 'ReservedStageName',
  slug: 'reserved-stage-name',
  summary: 'Reserved words should not be used as stage names',
  why: '`scratch` and `context` already mean something to the builder: a stage of that name is shadowed or shadows.',
  fix: 'Rename the stage.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.name && RESERVED.has(s.name) ? [{ inst: s.from, message: `Stage name should not use the same name as reserved stage "${s.name}"` }] : [],
    );
  },
});

export const undefinedArgInFrom = buildkitRule({
  id: 'UndefinedArgInFrom',
  slug: 'undefined-arg-in-from',
  summary: 'FROM command must use declared ARGs',
  why: 'An ARG used in FROM but never declared before the first FROM expands to nothing: the base image is not the one meant.',
  fix: 'Declare the ARG (with a default) before the first FROM.',
  check({ dockerfile }) {
    const { declared, values } = globalScope(dockerfile);
    return dockerfile.stages.flatMap((s) =>
      [s.from.image, s.from.platform].flatMap((word): RuleHit[] => {
        if (word === undefined) return [];
        return [...expandRecording(word, values, dockerfile.parsed.escape).unmatched]
          .filter((name) => !declared.has(name))
          .map((name) => {
            const hint = suggest(name, declared);
            return { inst: s.from, message: `FROM argument '${name}' is not declared${hint ? ` (did you mean ${hint}?)` : ''}` };
          });
      }),
    );
  },
});

export const invalidDefaultArgInFrom = buildkitRule({
  id: 'InvalidDefaultArgInFrom',
  slug: 'invalid-default-arg-in-from',
  summary: 'Default value for global ARG results in an empty or invalid base image name',
  why: 'A build without --build-arg then fails, or pulls a name nobody meant.',
  fix: 'Give the ARG a default that makes a valid image name (`ARG TAG=latest`).',
  check({ dockerfile }) {
    const { values } = globalScope(dockerfile);
    return dockerfile.stages.flatMap((s) => {
      const name = expandRecording(s.from.image, values, dockerfile.parsed.escape).result;
      if (name === undefined) return [];
      try {
        if (!name) throw new Error('empty');
        parseReference(name);
        return [];
      } catch {
        return [{ inst: s.from, message: `Default value for ARG ${s.from.image} results in empty or invalid base image name` }];
      }
    });
  },
});

export const redundantTargetPlatform = buildkitRule({
  id: 'RedundantTargetPlatform',
  slug: 'redundant-target-platform',
  summary: 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
  why: 'A stage is built for the target platform unless told otherwise: the flag says nothing.',
  fix: 'Drop `--platform=$TARGETPLATFORM`.',
  check({ dockerfile }) {
    const { values } = globalScope(dockerfile);
    return dockerfile.stages.flatMap((s) => {
      const word = s.from.platform;
      if (word === undefined) return [];
      const x = expandRecording(word, values, dockerfile.parsed.escape);
      const onlyTarget = x.matched.size === 1 && x.matched.has('TARGETPLATFORM') && x.unmatched.size === 0;
      return onlyTarget && x.result === values.get('TARGETPLATFORM')
        ? [{ inst: s.from, message: `Setting platform to predefined ${word} in FROM is redundant as this is the default behavior` }]
        : [];
    });
  },
});

export const fromPlatformFlagConstDisallowed = buildkitRule({
  id: 'FromPlatformFlagConstDisallowed',
  slug: 'from-platform-flag-const-disallowed',
  summary: 'FROM --platform flag should not use a constant value',
  why: 'A constant platform pins the stage to one architecture even in a multi-platform build.',
  fix: 'Use `--platform=$BUILDPLATFORM` (or $TARGETPLATFORM), or name the stage after the platform it is for.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) => {
      const word = s.from.platform;
      if (word === undefined) return [];
      const x = expandRecording(word, new Map(), dockerfile.parsed.escape);
      if (x.result === undefined || x.matched.size || x.unmatched.size) return [];
      let p: { os: string; architecture: string };
      try {
        p = parsePlatform(x.result);
      } catch {
        return [];
      }
      const name = s.name ?? '';
      if (name.includes(p.os) || name.includes(p.architecture)) return [];
      return [{ inst: s.from, message: `FROM --platform flag should not use constant value "${x.result}"` }];
    });
  },
});

/** A platform as containerd normalizes it for display: arm64's default variant (v8) is left out. */
function shown(p: Platform): string {
  return formatPlatform(p.architecture === 'arm64' && p.variant === 'v8' ? { os: p.os, architecture: p.architecture } : p);
}

export const invalidBaseImagePlatform: Rule = {
  ...buildkitRule({
    id: 'InvalidBaseImagePlatform',
    slug: 'invalid-base-image-platform',
    summary: 'Base image platform does not match expected target platform',
    why: 'The stage would run (or fail to run) binaries built for another machine.',
    fix: 'Pull the base image for the platform you build (`pull --platform`), or build for the image’s platform.',
    async check({ dockerfile, baseImage, targetPlatform }) {
      if (!baseImage) return [];
      const { values } = globalScope(dockerfile);
      const stageNames = new Set(dockerfile.stages.flatMap((s) => (s.name ? [s.name] : [])));
      const hits: RuleHit[] = [];
      for (const s of dockerfile.stages) {
        const name = expandRecording(s.from.image, values, dockerfile.parsed.escape).result;
        if (!name || name === 'scratch' || stageNames.has(name.toLowerCase())) continue;
        const image = await baseImage(name);
        if (!image) continue;
        const word = s.from.platform === undefined ? undefined : expandRecording(s.from.platform, values, dockerfile.parsed.escape).result;
        let expected: Platform;
        let actual: Platform;
        try {
          expected = word ? parsePlatform(word) : targetPlatform ? parsePlatform(targetPlatform) : hostPlatform();
          actual = parsePlatform(image.platform);
        } catch {
          continue; // a bad platform is the build's error
        }
        if (expected.os !== actual.os || expected.architecture !== actual.architecture) {
          hits.push({
            inst: s.from,
            message: `Base image ${name} was pulled with platform "${shown(actual)}", expected "${shown(expected)}" for current build`,
          });
        }
      }
      return hits;
    },
  }),
  // BuildKit's rule has no page of its own.
  url: undefined,
};
