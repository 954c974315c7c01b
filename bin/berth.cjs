// Entry point, run only by the bin/berth script, which starts Node as `node -- bin/berth.cjs ARGS`
// with Node's own variables dropped (so no shebang and no exec bit: started directly, Node would
// take `--env-file` out of berth's arguments). Runs the bundled CLI (npm run build) through a vm.Script
// with V8's code cache (see scripts/bundle.mjs). Each verb gets a cache of its own, written
// at the exit of its first successful run (or when V8 rejects it: a new Node). V8 caches only
// the functions compiled by then, so with one cache primed by `--version` a cached `build`
// would compile its whole path again. Until a verb has its own, the build's general cache
// serves. Falls back to the TypeScript sources through tsx when no bundle
// exists, which is slower but works in a fresh clone.
// CommonJS on purpose: an ES module entry would start Node's ESM loader in every command.
'use strict';
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'berth.cjs');
if (existsSync(bundle)) {
  const verb = verbOf(process.argv.slice(2));
  const cacheFile = verb ? `${bundle}.${verb}.cache` : `${bundle}.cache`;
  let cachedData = readIfThere(cacheFile);
  const own = cachedData !== undefined;
  if (!own && verb) cachedData = readIfThere(`${bundle}.cache`);
  // latin1: the bundle is ASCII (scripts/bundle.mjs checks), and this skips decoding UTF-8.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'latin1')}\n})`, { filename: bundle, cachedData });
  if (!own || script.cachedDataRejected) {
    process.once('exit', (code) => {
      // Only a run that worked makes a verb's cache: a mistyped verb leaves no file behind.
      if (code !== 0 && verb) return;
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // A read-only install runs without the cache.
      }
    });
  }
  const cli = { exports: {} };
  script.runInThisContext()(cli.exports, lazyBuiltins(createRequire(bundle)), cli, bundle, dirname(bundle));
} else {
  import('tsx/esm/api').then(({ register }) => {
    register();
    return import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
  });
}

/**
 * The bundle's require, with a stand-in for the built-ins in LAZY that loads the module at its
 * first property read. berth's modules import what they use at the top, as modules do, and the
 * bundle requires every built-in they import as it loads them; loading one of these costs
 * each command time (docs/benchmarks.md) although most commands never use it: child_process
 * (with net and dgram behind it), which commander and each module that starts a tool import,
 * while most commands start no tool; crypto, which berth's addon stands in for
 * (src/sys/crypto.ts); net and fs/promises (with readline behind it), which a build first
 * needs once its first container has started, and loads while it runs; worker_threads, for
 * big layers and big COPYs only; tls, http and https, for registry and ADD <url> traffic;
 * zlib, for compressed layers; dgram, for a published UDP port; tty (with net behind it),
 * which only a detached `-t` container's monitor uses. bench/startup-modules.ts
 * checks which a command loads.
 */
function lazyBuiltins(real) {
  const LAZY = new Set(['node:child_process', 'node:crypto', 'node:net', 'node:fs/promises', 'node:worker_threads', 'node:tls', 'node:http', 'node:https', 'node:zlib', 'node:dgram', 'node:tty']);
  const standIns = new Map();
  const req = (id) => {
    if (!LAZY.has(id)) return real(id);
    let standIn = standIns.get(id);
    if (!standIn) {
      let mod;
      const load = () => (mod ??= real(id));
      standIn = new Proxy(
        {},
        {
          get: (_, key) => load()[key],
          has: (_, key) => key in load(),
          ownKeys: () => Reflect.ownKeys(load()),
          // The target is empty: a descriptor it lacks must be configurable.
          getOwnPropertyDescriptor: (_, key) => {
            const d = Object.getOwnPropertyDescriptor(load(), key);
            return d && { ...d, configurable: true };
          },
        },
      );
      standIns.set(id, standIn);
    }
    return standIn;
  };
  return Object.assign(req, { resolve: real.resolve, cache: real.cache, main: real.main });
}

function readIfThere(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** The command's verb (`build`, `run`, ...), skipping the one global option with a value. */
function verbOf(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root') i++;
    else if (!args[i].startsWith('-')) return /^[a-z]+(-[a-z]+)*$/.test(args[i]) ? args[i] : undefined;
  }
  return undefined;
}
