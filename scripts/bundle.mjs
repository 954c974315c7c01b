// Bundles the CLI into one ESM file so `berth` starts with a single module load
// (startup time is the floor under every command). Native and heavy modules stay
// external and are loaded lazily by the commands that need them.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/berth.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: false,
  sourcemap: 'linked',
  external: ['better-sqlite3'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
