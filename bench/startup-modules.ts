/**
 * Which of Node's built-in modules a berth command loads. bin/berth.cjs hands the bundle
 * stand-ins for the costly built-ins that load at their first use, so a command loads only
 * what it uses: a build whose RUN steps start no tool (runc through berth's addon, which also
 * hashes) loads neither child_process nor crypto, and one that starts a tool loads
 * child_process. This is start-up work, not behaviour: it runs here, not in the tests.
 *
 *   node --import tsx bench/startup-modules.ts      (as root, after `npm run build`)
 *
 * Prints each command with the watched built-ins it loaded; exits 1 when one loaded what it
 * should not have.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, REPO, tempRoot } from '../test/helpers/berth.ts';
import { busyboxTar } from '../test/helpers/busybox.ts';

const WATCHED = ['child_process', 'crypto', 'net', 'fs/promises', 'worker_threads', 'tls', 'https', 'http', 'zlib', 'dgram'];

const t = tempRoot('berth-modules-');
const root = t.root;
const work = mkdtempSync(join(tmpdir(), 'berth-modules-ctx-'));
const ctx = join(work, 'ctx');

/** The built-ins a berth command loaded (started as bin/berth starts Node, plus the reporter). */
function modulesOf(args: readonly string[]): Set<string> {
  const report = join(work, 'modules.txt');
  const r = spawnSync(
    process.execPath,
    ['--require', join(REPO, 'bench', 'report-modules.cjs'), '--', join(REPO, 'bin', 'berth.cjs'), '--root', root, ...args],
    {
      env: { ...process.env, BERTH_TEST_MODULES: report },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`berth ${args.join(' ')} failed: ${r.stderr}`);
  return new Set(
    readFileSync(report, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('NativeModule '))
      .map((l) => l.slice('NativeModule '.length)),
  );
}

const CASES: Array<{ what: string; args: string[]; without?: string[]; with?: string[] }> = [
  { what: '--version', args: ['--version'], without: ['child_process', 'crypto', 'worker_threads', 'tls', 'zlib'] },
  { what: 'images', args: ['images'], without: ['child_process', 'crypto', 'worker_threads', 'tls', 'zlib'] },
  { what: 'run --rm --network none', args: ['run', '--rm', '--network', 'none', 'bb:1', 'true'], without: ['crypto', 'tls', 'zlib'] },
  {
    what: 'build, RUN and COPY, no network',
    args: ['build', '-q', '--no-cache', '--network', 'none', '-t', 'm:1', ctx],
    without: ['child_process', 'crypto', 'tls'],
  },
  { what: 'build on the bridge (ip netns is spawned)', args: ['build', '-q', '--no-cache', '-t', 'm:2', ctx], with: ['child_process'] },
];

let failed = false;
try {
  if (t.run(['import', busyboxTar(), 'bb:1']).code !== 0) throw new Error('cannot import the busybox image');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN echo one > /one\nCOPY f /f\nRUN cat /f > /g\n');
  writeFileSync(join(ctx, 'f'), 'data\n');
  console.log(`built-ins loaded by berth commands (${BERTH})`);
  for (const c of CASES) {
    const mods = modulesOf(c.args);
    const loaded = WATCHED.filter((m) => mods.has(m));
    const wrong = [
      ...(c.without ?? []).filter((m) => mods.has(m)).map((m) => `${m} loaded`),
      ...(c.with ?? []).filter((m) => !mods.has(m)).map((m) => `${m} not loaded`),
    ];
    failed ||= wrong.length > 0;
    console.log(`  ${c.what.padEnd(44)} ${loaded.join(' ') || '(none watched)'}${wrong.length ? `   REGRESSED: ${wrong.join(', ')}` : ''}`);
  }
} finally {
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
