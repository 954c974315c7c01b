import { commands, hasCacheMount, runText, type Rule } from '../types.ts';

export const aptInstallFlags: Rule = {
  id: 'BL004',
  name: 'apt-install-hygiene',
  severity: 'warning',
  summary: '`apt-get install` without `-y`, without `--no-install-recommends`, or without removing /var/lib/apt/lists',
  why: 'Without -y the build stops at the prompt; recommended packages and leftover package lists add hundreds of MB to every image and its pulls.',
  fix: 'Use `apt-get install -y --no-install-recommends …` and end the RUN with `&& rm -rf /var/lib/apt/lists/*` (or use a cache mount for /var/cache/apt and /var/lib/apt).',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) => {
        const text = runText(inst);
        const installs = commands(text).filter((c) => /(^|\s)(apt-get|apt)\s+(\S+\s+)*install\b/.test(c));
        if (!installs.length) return [];
        const missing: string[] = [];
        if (installs.some((c) => !/(\s-y\b|\s-[a-z]*y[a-z]*\b|--yes\b|--assume-yes\b|-qq?y)/.test(c))) missing.push('-y');
        if (installs.some((c) => !/--no-install-recommends/.test(c))) missing.push('--no-install-recommends');
        if (
          !hasCacheMount(inst, /\/var\/(lib|cache)\/apt/) &&
          !/rm\s+-[a-z]*r[a-z]*f?\s+[^&;]*\/var\/lib\/apt\/lists/.test(text) &&
          !/apt-get\s+clean/.test(text)
        )
          missing.push('rm -rf /var/lib/apt/lists/*');
        return missing.length ? [{ inst, message: `apt-get install without ${missing.join(', ')}` }] : [];
      }),
    );
  },
};
