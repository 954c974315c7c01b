/**
 * Image references with Docker's normalization rules (no I/O):
 * `ubuntu` → `docker.io/library/ubuntu:latest`; a first component with `.` or `:`, or
 * `localhost`, is a registry; `name:tag@sha256:…` keeps both tag and digest.
 */
import { BerthError } from '../errors/index.ts';
import { isDigest, type Digest } from '../oci/digest.ts';

export interface Reference {
  readonly registry: string;
  /** Path within the registry, e.g. `library/ubuntu`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DEFAULT_REGISTRY = 'docker.io';
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_RE =
  /^(?:\[[a-fA-F0-9:]+(?:%[\w.]+)?\]|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*)(?::[0-9]+)?$/;
const MAX_NAME = 255;

function invalid(s: string, why: string, hint?: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `invalid reference format "${s}": ${why}`, {
    hint: hint ?? 'a reference looks like [registry/]name[:tag][@sha256:digest], in lowercase',
  });
}

/** Splits off a registry the way docker does: only when the first part looks like a host. */
function splitRegistry(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_REGISTRY, name];
  const first = name.slice(0, slash);
  // As docker/distribution: a host has a dot or a port, is localhost, or has uppercase letters.
  const isHost = first === 'localhost' || first.includes('.') || first.includes(':') || first.toLowerCase() !== first;
  return isHost ? [first, name.slice(slash + 1)] : [DEFAULT_REGISTRY, name];
}

export function parseReference(input: string): Reference {
  const s = input.trim();
  if (!s) throw invalid(input, 'repository name must have at least one component');
  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw invalid(input, `invalid digest "${d}"`, 'a digest is sha256: followed by 64 lowercase hex characters');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      throw invalid(
        input,
        tag.length > 128 ? 'tag is longer than 128 characters' : `invalid tag "${tag}"`,
        'a tag has up to 128 letters, digits, _, . and -, and does not start with . or -',
      );
    }
  }
  if (!rest) throw invalid(input, 'repository name must have at least one component');
  let [registry, path] = splitRegistry(rest);
  if (!DOMAIN_RE.test(registry)) throw invalid(input, `invalid registry "${registry}"`);
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (path !== path.toLowerCase()) throw invalid(input, 'repository name must be lowercase');
  const parts = path.split('/');
  for (const p of parts) {
    if (!PATH_COMPONENT_RE.test(p)) throw invalid(input, p === '' ? 'empty path component' : `invalid repository name component "${p}"`);
  }
  if (registry === DEFAULT_REGISTRY && parts.length === 1) path = `library/${path}`;
  if (registry.length + 1 + path.length > MAX_NAME) throw invalid(input, `repository name must not be more than ${MAX_NAME} characters`);
  return { registry, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Adds `:latest` when the reference names neither a tag nor a digest. */
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}

/** `docker.io/library/ubuntu` */
export function repositoryName(r: Reference): string {
  return `${r.registry}/${r.repository}`;
}

/** `docker.io/library/ubuntu:latest`, `host:5000/a@sha256:…` */
export function formatReference(r: Reference): string {
  return `${repositoryName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Docker's short form of the repository: `ubuntu`, `user/app`, `localhost:5000/a`. */
export function familiarRepository(r: Reference): string {
  if (r.registry !== DEFAULT_REGISTRY) return repositoryName(r);
  // `docker.io/mcr.microsoft.com/x` must keep its registry: without it, the name reads as
  // the image x on mcr.microsoft.com (docker's own short form has this ambiguity).
  if (splitRegistry(r.repository)[0] !== DEFAULT_REGISTRY) return repositoryName(r);
  return r.repository.startsWith('library/') && r.repository.split('/').length === 2 ? r.repository.slice(8) : r.repository;
}

/** Docker's short form: `ubuntu:latest`, `user/app:1`, `localhost:5000/a:b`. */
export function familiarName(r: Reference): string {
  return `${familiarRepository(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** A 64-hex string (or `sha256:` + 64 hex) is an image id to docker, never a name. */
export function looksLikeImageId(s: string): boolean {
  return /^(sha256:)?[a-f0-9]{64}$/.test(s);
}

/** The host to talk to for a registry name (`docker.io` is served by registry-1.docker.io). */
export function registryHost(r: Reference | string): string {
  const reg = typeof r === 'string' ? r : r.registry;
  return reg === DEFAULT_REGISTRY ? 'registry-1.docker.io' : reg;
}
