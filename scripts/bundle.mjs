// Bundles the CLI so `berth` starts with as little to load as possible (startup time is the
// floor under every command). With splitting, the entry holds only the command table; each
// verb's code, and the Node built-ins it imports (zlib, http, crypto...), load when that verb
// runs. better-sqlite3 and node-pty stay external: they are native modules.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { berth: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  sourcemap: 'linked',
  external: ['better-sqlite3', 'node-pty'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
