/**
 * docker-compose 1.29 (docker-py underneath) against `berth serve`: a two-service project (a
 * busybox httpd with a named volume, and a client that fetches from it by service name) comes
 * up, answers `ps`, `logs` and `exec`, and `down -v` leaves no container, volume or network.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CliResult, clientEnv, startServeWithBusybox } from '../helpers/api-clients.ts';
import type { ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';

const PROJECT = 'berthcompose';

const COMPOSE_FILE = `version: "3.7"
services:
  web:
    build: ./web
    image: ${PROJECT}-web:1
    command: ["sh", "-c", "echo hello-from-web > /data/index.html && echo web-up && exec httpd -f -vv -p 80 -h /data"]
    volumes:
      - webdata:/data
  client:
    image: bb:1
    depends_on: [web]
    command: ["sh", "-c", "until wget -qO- http://web/; do sleep 0.2; done; echo fetched-ok; trap 'exit 0' TERM; while :; do sleep 0.2; done"]
volumes:
  webdata:
`;

describe('docker-compose 1.29 against berth serve', () => {
  let s: ServeHandle;
  const dir = mkdtempSync(join(tmpdir(), 'berth-api-compose-'));

  const compose = (args: readonly string[], timeout = 120_000): CliResult => {
    const r = spawnSync('docker-compose', ['-p', PROJECT, ...args], {
      cwd: dir,
      env: clientEnv(s.host, { COMPOSE_INTERACTIVE_NO_CLI: '1' }),
      timeout,
      maxBuffer: 64 << 20,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const ok = (r: CliResult, what: string) =>
    assert.equal(r.code, 0, `${what}:\n${r.stdout}\n${r.stderr}\n--- server log (tail) ---\n${s.log().split('\n').slice(-30).join('\n')}`);
  const berth = (args: readonly string[]) => berthIn(s.root, args).stdout;

  before(async () => {
    s = await startServeWithBusybox();
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'web', 'Dockerfile'), 'FROM bb:1\nRUN mkdir -p /data\n');
    writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE_FILE);
  });
  after(async () => {
    if (s) {
      compose(['down', '-v', '-t', '1'], 60_000);
      for (const id of berth(['ps', '-aq']).split('\n').filter(Boolean)) berthIn(s.root, ['rm', '-f', id]);
      await s.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('up -d builds the web image and starts both services on the project network', () => {
    ok(compose(['up', '-d']), 'up -d');
    const names = berth(['ps', '--format', '{{.Names}}']);
    assert.match(names, new RegExp(`${PROJECT}_web_1`));
    assert.match(names, new RegExp(`${PROJECT}_client_1`));
    assert.match(berth(['volume', 'ls']), new RegExp(`${PROJECT}_webdata`));
    assert.match(berth(['network', 'ls']), new RegExp(`${PROJECT}_default`));
  });

  test('the client fetches from the web service by its name', async () => {
    let logs = '';
    for (let i = 0; i < 100 && !logs.includes('fetched-ok'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      logs = compose(['logs', '--no-color', 'client']).stdout;
    }
    assert.match(logs, /hello-from-web\n/);
    assert.match(logs, /fetched-ok/);
  });

  test('ps lists both services as Up', () => {
    const ps = compose(['ps']);
    ok(ps, 'ps');
    assert.match(ps.stdout, new RegExp(`${PROJECT}_web_1 .* Up`));
    assert.match(ps.stdout, new RegExp(`${PROJECT}_client_1 .* Up`));
    const quiet = compose(['ps', '-q']);
    assert.equal(quiet.stdout.trim().split('\n').length, 2);
  });

  test('logs of the web service', () => {
    const logs = compose(['logs', '--no-color', 'web']);
    ok(logs, 'logs web');
    assert.match(logs.stdout, /web_1 +\| web-up/);
  });

  test('exec in a service: output and exit code', () => {
    const cat = compose(['exec', '-T', 'web', 'cat', '/data/index.html']);
    ok(cat, 'exec web');
    assert.equal(cat.stdout, 'hello-from-web\n');
    const fetch = compose(['exec', '-T', 'client', 'wget', '-qO-', 'http://web/']);
    assert.equal(fetch.stdout, 'hello-from-web\n', fetch.stderr);
    assert.equal(compose(['exec', '-T', 'client', 'sh', '-c', 'exit 5']).code, 5);
  });

  test('down -v removes the containers, the named volume and the network', () => {
    ok(compose(['down', '-v', '-t', '2']), 'down -v');
    assert.doesNotMatch(berth(['ps', '-a', '--format', '{{.Names}}']), new RegExp(PROJECT));
    assert.doesNotMatch(berth(['volume', 'ls']), new RegExp(PROJECT));
    assert.doesNotMatch(berth(['network', 'ls']), new RegExp(PROJECT));
    const ps = compose(['ps', '-q']);
    assert.equal(ps.stdout.trim(), '');
  });
});
