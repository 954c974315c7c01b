/**
 * Running CNI plugins as the CNI spec says: the command in CNI_COMMAND, the container and
 * netns in env, the plugin's network config as JSON on stdin, the result as JSON on stdout.
 * A conflist runs its plugins in order for ADD and CHECK and in reverse for DEL; each ADD
 * passes its result to the next plugin as prevResult, and CHECK and DEL get the cached
 * result of the whole ADD. runtimeConfig reaches only the plugins whose `capabilities`
 * ask for that key, as a runtime such as containerd does it.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../errors/index.ts';
import { settings } from '../config/index.ts';

export const CNI_PATH = settings().cniPath;
/** The installed plugins (containernetworking-plugins 1.1) speak 1.0.0; firewall needs ≥ 0.4.0. */
export const CNI_VERSION = '1.0.0';
const PLUGIN_TIMEOUT_MS = 60_000;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';
export type CniResult = Record<string, unknown>;

/** A conflist, as a file in /etc/cni/net.d would hold it. */
export interface CniConfList {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: ReadonlyArray<Record<string, unknown>>;
}

export interface CniInvocation {
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
}

function pluginError(type: string, command: string, stdout: string, stderr: string, code: number | null): BerthError {
  let msg = stderr.trim() || stdout.trim() || `exit status ${code}`;
  try {
    const j = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    if (j.msg) msg = [j.msg, j.details].filter(Boolean).join(': ');
  } catch {
    /* not a CNI error object: keep the plain text */
  }
  return new BerthError('RUNTIME', `CNI plugin ${type} ${command} failed: ${msg}`);
}

export function runPlugin(type: string, config: Record<string, unknown>, command: CniCommand, inv: CniInvocation): Promise<CniResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${CNI_PATH}/${type}`, [], {
      env: { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: inv.containerId, CNI_NETNS: inv.netns, CNI_IFNAME: inv.ifName, CNI_PATH },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: PLUGIN_TIMEOUT_MS,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(
        new BerthError('UNAVAILABLE', `run CNI plugin ${type}: ${e.message}`, {
          hint: `install containernetworking-plugins (plugins are looked up in ${CNI_PATH}, or BERTH_CNI_PATH)`,
        }),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) return reject(pluginError(type, command, out, err, code));
      if (!out.trim()) return resolve({});
      try {
        resolve(JSON.parse(out) as CniResult);
      } catch {
        reject(new BerthError('RUNTIME', `CNI plugin ${type} ${command} printed a result that is not JSON`));
      }
    });
    child.stdin.on('error', () => undefined); // a plugin may exit before reading stdin; close reports it
    child.stdin.end(JSON.stringify(config));
  });
}

/** A plugin's config as a conflist hands it over: the list's version and name, its runtimeConfig keys, the prevResult. */
export function pluginConfig(
  conf: CniConfList,
  plugin: Record<string, unknown>,
  runtimeConfig: Record<string, unknown>,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
  const rc = Object.fromEntries(Object.entries(runtimeConfig).filter(([k]) => caps[k]));
  return {
    ...plugin,
    cniVersion: conf.cniVersion,
    name: conf.name,
    ...(Object.keys(rc).length ? { runtimeConfig: rc } : {}),
    ...(prevResult ? { prevResult } : {}),
  };
}

/** ADD through the list; returns the last plugin's result, the network's result. */
export async function addNetwork(conf: CniConfList, inv: CniInvocation, runtimeConfig: Record<string, unknown>): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const plugin of conf.plugins) prev = await runPlugin(String(plugin.type), pluginConfig(conf, plugin, runtimeConfig, prev), 'ADD', inv);
  return prev ?? {};
}

export async function checkNetwork(conf: CniConfList, inv: CniInvocation, runtimeConfig: Record<string, unknown>, cached: CniResult): Promise<void> {
  for (const plugin of conf.plugins) await runPlugin(String(plugin.type), pluginConfig(conf, plugin, runtimeConfig, cached), 'CHECK', inv);
}

/**
 * DEL through the list in reverse. Every plugin runs even when one fails, so as little as
 * possible is left behind; the errors come back for the caller to report.
 */
export async function delNetwork(
  conf: CniConfList,
  inv: CniInvocation,
  runtimeConfig: Record<string, unknown>,
  cached: CniResult | undefined,
): Promise<BerthError[]> {
  const errors: BerthError[] = [];
  for (const plugin of [...conf.plugins].reverse()) {
    try {
      await runPlugin(String(plugin.type), pluginConfig(conf, plugin, runtimeConfig, cached), 'DEL', inv);
    } catch (e) {
      errors.push(e instanceof BerthError ? e : new BerthError('RUNTIME', String(e)));
    }
  }
  return errors;
}
