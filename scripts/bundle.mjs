// Bundles the CLI into one CommonJS file, dist/berth.cjs, and primes V8's code cache for it
// (dist/berth.cjs.cache; bin/berth.cjs loads both). Startup time is the floor under every
// command: with the cache, V8 deserializes compiled code instead of parsing 800 kB of
// JavaScript (docs/benchmarks.md). CommonJS because Node 20 can only attach a code cache to a
// vm.Script; bin/berth.cjs hands the costly built-ins over as stand-ins that load at first use,
// and cli/ loads a verb's modules when it runs. better-sqlite3's JavaScript is bundled
// and its native addon loaded by path (store/db.ts). berth's own addon, native/berth_sys.c
// (mount, umount2, xattrs, mknod: src/sys), is compiled beside the bundle; without a C
// compiler or Node's headers the build says so and berth spawns the tools instead.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

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
  // Whitespace and comments out, names kept: the bundle is read and hashed at every start
  // (a third less to read), and error names and stack frames still say what they are.
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  logLevel: 'warning',
});
// bin/berth.cjs reads the bundle as latin1, a third quicker than decoding UTF-8: exact only
// while every byte is ASCII, which esbuild's charset makes true of the code it writes.
if (readFileSync('dist/berth.cjs').some((b) => b > 0x7f)) throw new Error('bundle: dist/berth.cjs is not ASCII; bin/berth.cjs reads it as latin1');
compileAddon();
// The first run writes the cache (bin/berth does so whenever there is none or V8 rejects it).
execFileSync(process.execPath, ['bin/berth.cjs', '--version'], { stdio: 'ignore' });

/** dist/berth_sys.node from native/berth_sys.c, against the headers of the Node that runs this. */
function compileAddon() {
  const headers = [
    join(dirname(process.execPath), '..', 'include', 'node'),
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ].find((d) => d && existsSync(join(d, 'node_api.h')));
  if (!headers) {
    console.warn('bundle: no Node headers (node_api.h) found: berth will spawn mount, umount and getfattr instead of its addon');
    return;
  }
  // berth_hash.c hashes with the OpenSSL that Node carries: its headers sit beside Node's, and
  // the node binary exports its symbols. Where either is missing, the addon is built without
  // it (BERTH_NO_OPENSSL) and berth hashes with node:crypto.
  const compile = (withOpenssl) =>
    execFileSync(
      process.env.CC || 'cc',
      [
        '-O2',
        '-Wall',
        '-fPIC',
        '-shared',
        `-I${headers}`,
        ...(withOpenssl ? [] : ['-DBERTH_NO_OPENSSL']),
        '-o',
        'dist/berth_sys.node',
        ...readdirSync('native')
          .filter((f) => f.endsWith('.c'))
          .map((f) => `native/${f}`),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  const hashes = () => {
    const probe =
      "const a = require('./dist/berth_sys.node'); const h = a.sha256New(); a.sha256Update(h, 'abc'); process.exit(a.sha256Digest(h).toString('hex') === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' ? 0 : 1)";
    try {
      execFileSync(process.execPath, ['-e', probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  try {
    const openssl = existsSync(join(headers, 'openssl', 'evp.h'));
    compile(openssl);
    if (openssl && !hashes()) {
      console.warn("bundle: this Node's OpenSSL cannot be reached from an addon: berth hashes with node:crypto");
      compile(false);
    }
  } catch (e) {
    console.warn(`bundle: cannot compile native/berth_sys.c (${e.message.split('\n')[0]}): berth will spawn mount, umount and getfattr instead`);
  }
}
