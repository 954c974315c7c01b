/** Build args: the predefined platform and proxy ARGs, and `--build-arg` overrides. */
import { formatPlatform, hostPlatform } from '../oci/platform.ts';
import type { Platform } from '../oci/schema.ts';

export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

export function predefinedArgs(target: Platform = hostPlatform()): Map<string, string> {
  const build = hostPlatform();
  return new Map([
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}
