#!/usr/bin/env bash
# Installs everything berth and its tests need on a bare Debian 12 machine (as root):
# system tools from apt, node modules from npm, then the CLI bundle. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  runc                          # the OCI runtime berth drives
  iptables iproute2             # bridge networking, NAT, netns
  containernetworking-plugins   # CNI bridge, host-local, portmap, loopback
  aardvark-dns                  # container names on user networks
  slirp4netns passt             # rootless networking: the default network and -p (pasta when slirp4netns is missing)
  attr                          # setfattr/getfattr: overlay opaque dirs (without berth's addon)
  gcc libc6-dev                 # compiles berth's addon, native/berth_sys.c (npm run build)
  zstd                          # zstd layers: push --compression-format zstd, and pulling them
  tini                          # --init
  qemu-user-static              # images of other architectures (--platform), via binfmt_misc
  busybox-static                # test and example base images
  debootstrap                   # the Debian base image for examples/ml
  docker-registry               # a real registry for push/pull tests
  skopeo umoci                  # independent OCI validators in tests
  docker.io                     # a real Docker engine for differential tests
  docker-compose                # compose 1.29 drives berth serve in the API tests
  apache2-utils openssl         # htpasswd + TLS certs for registry auth tests
  openssh-server openssh-client git  # sshd, ssh-agent and git for the RUN --mount=type=ssh tests
  ca-certificates curl
  chromium                      # headless screenshots of the `image explain --html` page in tests
  uidmap fuse-overlayfs podman  # rootless berth (newuidmap/newgidmap; overlay fallback) and rootless Podman to bench against
)

# The arm64 busybox of the platform tests comes from apt (`apt-get download busybox-static:arm64`).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  NEED_UPDATE=1
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif [ -n "${NEED_UPDATE:-}" ]; then
  apt-get update -qq
fi

if [ ! -d node_modules/better-sqlite3/build ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Rootless networking (slirp4netns, pasta) opens /dev/net/tun as the user. Debian's udev makes
# it 0666; a machine without udev may have it root-only, which leaves rootless containers no network.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then chmod 0666 /dev/net/tun; fi

npm run build --silent
