/** BuildKit's checks on single instructions: their form, their values and where they repeat. */
import type { Instruction } from '../../dockerfile/index.ts';
import type { RuleHit } from '../types.ts';
import { allInstructions, buildkitRule, keywordAsWritten } from './common.ts';
import { expandRecording } from './expand.ts';

export const noEmptyContinuation = buildkitRule({
  id: 'NoEmptyContinuation',
  slug: 'no-empty-continuation',
  summary: 'Empty continuation lines will become errors in a future release',
  why: 'An empty line inside a continued instruction is easy to misread as its end.',
  fix: 'Remove the empty line, or end the line before it without a backslash.',
  check({ dockerfile }) {
    const nodes = dockerfile.parsed.children;
    return dockerfile.parsed.warnings.flatMap((w): RuleHit[] => {
      if (!/empty continuation/i.test(w.message)) return [];
      // BuildKit places it on the instruction's last line.
      const node = nodes.find((n) => n.startLine <= w.line && w.line <= n.endLine) ?? nodes.find((n) => n.startLine > w.line);
      return [{ line: node?.endLine ?? w.line, column: 1, message: 'Empty continuation line' }];
    });
  },
});

export const legacyKeyValueFormat = buildkitRule({
  id: 'LegacyKeyValueFormat',
  slug: 'legacy-key-value-format',
  summary: 'Legacy key/value format with whitespace separator should not be used',
  why: '`ENV key value` sets one variable to the rest of the line, spaces and all, which is not what it looks like.',
  fix: 'Write `ENV key=value` (quote values with spaces).',
  check({ dockerfile }) {
    return allInstructions(dockerfile).flatMap((inst): RuleHit[] => {
      if (inst.kind !== 'env' && inst.kind !== 'label') return [];
      const next = inst.node.next;
      const legacy = next.some((sep, i) => i % 3 === 2 && sep === '');
      const k = keywordAsWritten(inst);
      return legacy ? [{ inst, message: `"${k} key=value" should be used instead of legacy "${k} key value" format` }] : [];
    });
  },
});

/** EXPOSE's `[ip:][hostPort:]containerPort[/proto]`, split as BuildKit splits it. */
function exposeParts(raw: string): { ip: string; hostPort: string; proto: string } {
  const slash = raw.lastIndexOf('/');
  const proto = slash >= 0 ? raw.slice(slash + 1) : '';
  const spec = slash >= 0 ? raw.slice(0, slash) : raw;
  const bracket = spec.lastIndexOf(']');
  const parts = spec.slice(bracket + 1).split(':');
  if (bracket >= 0) return { ip: spec.slice(0, bracket + 1), hostPort: parts.length > 2 ? (parts[1] ?? '') : '', proto };
  if (parts.length >= 3) return { ip: parts.slice(0, -2).join(':'), hostPort: parts.at(-2)!, proto };
  if (parts.length === 2) return { ip: '', hostPort: parts[0]!, proto };
  return { ip: '', hostPort: '', proto };
}

function exposeHits(dockerfile: Parameters<typeof allInstructions>[0], pick: (raw: string) => string | undefined): RuleHit[] {
  return allInstructions(dockerfile).flatMap((inst) =>
    inst.kind === 'expose'
      ? inst.values.flatMap((word) => {
          // BuildKit judges the expanded value; an unset variable's default stands for it here.
          const raw = word.includes('$') ? expandRecording(word, new Map(), dockerfile.parsed.escape).result : word;
          const message = raw ? pick(raw) : undefined;
          return message ? [{ inst, message }] : [];
        })
      : [],
  );
}

export const exposeProtoCasing = buildkitRule({
  id: 'ExposeProtoCasing',
  slug: 'expose-proto-casing',
  summary: 'Protocol in EXPOSE instruction should be lowercase',
  why: 'Protocols are lowercase in the image config; other tools compare them as written.',
  fix: 'Write `EXPOSE 80/tcp`.',
  check({ dockerfile }) {
    return exposeHits(dockerfile, (raw) => {
      const { proto } = exposeParts(raw);
      return proto !== proto.toLowerCase() ? `Defined protocol '${raw}' in EXPOSE instruction should be lowercase` : undefined;
    });
  },
});

export const exposeInvalidFormat = buildkitRule({
  id: 'ExposeInvalidFormat',
  slug: 'expose-invalid-format',
  summary: 'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release',
  why: 'EXPOSE documents a container port; where it is published is decided by `run -p`, not by the image.',
  fix: 'Expose only the container port (`EXPOSE 80`) and publish it with `run -p`.',
  check({ dockerfile }) {
    return exposeHits(dockerfile, (raw) => {
      const { ip, hostPort } = exposeParts(raw);
      return ip || hostPort ? `EXPOSE instruction should not define an IP address or host-port mapping, found '${raw}'` : undefined;
    });
  },
});

export const multipleInstructionsDisallowed = buildkitRule({
  id: 'MultipleInstructionsDisallowed',
  slug: 'multiple-instructions-disallowed',
  summary: 'Multiple instructions of the same type should not be used in the same stage',
  why: 'Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage counts: the earlier ones do nothing.',
  fix: 'Keep one of each per stage.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) => {
      const last = new Map<string, Instruction>();
      const hits: RuleHit[] = [];
      for (const inst of s.instructions) {
        if (inst.kind !== 'cmd' && inst.kind !== 'entrypoint' && inst.kind !== 'healthcheck') continue;
        const before = last.get(inst.kind);
        // Reported where the earlier one is: that is the one that will be ignored.
        if (before)
          hits.push({
            inst: before,
            message: `Multiple ${keywordAsWritten(inst)} instructions should not be used in the same stage because only the last one will be used`,
          });
        last.set(inst.kind, inst);
      }
      return hits;
    });
  },
});

const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const NOT_SECRET = /(?:_|^)(?:public|file|version)(?:_|$)/i;

export const secretsUsedInArgOrEnv = buildkitRule({
  id: 'SecretsUsedInArgOrEnv',
  slug: 'secrets-used-in-arg-or-env',
  summary: 'Sensitive data should not be used in the ARG or ENV commands',
  why: 'ARG and ENV values stay in the image config and history, readable by anyone who pulls it.',
  fix: 'Pass secrets with `RUN --mount=type=secret` (build --secret).',
  check({ dockerfile }) {
    // Global ARGs are outside any stage: BuildKit checks the ARGs and ENVs stages declare.
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst): RuleHit[] => {
        const keys = inst.kind === 'env' ? inst.pairs.map(([k]) => k) : inst.kind === 'arg' ? inst.args.map((a) => a.name) : [];
        const word = inst.kind.toUpperCase();
        return keys
          .filter((k) => SECRET.test(k) && !NOT_SECRET.test(k))
          .map((k) => ({ inst, message: `Do not use ARG or ENV instructions for sensitive data (${word} ${JSON.stringify(k)})` }));
      }),
    );
  },
});

/** `filepath.Clean` of a slash path, relative kept relative. */
function cleanRel(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/') || '.';
}

export const copyIgnoredFile = buildkitRule({
  id: 'CopyIgnoredFile',
  slug: 'copy-ignored-file',
  summary: 'Attempting to Copy file that is excluded by .dockerignore',
  why: 'The builder never sees an ignored file: the COPY fails, or copies less than it says.',
  fix: 'Stop ignoring the file in .dockerignore, or stop copying it.',
  check({ dockerfile, context }) {
    if (!context?.hasDockerignore || context.hasExclusions) return [];
    return allInstructions(dockerfile).flatMap((inst): RuleHit[] => {
      if ((inst.kind !== 'copy' && inst.kind !== 'add') || inst.flags.from) return [];
      const cmd = inst.kind === 'add' ? 'Add' : 'Copy';
      return inst.sources
        .filter((s) => !s.startsWith('<<') && !/^[a-z]+:\/\//i.test(s) && !s.startsWith('git@') && !s.includes('$'))
        .map(cleanRel)
        .filter((s) => s !== '.' && context.isIgnored(s))
        .map((s) => ({ inst, message: `Attempting to ${cmd} file ${JSON.stringify(s)} that is excluded by .dockerignore` }));
    });
  },
});

export const workdirRelativePath = buildkitRule({
  id: 'WorkdirRelativePath',
  slug: 'workdir-relative-path',
  summary: 'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes',
  why: "A relative WORKDIR lands under the base image's working directory, which a new base image may move.",
  fix: 'Set an absolute WORKDIR first (`WORKDIR /app`).',
  check({ dockerfile }) {
    // Only a stage's first WORKDIR: fixing it fixes every relative one after it.
    return dockerfile.stages.flatMap((s) => {
      const first = s.instructions.find((i) => i.kind === 'workdir');
      if (first?.kind !== 'workdir' || /^["']?[/$]/.test(first.value)) return [];
      return [{ inst: first, message: `Relative workdir ${JSON.stringify(first.value)} can have unexpected results if the base image changes` }];
    });
  },
});

export const jsonArgsRecommended = buildkitRule({
  id: 'JSONArgsRecommended',
  slug: 'json-args-recommended',
  summary: 'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
  why: 'In shell form the process runs under `/bin/sh -c`, which does not pass SIGTERM on: `stop` waits out its timeout and kills it.',
  fix: 'Use the JSON form, `CMD ["python3", "app.py"]`, or set SHELL to say the shell form is meant.',
  check({ dockerfile }) {
    const shellSet = new Map<string, boolean>();
    return dockerfile.stages.flatMap((s) => {
      let shell = shellSet.get(s.from.image.toLowerCase()) ?? false;
      const hits: RuleHit[] = [];
      for (const inst of s.instructions) {
        if (inst.kind === 'shell') shell = true;
        if ((inst.kind === 'cmd' || inst.kind === 'entrypoint') && !inst.json && !shell)
          hits.push({ inst, message: `JSON arguments recommended for ${keywordAsWritten(inst)} to prevent unintended behavior related to OS signals` });
      }
      if (s.name) shellSet.set(s.name, shell);
      return hits;
    });
  },
});

export const maintainerDeprecatedBuildkit = buildkitRule({
  id: 'MaintainerDeprecated',
  slug: 'maintainer-deprecated',
  summary: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
  why: 'Tools read the image author from the OCI label, not from MAINTAINER.',
  fix: 'Use `LABEL org.opencontainers.image.authors="name <email>"`.',
  check({ dockerfile }) {
    return allInstructions(dockerfile).flatMap((inst) =>
      inst.kind === 'maintainer' ? [{ inst, message: 'Maintainer instruction is deprecated in favor of using label' }] : [],
    );
  },
});
