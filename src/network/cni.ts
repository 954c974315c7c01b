/**
 * Running CNI plugins as the CNI spec says: the command in CNI_COMMAND, the container and
 * netns in env, the network config as JSON on stdin, the result as JSON on stdout. A
 * chained list (bridge → portmap) passes each plugin's result to the next as prevResult.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../errors/index.ts';

export const CNI_PATH = process.env.BERTH_CNI_PATH ?? '/usr/lib/cni';
export const CNI_VERSION = '1.0.0';

export interface CniInvocation {
  readonly command: 'ADD' | 'DEL' | 'CHECK';
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
}

export function runPlugin(type: string, config: Record<string, unknown>, inv: CniInvocation): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${CNI_PATH}/${type}`, [], {
      env: { ...process.env, CNI_COMMAND: inv.command, CNI_CONTAINERID: inv.containerId, CNI_NETNS: inv.netns, CNI_IFNAME: inv.ifName, CNI_PATH },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new BerthError('UNAVAILABLE', `cannot run CNI plugin ${type}: ${e.message}`, { hint: 'install containernetworking-plugins' })));
    child.on('close', (code) => {
      if (code === 0) {
        try {
          resolve(out.trim() ? (JSON.parse(out) as Record<string, unknown>) : {});
        } catch {
          resolve({});
        }
        return;
      }
      let msg = err.trim() || out.trim();
      try {
        const j = JSON.parse(out) as { msg?: string; details?: string };
        msg = [j.msg, j.details].filter(Boolean).join(': ');
      } catch {
        /* plain text error */
      }
      reject(new BerthError('RUNTIME', `CNI plugin ${type} ${inv.command} failed: ${msg}`));
    });
    child.stdin.end(JSON.stringify(config));
  });
}

/** Runs a conflist's plugins in order for ADD, in reverse for DEL; returns the final result. */
export async function runChain(name: string, plugins: ReadonlyArray<Record<string, unknown>>, inv: CniInvocation, runtimeConfig: Record<string, unknown> = {}, prevResult?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const order = inv.command === 'DEL' ? [...plugins].reverse() : plugins;
  let prev = prevResult;
  let firstError: unknown;
  for (const p of order) {
    const config = { ...p, cniVersion: CNI_VERSION, name, runtimeConfig, ...(prev ? { prevResult: prev } : {}) };
    try {
      const result = await runPlugin(String(p.type), config, inv);
      if (inv.command === 'ADD') prev = result;
    } catch (e) {
      if (inv.command !== 'DEL') throw e;
      firstError ??= e; // DEL goes on through every plugin: leave as little behind as possible
    }
  }
  if (firstError) throw firstError;
  return prev ?? {};
}
