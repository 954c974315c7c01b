/**
 * berth's config file, with keys named as in docker's daemon.json: /etc/berth/config.json as
 * root, ~/.config/berth/config.json ($XDG_CONFIG_HOME) as a user, or the file BERTH_CONFIG
 * names. A missing file is an empty config. The file is read once, at its first use, and
 * checked whole: a bad key fails the command with an error naming the file and the key, as
 * dockerd refuses to start on a bad daemon.json. docs/configuration.md describes each key.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { BerthError } from '../errors/index.ts';
import { parseSize, settings } from './index.ts';

const cidrV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function isCidr(s: string): boolean {
  const m = cidrV4.exec(s);
  if (m) return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
  return !!v6 && v6[1]!.includes(':') && Number(v6[2]) <= 128;
}

/** A registry as references name it: a host (a name, an IPv4, or an IPv6 in brackets) and an optional port. */
const REGISTRY_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;

export function isRegistryHost(s: string): boolean {
  return s.length <= 255 && REGISTRY_HOST.test(s);
}

/**
 * The file's schema, built at its first use (fileSchema): most commands find no file, and
 * building it would cost each of them as this module loads.
 */
function buildSchema() {
  /** A mirror's base URL: http(s), a host, nothing else (docker's ValidateMirror). */
  const mirrorUrl = z.string().refine(
    (s) => {
      if (!URL.canParse(s)) return false;
      const u = new URL(s);
      return (
        (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash
      );
    },
    { message: 'is not a mirror URL: http:// or https://, a host and an optional port, no path, query or credentials' },
  );

  const registryHost = z.string().refine(isRegistryHost, { message: 'is not a registry host such as ghcr.io or 10.0.0.5:5000' });

  const insecureEntry = z.string().refine((s) => isCidr(s) || isRegistryHost(s), {
    message: 'is neither a CIDR (10.0.0.0/8) nor a registry host[:port] (without http://)',
  });

  const addressPool = z
    .object({
      base: z.string().refine((s) => cidrV4.test(s) && isCidr(s), { message: 'is not an IPv4 CIDR such as 10.10.0.0/16' }),
      size: z.number().int().min(8).max(30),
    })
    .strict()
    .refine((p) => p.size >= Number(p.base.split('/')[1]), { message: 'size must be at least the prefix length of base' });

  return z
    .object({
      'registry-mirrors': z.array(mirrorUrl).optional(),
      /** berth's own key, after containerd's hosts.toml: mirrors of any registry, by its host. */
      'registry-host-mirrors': z.record(registryHost, z.array(mirrorUrl)).optional(),
      'insecure-registries': z.array(insecureEntry).optional(),
      'default-address-pools': z.array(addressPool).optional(),
      'log-opts': z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'is not a log option name'), z.string()).optional(),
      features: z.record(z.string().min(1), z.boolean()).optional(),
      /** As daemon.json's: the build cache's automatic clean-up (BuildKit's default GC policy). */
      builder: z
        .object({
          gc: z
            .object({
              enabled: z.boolean().optional(),
              defaultKeepStorage: z
                .string()
                .refine((v) => parseSize(v) !== undefined, { message: 'is not a size such as 20GB' })
                .optional(),
            })
            .strict()
            .optional(),
        })
        .strict()
        .optional(),
    })
    .strict();
}

let schema: ReturnType<typeof buildSchema> | undefined;
const fileSchema = () => (schema ??= buildSchema());

/** The build cache budget the config file sets (0: clean-up turned off), undefined when it sets none. */
export function fileKeepStorage(): number | undefined {
  const gc = fileConfig().builder?.gc;
  if (gc?.enabled === false) return 0;
  return gc?.defaultKeepStorage === undefined ? undefined : parseSize(gc.defaultKeepStorage);
}

export type FileConfig = z.infer<ReturnType<typeof buildSchema>>;

/** The file berth reads: BERTH_CONFIG, else the root's or the user's. */
export function configPath(): string {
  const named = settings().configFile;
  if (named) return named;
  if (process.getuid?.() === 0) return '/etc/berth/config.json';
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'berth', 'config.json');
}

/** The most of a config file read: it is a few keys, not data. */
const MAX_CONFIG_BYTES = 1 << 20;

/** The config in `text`, or a BerthError naming `file` and the first bad key. */
export function parseConfig(text: string, file: string): FileConfig {
  const hint = `fix ${file} (docs/configuration.md lists its keys)`;
  if (text.length > MAX_CONFIG_BYTES) throw new BerthError('INVALID_ARGUMENT', `${file} is larger than 1 MiB`, { hint });
  let json: unknown;
  try {
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    throw new BerthError('INVALID_ARGUMENT', `${file} is not valid JSON: ${(e as Error).message}`, { hint });
  }
  const r = fileSchema().safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(fileSchema().shape).join(', ');
    const where = issue.path.length ? ` in ${issue.path.join('.')}` : '';
    throw new BerthError(
      'INVALID_ARGUMENT',
      `${file}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${where}`,
      {
        hint: issue.path.length ? hint : `berth knows ${known}; ${hint}`,
      },
    );
  }
  const key = issue.path.map(String).join('.') || '(the whole file)';
  let value = '';
  let at: unknown = json;
  for (const p of issue.path) at = (at as Record<string | number, unknown> | undefined)?.[p];
  if (typeof at === 'string') value = ` ${JSON.stringify(at.slice(0, 100))}`;
  throw new BerthError('INVALID_ARGUMENT', `${file}: ${key}${value} ${issue.message.replace(/^Invalid input$/, 'is not valid')}`, { hint });
}

let cached: FileConfig | undefined;

/** This process's config file, read once; {} when there is none. */
export function fileConfig(): FileConfig {
  if (cached) return cached;
  const file = configPath();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || (code === 'ENOTDIR' && !settings().configFile)) return (cached = {});
    throw new BerthError('INVALID_ARGUMENT', `cannot read ${file}: ${code ?? (e as Error).message}`, { cause: e });
  }
  return (cached = parseConfig(text, file));
}
