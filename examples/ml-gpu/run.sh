#!/bin/sh
# Builds this example and runs its training job with the flags a GPU job wants: every GPU
# (`--gpus all`, through the CDI specs nvidia-ctk writes), the host's IPC namespace and a
# large /dev/shm for DataLoader workers, unlimited locked memory for pinned buffers, and a
# 64 MiB stack. When the CDI specs define no nvidia.com/gpu device it says so and runs the
# same job on the CPU (the flags that need a GPU host are left out).
#
#   examples/ml-gpu/run.sh [ARGS FOR train.py...]
#   BERTH=path/to/berth IMAGE=name:tag BUILD=0 examples/ml-gpu/run.sh --epochs 5
set -eu

BERTH=${BERTH:-berth}
IMAGE=${IMAGE:-berth-example/ml-gpu:1}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "${BUILD:-1}" = 1 ]; then
  $BERTH build -q -t "$IMAGE" "$HERE" >/dev/null
fi

# `berth cdi list` prints one qualified device name a line (vendor/class=name).
if $BERTH cdi list 2>/dev/null | grep -q '^nvidia\.com/gpu='; then
  echo "run.sh: NVIDIA GPUs found in the CDI specs: running on the GPU" >&2
  set -- --gpus all --ulimit memlock=-1 "$IMAGE" "$@"
else
  echo "run.sh: no nvidia.com/gpu device in the CDI specs ($BERTH cdi list): running on the CPU" >&2
  echo "run.sh: on a GPU host, write the specs with: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml" >&2
  set -- "$IMAGE" "$@"
fi
exec $BERTH run --rm --ipc host --shm-size auto --ulimit stack=67108864 "$@"
