/**
 * berth's import rules, checked by `npm run deps` (dependency-cruiser) in `npm test`.
 *
 * LEVELS is the one statement of the layering: a unit of src/ (a folder, or a file directly in
 * src/ such as engine.ts) may import units on its own level or below, never above. The rule
 * list below is generated from it, so a new folder is placed by adding it here.
 * Type-only imports count: a type that a lower level needs belongs on that level.
 *
 * The rules are written against paths relative to the directory depcruise runs in, `src/...`;
 * test/unit/dependency-rules.test.ts runs this same file in test/fixtures/deps/.
 */

/** Bottom to top. */
const LEVELS = [
  // L0, the pure modules: they take text and bytes and return values.
  ['errors', 'oci', 'reference', 'dockerfile', 'lint', 'template', 'gotime'],
  // L1: the system facade (every addon-or-fallback choice), progress output, the BERTH_* settings.
  ['sys', 'progress', 'config'],
  ['layer'],
  // L3: the only folder with SQL (see scripts/check-sql.ts for the statements themselves).
  ['store'],
  ['snapshot', 'volume', 'network', 'runtime', 'cdi'],
  ['image'],
  ['registry', 'explain'],
  ['builder', 'container'],
  // L8: use cases that combine services, and the composition root.
  ['services', 'engine.ts'],
  // L9: the front ends, flag parsing and output only.
  ['cli', 'api'],
];

const PURE = LEVELS[0];
/** Node built-ins that reach the file system, processes, threads, the network or the host. */
const SYSTEM_BUILTINS = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'http2', 'worker_threads', 'os', 'dgram', 'dns', 'dns/promises', 'tls', 'cluster', 'inspector'];
/** npm packages a pure module may use: zod validates outside JSON without touching the system. */
const PURE_NPM_ALLOWED = ['zod'];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A path regex matching every file of the given units of src/. */
const unitsPath = (units) => `^src/(${units.map(escape).join('|')})(/|$)`;

const levelRules = LEVELS.slice(0, -1).map((units, level) => ({
  name: `level-${level}-imports-above`,
  severity: 'error',
  comment: `${units.join(', ')} (level ${level}) may import only its own level or below; a higher level depends on it, not the other way round.`,
  from: { path: unitsPath(units) },
  to: { path: unitsPath(LEVELS.slice(level + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'Two folders that import each other, directly or around a cycle, are one unit in disguise: move the shared part down a level.',
      scope: 'folder',
      from: { path: '^src(/|$)' },
      to: { circular: true },
    },
    {
      name: 'no-file-cycle',
      severity: 'error',
      comment: 'Files that import each other (even for types only) cannot be read, tested or moved one at a time.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...levelRules,
    {
      name: 'unit-not-on-a-level',
      severity: 'error',
      comment: 'Every folder of src/ has a place in LEVELS at the top of .dependency-cruiser.cjs, or the level rules cannot see it.',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: unitsPath(LEVELS.flat()) },
    },
    {
      name: 'cli-only-from-cli',
      severity: 'error',
      comment: 'cli/ is the top: flag parsing and output. Nothing in src/ below it imports it (bin/ is outside src/).',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'engine-only-from-cli-and-services',
      severity: 'error',
      comment: 'engine.ts is the composition root: only the front ends (cli/, the coming api/) and the use cases see it; a service takes the narrow roles it uses.',
      from: { path: '^src/', pathNot: '^src/(cli|services|api)/' },
      to: { path: '^src/engine\\.ts$' },
    },
    {
      name: 'pure-no-system-builtins',
      severity: 'error',
      comment: `The pure modules (${PURE.join(', ')}) take text and bytes and return values: no file system, processes, threads or network.`,
      from: { path: unitsPath(PURE) },
      to: { dependencyTypes: ['core'], path: `^(node:)?(${SYSTEM_BUILTINS.map(escape).join('|')})$` },
    },
    {
      name: 'pure-no-npm',
      severity: 'error',
      comment: `The pure modules use no npm package beyond ${PURE_NPM_ALLOWED.join(', ')}.`,
      from: { path: unitsPath(PURE) },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'],
        pathNot: `(^|/)node_modules/(${PURE_NPM_ALLOWED.map(escape).join('|')})/`,
      },
    },
    {
      name: 'sqlite-only-in-store',
      severity: 'error',
      comment: 'store/ is the only place that knows the metadata is SQLite: one typed repository per table.',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: '(^|/)node_modules/(@types/)?better-sqlite3/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the checker cannot resolve is an import the rules above cannot see.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The TypeScript compiler reads the sources, so type-only imports and `await import()` are dependencies too.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json', '.node', '.d.ts'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
