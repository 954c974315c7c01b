// Bundles the CLI into one CommonJS file, dist/berth.cjs, and primes V8's code cache for it
// (dist/berth.cjs.cache; bin/berth loads both). Startup time is the floor under every
// command: with the cache, V8 deserializes compiled code instead of parsing 800 kB of
// JavaScript, which saves 30-40 ms a command here. CommonJS because Node 20 can only attach a
// code cache to a vm.Script; built-ins and heavy modules are still required lazily, inside the
// functions that need them. node-pty stays external; better-sqlite3's JavaScript is bundled
// and its native addon loaded by path (store/db.ts).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/berth.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // import() of a built-in inside a vm.Script would need --experimental-vm-modules: use require.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__berth_import_meta_url' },
  banner: { js: "const __berth_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: 'linked',
  external: ['node-pty'],
  logLevel: 'warning',
});
// The first run writes the cache (bin/berth does so whenever there is none or V8 rejects it).
execFileSync(process.execPath, ['bin/berth', '--version'], { stdio: 'ignore' });
