"""A PyTorch-style training job: DataLoader-like workers hand batches through /dev/shm to a linear-regression loop.

With PyTorch in the image it uses torch (on CUDA when a GPU is visible); without, numpy with the same structure.
It prints the device, the size of /dev/shm and the memlock limit first: the three things a GPU container gets wrong.
"""
import argparse
import os
import resource
import sys
from multiprocessing import Process, Queue

import numpy as np

BATCH, FEATURES = 4096, 16


def describe_container(device: str) -> None:
    shm = os.statvfs("/dev/shm")
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    memlock = "unlimited" if soft == resource.RLIM_INFINITY else f"{soft // 1024} KiB"
    print(f"device: {device}")
    print(f"/dev/shm: {shm.f_blocks * shm.f_frsize // (1024 * 1024)} MiB, memlock: {memlock}")


def worker(seed: int, batches: int, names: "Queue[str | None]") -> None:
    """A DataLoader worker: writes each batch to a file in /dev/shm (shared memory) and passes its path on."""
    rng = np.random.default_rng(seed)
    true_w = np.arange(1, FEATURES + 1, dtype=np.float32)
    for i in range(batches):
        path = f"/dev/shm/batch-{os.getpid()}-{i}"
        data = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(BATCH, FEATURES + 1))
        data[:, :FEATURES] = rng.normal(size=(BATCH, FEATURES))
        data[:, FEATURES] = data[:, :FEATURES] @ true_w + rng.normal(scale=0.1, size=BATCH)
        data.flush()
        del data
        names.put(path)
    names.put(None)


def batches(workers: int, per_worker: int):
    names: "Queue[str | None]" = Queue(maxsize=2 * workers)
    procs = [Process(target=worker, args=(seed, per_worker, names)) for seed in range(workers)]
    for p in procs:
        p.start()
    done = 0
    while done < workers:
        name = names.get()
        if name is None:
            done += 1
            continue
        batch = np.load(name)
        os.unlink(name)
        yield batch
    for p in procs:
        p.join()


def main() -> None:
    parser = argparse.ArgumentParser(description="berth ML GPU example")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=8, help="batches per worker per epoch")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    device = "cuda" if torch is not None and torch.cuda.is_available() else "cpu"
    describe_container(f"{device} ({'torch ' + torch.__version__ if torch else 'numpy ' + np.__version__})")
    w = torch.zeros(FEATURES, device=device) if torch else np.zeros(FEATURES, dtype=np.float32)
    for epoch in range(args.epochs):
        loss = 0.0
        for batch in batches(args.workers, args.batches):
            if torch:
                b = torch.from_numpy(batch).to(device)
                x, y = b[:, :FEATURES], b[:, FEATURES]
                err = x @ w - y
                w -= 0.5 * (x.T @ err) / BATCH
                loss = float((err**2).mean())
            else:
                x, y = batch[:, :FEATURES], batch[:, FEATURES]
                err = x @ w - y
                w -= 0.5 * (x.T @ err) / BATCH
                loss = float((err**2).mean())
        print(f"epoch {epoch + 1}: loss {loss:.4f}")
    first = [round(float(v), 2) for v in (w.tolist() if torch else w)[:4]]
    print(f"learned w[:4] = {first} (true: [1.0, 2.0, 3.0, 4.0])")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
