import { runText, type Rule } from '../types.ts';

export const constantPlatform: Rule = {
  id: 'BL016',
  buildkit: 'FromPlatformFlagConstDisallowed',
  name: 'constant-platform',
  severity: 'warning',
  summary: '`FROM --platform` given as a constant',
  why: 'A fixed platform makes the image build for that architecture everywhere: on an arm64 Mac or a Graviton node you get an emulated, slow, or failing image.',
  fix: 'Use `--platform=$BUILDPLATFORM` for build stages (and TARGETARCH inside), or drop the flag.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.from.platform && !s.from.platform.includes('$') ? [{ inst: s.from, message: `FROM --platform=${s.from.platform} is fixed` }] : [],
    );
  },
};

const ARCH_WORD = /(?<![a-z0-9])(amd64|x86_64|x86-64|aarch64|arm64|ppc64le|s390x)(?![a-z0-9])/i;

export const archSpecificBinary: Rule = {
  id: 'BL017',
  name: 'arch-specific-download',
  severity: 'warning',
  summary: 'A download of an architecture-specific binary without TARGETARCH',
  why: 'An image that downloads `…-linux-amd64` binaries works only on amd64, even when built for arm64: it mixes architectures and fails at run time with "exec format error".',
  fix: 'Declare `ARG TARGETARCH` and use it in the URL (`…-linux-${TARGETARCH}`), or choose per architecture.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) => {
      if (s.instructions.some((i) => i.kind === 'arg' && i.args.some((a) => /^(TARGETARCH|TARGETPLATFORM|BUILDARCH)$/.test(a.name)))) return [];
      return s.instructions.flatMap((inst) => {
        const text = runText(inst);
        const url = /(https?:\/\/\S+)/g;
        for (const m of text.matchAll(url))
          if (ARCH_WORD.test(m[1]!)) return [{ inst, message: `downloads an architecture-specific file (${m[1]!.slice(0, 80)}) without TARGETARCH` }];
        return [];
      });
    });
  },
};
