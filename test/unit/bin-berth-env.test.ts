/**
 * bin/berth drops the environment variables Node acts on before it starts Node. The list is
 * written out in the script (a loop would fork a shell every command), so this checks it
 * against the node that runs the tests: every NODE_* or OPENSSL_* name that Node's C++ looks
 * up (a NUL-ended string in the binary) or its JavaScript reads (`env.NAME`) is on the list,
 * or below as a name that is no variable. A new Node that reads a new variable fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';

const SCRIPT = readFileSync(join(import.meta.dirname, '..', '..', 'bin', 'berth'), 'utf8');

/** Names in the binary that are no environment variable (IPC message types, macros, constants). */
const NOT_VARIABLES = [
  /^NODE_PERFORMANCE_/,
  /^NODE_(CLUSTER|HANDLE|HANDLE_ACK|HANDLE_NACK|DEBUG_ENABLED|OPTUH)$/,
  /^NODE_SOCKET_/,
  /^OPENSSL_(EC_EXPLICIT_CURVE|EC_NAMED_CURVE|VERSION_NUMBER)$/,
];

it('bin/berth unsets every variable Node reads as it starts (NODE_EXTRA_CA_CERTS is handed over)', () => {
  const unset = new Set(
    /^unset ((?:[^\n]*\\\n)*[^\n]*)/m
      .exec(SCRIPT)![1]!
      .split(/[\s\\]+/)
      .filter(Boolean),
  );
  assert.ok(unset.has('NODE_OPTIONS') && unset.has('OPENSSL_CONF'), 'the unset line is found');
  const binary = readFileSync(process.execPath).toString('latin1');
  const read = new Set<string>();
  for (const m of binary.matchAll(/(?<=\0)((?:NODE|OPENSSL)_[A-Z0-9_]+)(?=\0)/g)) read.add(m[1]!);
  for (const m of binary.matchAll(/env(?:\.|\[['"])((?:NODE|OPENSSL)_[A-Z0-9_]+)/g)) read.add(m[1]!);
  assert.ok(read.has('NODE_OPTIONS'), 'the binary is searched');
  const missed = [...read].filter((n) => n !== 'NODE_EXTRA_CA_CERTS' && !unset.has(n) && !NOT_VARIABLES.some((r) => r.test(n)));
  assert.deepEqual(missed, [], 'bin/berth leaves these to Node: add them to its unset line (or here, if they are no variable)');
  assert.match(SCRIPT, /\nexec node -- "\$dir\/berth\.cjs" "\$@"\n/, 'Node is started with `--` before the entry');
});
