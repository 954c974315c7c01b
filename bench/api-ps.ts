/**
 * `node --import tsx bench/api-ps.ts SOCKET [N] [ROUNDS]`: N concurrent `GET /containers/json?all=1`
 * on an Engine API socket, ROUNDS times after a small warm-up; prints the median and p99
 * latency over all of them (ms) and whether every answer was 200. Each request opens its own
 * connection, as N separate clients would.
 */
import { request } from 'node:http';

const [socketPath, nArg = '200', roundsArg = '3'] = process.argv.slice(2);
if (!socketPath) throw new Error('usage: bench/api-ps.ts SOCKET [N] [ROUNDS]');
const n = Number(nArg);
const rounds = Number(roundsArg);

function one(): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request({ socketPath, path: '/v1.41/containers/json?all=1', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    req.end();
  });
}

const burst = (size: number) => Promise.all(Array.from({ length: size }, one));

await burst(20);
const all: number[] = [];
let failed = 0;
for (let r = 0; r < rounds; r++) {
  for (const x of await burst(n)) {
    all.push(x.ms);
    if (x.status !== 200) failed++;
  }
}
all.sort((a, b) => a - b);
const at = (q: number) => all[Math.min(all.length - 1, Math.ceil(all.length * q) - 1)];
console.log(`median=${at(0.5).toFixed(1)} p99=${at(0.99).toFixed(1)} non200=${failed}`);
