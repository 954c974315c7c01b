/**
 * The CAs berth's TLS connections trust. NODE_EXTRA_CA_CERTS makes Node read and parse the
 * named bundle as it starts, before any of berth runs, which slows every command where it
 * names the system's CAs (docs/benchmarks.md). So bin/berth hands the file over as
 * BERTH_EXTRA_CA_CERTS instead, and the file is read here, on the first connection that
 * needs it. Unset (or berth started without bin/berth, when Node has loaded them itself),
 * Node's default store serves.
 */
import { rootCertificates } from 'node:tls';
import { readFileSync } from 'node:fs';
import { BerthError } from '../errors/index.ts';
import { settings } from '../config/index.ts';

let cached: string[] | null | undefined;

/** Node's root CAs plus the extra ones, or undefined for Node's default store. */
export async function trustedCAs(): Promise<string[] | undefined> {
  if (cached === undefined) {
    const file = settings().extraCaCerts;
    if (!file) cached = null;
    else {
      let extra: string;
      try {
        extra = readFileSync(file, 'utf8');
      } catch (e) {
        throw new BerthError('INVALID_ARGUMENT', `cannot read the extra CA certificates in ${file}: ${(e as Error).message}`, {
          hint: 'NODE_EXTRA_CA_CERTS names a PEM file',
          cause: e,
        });
      }
      cached = [...rootCertificates, extra];
    }
  }
  return cached ?? undefined;
}
