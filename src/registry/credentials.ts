/**
 * Credentials in docker's own file, `$DOCKER_CONFIG/config.json` (default ~/.docker): the
 * `auths` entries (base64 user:password), and `credsStore` / `credHelpers`, which name a
 * `docker-credential-<helper>` program speaking get/store/erase on stdin/stdout.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../store/atomic.ts';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function configDir(): string {
  return process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
}

async function readConfig(): Promise<DockerConfig> {
  try {
    return JSON.parse(await readFile(join(configDir(), 'config.json'), 'utf8')) as DockerConfig;
  } catch {
    return {};
  }
}

async function writeConfig(cfg: DockerConfig): Promise<void> {
  await mkdir(configDir(), { recursive: true, mode: 0o700 });
  const path = join(configDir(), 'config.json');
  await writeFileAtomic(path, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
}

/** docker.io's credentials live under its historical key. */
export function configKey(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

function helper(name: string, action: 'get' | 'store' | 'erase', input: string): string | undefined {
  const r = spawnSync(`docker-credential-${name}`, [action], { input, encoding: 'utf8' });
  if (r.error) return undefined;
  if (r.status !== 0) {
    if (action === 'get') return undefined;
    throw new BerthError('UNAVAILABLE', `docker-credential-${name} ${action} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

export async function getCredentials(registry: string): Promise<Credentials | undefined> {
  const cfg = await readConfig();
  const key = configKey(registry);
  const helperName = cfg.credHelpers?.[key] ?? cfg.credHelpers?.[registry] ?? cfg.credsStore;
  if (helperName) {
    const out = helper(helperName, 'get', key);
    if (out) {
      const j = JSON.parse(out) as { Username: string; Secret: string };
      return { username: j.Username, password: j.Secret };
    }
  }
  const entry = cfg.auths?.[key] ?? cfg.auths?.[registry] ?? cfg.auths?.[`https://${registry}`];
  if (!entry) return undefined;
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString();
    const i = plain.indexOf(':');
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** Stores a registry's credentials; says which file holds them in the clear when no helper took them. */
export async function storeCredentials(registry: string, creds: Credentials): Promise<{ unencryptedIn?: string }> {
  const cfg = await readConfig();
  const key = configKey(registry);
  const helperName = cfg.credHelpers?.[key] ?? cfg.credsStore;
  if (helperName) {
    helper(helperName, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }));
    cfg.auths = { ...(cfg.auths ?? {}), [key]: {} };
  } else {
    cfg.auths = { ...(cfg.auths ?? {}), [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  }
  await writeConfig(cfg);
  return helperName ? {} : { unencryptedIn: join(configDir(), 'config.json') };
}

export async function eraseCredentials(registry: string): Promise<boolean> {
  const cfg = await readConfig();
  const key = configKey(registry);
  const helperName = cfg.credHelpers?.[key] ?? cfg.credsStore;
  if (helperName) helper(helperName, 'erase', key);
  if (!cfg.auths?.[key]) return !!helperName;
  delete cfg.auths[key];
  await writeConfig(cfg);
  return true;
}
