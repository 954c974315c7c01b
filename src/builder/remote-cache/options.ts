/**
 * `--cache-to` and `--cache-from` as buildx writes them: comma-separated key=value pairs,
 * `type=registry,ref=R[,mode=min|max][,mounts=true]`, `type=local,dest=DIR` / `type=local,src=DIR`,
 * `type=inline`; a bare reference means `type=registry,ref=REF`, as buildx reads it.
 */
import { BerthError } from '../../errors/index.ts';
import { parseReference } from '../../reference/index.ts';

export type CacheMode = 'min' | 'max';

export type CacheExportSpec =
  | { readonly type: 'registry'; readonly ref: string; readonly mode: CacheMode; readonly mounts: boolean }
  | { readonly type: 'local'; readonly dest: string; readonly tag: string; readonly mode: CacheMode; readonly mounts: boolean }
  | { readonly type: 'inline' };

export type CacheImportSpec =
  | { readonly type: 'registry'; readonly ref: string }
  | { readonly type: 'local'; readonly src: string; readonly tag: string; readonly digest?: string };

const MAX_SPEC = 4096;

function pairs(spec: string, flag: string): Map<string, string> {
  if (spec.length > MAX_SPEC) throw invalid(flag, `${spec.slice(0, 40)}…`, `longer than ${MAX_SPEC} characters`);
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw invalid(flag, spec, `"${part}" is not key=value`);
    const key = part.slice(0, i).trim().toLowerCase();
    if (out.has(key)) throw invalid(flag, spec, `"${key}" is given twice`);
    out.set(key, part.slice(i + 1));
  }
  return out;
}

function invalid(flag: string, spec: string, why: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `invalid ${flag} "${spec}": ${why}`, {
    hint:
      flag === '--cache-to'
        ? 'use type=registry,ref=REF[,mode=max][,mounts=true], type=local,dest=DIR or type=inline'
        : 'use type=registry,ref=REF or type=local,src=DIR',
  });
}

function onlyKeys(kv: Map<string, string>, allowed: readonly string[], flag: string, spec: string): void {
  // Keys buildx accepts that change nothing here (compression, oci-mediatypes...) are accepted and left alone.
  const ignored = ['compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'image-manifest', 'ignore-error'];
  for (const k of kv.keys()) if (!allowed.includes(k) && !ignored.includes(k)) throw invalid(flag, spec, `unknown key "${k}"`);
}

function bool(v: string | undefined, flag: string, spec: string, key: string): boolean {
  if (v === undefined) return false;
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw invalid(flag, spec, `${key} is true or false`);
}

function mode(v: string | undefined, spec: string): CacheMode {
  if (v === undefined || v === 'min') return 'min';
  if (v === 'max') return 'max';
  throw invalid('--cache-to', spec, 'mode is min or max');
}

function ref(v: string | undefined, flag: string, spec: string): string {
  if (!v) throw invalid(flag, spec, 'ref is required');
  try {
    parseReference(v);
  } catch {
    throw invalid(flag, spec, `"${v}" is not a valid reference`);
  }
  return v;
}

function dir(v: string | undefined, flag: string, spec: string, key: string): string {
  if (!v) throw invalid(flag, spec, `${key} is required`);
  if (v.includes('\0')) throw invalid(flag, spec, `${key} is not a path`);
  return v;
}

function tagOf(v: string | undefined, flag: string, spec: string): string {
  const tag = v ?? 'latest';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw invalid(flag, spec, `"${tag}" is not a valid tag`);
  return tag;
}

export function parseCacheTo(spec: string): CacheExportSpec {
  const kv = pairs(spec, '--cache-to');
  const type = kv.get('type') ?? 'registry';
  if (type === 'inline') {
    onlyKeys(kv, ['type', 'mode'], '--cache-to', spec);
    if (kv.get('mode') === 'max') throw invalid('--cache-to', spec, "an inline cache holds only the image's own layers (mode=min)");
    return { type };
  }
  if (type === 'registry') {
    onlyKeys(kv, ['type', 'ref', 'mode', 'mounts'], '--cache-to', spec);
    return {
      type,
      ref: ref(kv.get('ref'), '--cache-to', spec),
      mode: mode(kv.get('mode'), spec),
      mounts: bool(kv.get('mounts'), '--cache-to', spec, 'mounts'),
    };
  }
  if (type === 'local') {
    onlyKeys(kv, ['type', 'dest', 'tag', 'mode', 'mounts'], '--cache-to', spec);
    return {
      type,
      dest: dir(kv.get('dest'), '--cache-to', spec, 'dest'),
      tag: tagOf(kv.get('tag'), '--cache-to', spec),
      mode: mode(kv.get('mode'), spec),
      mounts: bool(kv.get('mounts'), '--cache-to', spec, 'mounts'),
    };
  }
  throw invalid('--cache-to', spec, `unsupported cache type "${type}"`);
}

export function parseCacheFrom(spec: string): CacheImportSpec {
  if (!spec.includes('=')) return { type: 'registry', ref: ref(spec, '--cache-from', spec) };
  const kv = pairs(spec, '--cache-from');
  const type = kv.get('type') ?? 'registry';
  if (type === 'registry') {
    onlyKeys(kv, ['type', 'ref'], '--cache-from', spec);
    return { type, ref: ref(kv.get('ref'), '--cache-from', spec) };
  }
  if (type === 'local') {
    onlyKeys(kv, ['type', 'src', 'tag', 'digest'], '--cache-from', spec);
    const digest = kv.get('digest');
    if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) throw invalid('--cache-from', spec, 'digest is sha256:<64 hex>');
    return { type, src: dir(kv.get('src'), '--cache-from', spec, 'src'), tag: tagOf(kv.get('tag'), '--cache-from', spec), digest };
  }
  throw invalid('--cache-from', spec, `unsupported cache type "${type}"`);
}
