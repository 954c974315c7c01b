#!/usr/bin/env bash
# Writes a minimal Debian bookworm rootfs tarball to stdout, made with debootstrap from the
# machine's own apt mirror. The result is cached per day under ${BERTH_CACHE:-/var/cache/berth}.
set -euo pipefail
cache=${BERTH_CACHE:-/var/cache/berth}
tarball="$cache/debian-bookworm-minbase-$(date +%Y%m%d).tar"
if [ ! -s "$tarball" ]; then
  mkdir -p "$cache"
  mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | awk '{print $2}' | grep -v security | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  work=$(mktemp -d "$cache/debootstrap.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >&2
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
  # Two runs at once each write their own tar and the last rename wins: both are whole.
  tar --numeric-owner -C "$work/rootfs" -cf "$work/base.tar" .
  mv "$work/base.tar" "$tarball"
fi
cat "$tarball"
