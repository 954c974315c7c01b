#!/usr/bin/env node
// Entry point (bin/berth links here). Runs the bundled CLI (npm run build) through a vm.Script
// with V8's code cache (see scripts/bundle.mjs), writing the cache at exit when there is none
// or V8 rejected it (a new bundle or a new Node). Falls back to the TypeScript sources through
// tsx when no bundle exists, which is slower but works in a fresh clone.
// CommonJS on purpose: an ES module entry starts Node's ESM loader, ~6 ms of every command.
'use strict';
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'berth.cjs');
if (existsSync(bundle)) {
  const cacheFile = `${bundle}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => {
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
  script.runInThisContext()(cli.exports, createRequire(bundle), cli, bundle, dirname(bundle));
} else {
  import('tsx/esm/api').then(({ register }) => {
    register();
    return import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
  });
}
