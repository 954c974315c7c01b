/**
 * `--change` for import and commit: the Dockerfile instructions that only touch the image
 * config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD).
 */
import { BerthError } from '../errors/index.ts';
import type { ContainerConfig, ImageConfig } from '../oci/schema.ts';

function commandWords(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      /* shell form below */
    }
  }
  return ['/bin/sh', '-c', t];
}

function keyValues(rest: string): Array<[string, string]> {
  const t = rest.trim();
  if (!t.includes('=')) {
    const sp = t.search(/\s/);
    return sp < 0 ? [[t, '']] : [[t.slice(0, sp), t.slice(sp).trim()]];
  }
  const out: Array<[string, string]> = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of t.matchAll(re)) {
    let v = m[2]!;
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
  }
  return out;
}

export function applyConfigChanges(image: ImageConfig, changes: readonly string[]): ImageConfig {
  const c: ContainerConfig = { ...(image.config ?? {}) };
  for (const change of changes) {
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
    if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid --change "${change}"`);
    const [, word, rest] = m as unknown as [string, string, string];
    switch (word.toUpperCase()) {
      case 'CMD':
        c.Cmd = commandWords(rest);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandWords(rest);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of keyValues(rest)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(rest)) };
        break;
      case 'EXPOSE':
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.trim().split(/\s+/)) c.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
        break;
      case 'VOLUME':
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : rest.trim().split(/\s+/)) c.Volumes[v] = {};
        break;
      case 'USER':
        c.User = rest.trim();
        break;
      case 'WORKDIR':
        c.WorkingDir = rest.trim();
        break;
      case 'STOPSIGNAL':
        c.StopSignal = rest.trim();
        break;
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), rest.trim()];
        break;
      default:
        throw new BerthError('INVALID_ARGUMENT', `${word} is not a valid change command`, {
          hint: 'valid: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR',
        });
    }
  }
  return { ...image, config: c };
}
