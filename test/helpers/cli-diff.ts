/**
 * The CLI differential (issue 22): the same command line through the docker CLI against a
 * private dockerd and through berth, compared on exit code and stdout. Tables are compared
 * with runs of spaces made one, and what differs by nature between two engines is masked:
 * ids (64 or 12 hex digits), times ("5 seconds ago", RFC 3339 stamps), sizes.
 */
import assert from 'node:assert/strict';
import type { BerthResult } from './berth.ts';
import { docker } from './dockerd.ts';

export interface DiffCase {
  /** Shown as the test's name. */
  readonly name: string;
  /** Arguments after `docker` / `berth`. */
  readonly args: readonly string[];
  readonly input?: string;
  /** Also compare stderr's first line (error messages a script might match). */
  readonly stderr?: boolean;
  /** Extra masking for this case, applied to both outputs after the defaults. */
  readonly mask?: (out: string) => string;
  /** Compare the lines as a set (listings whose order differs between engines). */
  readonly unordered?: boolean;
}

export function normalise(out: string): string {
  return out
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<id>')
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+/g, '<time>')
    .replace(/(About )?(an?|\d+|Less than a) (second|minute|hour|day|week|month|year)s? ago/g, '<ago>')
    .replace(/Up (About )?(an?|\d+|Less than a) (second|minute|hour|day)s?/g, 'Up <ago>')
    .replace(/\b\d+(\.\d+)?\s?(B|kB|MB|GB)\b/g, '<size>')
    .replace(/[ \t]+/g, ' ')
    .replace(/ +$/gm, '');
}

/** Runs one case through both engines and asserts the same exit code and (normalised) stdout. */
export function assertSameAsDocker(
  c: DiffCase,
  berth: (args: readonly string[], input?: string) => BerthResult,
  dockerCli: (args: readonly string[], opts: { input?: string }) => BerthResult = docker,
): void {
  const want = dockerCli(c.args, { input: c.input });
  const got = berth(c.args, c.input);
  const show = `\nberth stdout: ${got.stdout}\nberth stderr: ${got.stderr}\ndocker stdout: ${want.stdout}\ndocker stderr: ${want.stderr}`;
  assert.equal(got.code, want.code, `exit: berth ${got.code} vs docker ${want.code}${show}`);
  const norm = (s: string) => {
    let out = normalise(s);
    if (c.mask) out = c.mask(out);
    return c.unordered ? out.split('\n').sort().join('\n') : out;
  };
  assert.equal(norm(got.stdout), norm(want.stdout), show);
  if (c.stderr) {
    const first = (s: string) =>
      normalise(
        s
          .split('\n')[0]!
          .replace(/^(berth|docker): /, '')
          .replace(/^Error response from daemon: /, 'Error: '),
      );
    assert.equal(first(got.stderr), first(want.stderr), show);
  }
}
