/** What the context rules need from a build context dir, computed lazily. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IgnoreMatcher, parseIgnoreFile } from '../dockerfile/index.ts';
import type { LintInput } from './types.ts';

const run = promisify(execFile);

export function lintContext(dir: string): NonNullable<LintInput['context']> {
  const ignoreFile = join(dir, '.dockerignore');
  const hasDockerignore = existsSync(ignoreFile);
  const matcher = new IgnoreMatcher(hasDockerignore ? parseIgnoreFile(readFileSync(ignoreFile, 'utf8')) : []);
  return {
    dir,
    hasDockerignore,
    isIgnored: (rel) => matcher.matches(rel),
    sizeBytes: async () => Number((await run('du', ['-sb', dir])).stdout.split(/\s/)[0]) || 0,
  };
}
