/**
 * A bridge container's eth0 attached and detached (CNI ADD, then DEL) by the CNI plugins
 * (network/cni.ts: bridge with host-local) and in process (network/veth.ts), N rounds taking
 * them in turn, each on a fresh named netns: medians in ms of ADD and of DEL. Needs root, and
 * the default bridge up (run one bridge container first). `node --import tsx bench/net-attach-ab.ts [N]`
 */
import { loadavg } from 'node:os';
import { bridgeConfList, DEFAULT_BRIDGE } from '../src/network/bridge.ts';
import * as plugins from '../src/network/cni.ts';
import { createNetns, deleteNetns } from '../src/network/netns.ts';
import * as inProcess from '../src/network/veth.ts';

const n = Number(process.argv[2] ?? 15);
const conf = bridgeConfList(DEFAULT_BRIDGE, { portmap: false });
const ways = { plugins, inProcess } as const;
const times: Record<string, { add: number[]; del: number[] }> = { plugins: { add: [], del: [] }, inProcess: { add: [], del: [] } };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

console.log(`load average at the start: ${load()}`);
for (let i = 0; i < n; i++) {
  const order = i % 2 === 0 ? (['plugins', 'inProcess'] as const) : (['inProcess', 'plugins'] as const);
  for (const way of order) {
    const id = `benchnet${process.pid}${i}${way}`.padEnd(64, '0');
    const name = `berth-bench-${i}-${way}`.slice(0, 30);
    const { path } = await createNetns(name);
    const inv = { containerId: id, netns: path, ifName: 'eth0' };
    try {
      let t = performance.now();
      const result = await ways[way].addNetwork(conf, inv, {});
      times[way]!.add.push(performance.now() - t);
      t = performance.now();
      const errors = await ways[way].delNetwork(conf, inv, {}, result);
      times[way]!.del.push(performance.now() - t);
      if (errors.length) throw errors[0];
    } finally {
      await deleteNetns(name);
    }
  }
}
for (const way of Object.keys(times)) {
  const t = times[way]!;
  console.log(`${way}: ADD ${median(t.add).toFixed(1)} ms, DEL ${median(t.del).toFixed(1)} ms (median of ${n})`);
}
console.log(`load average at the end: ${load()}`);
