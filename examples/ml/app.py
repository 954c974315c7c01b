"""A tiny numpy job: statistics and a least-squares fit over a sequence seeded by --input."""
import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description="berth ML example")
    parser.add_argument("--input", type=int, default=1234, help="length of the sequence")
    args = parser.parse_args()

    x = np.arange(args.input, dtype=np.float64)
    rng = np.random.default_rng(seed=args.input)
    y = 3.0 * x + 7.0 + rng.normal(0.0, 1.0, size=x.shape)
    slope, intercept = np.polyfit(x, y, deg=1)

    print(f"numpy {np.__version__}: n={args.input} sum={int(x.sum())} mean={x.mean():.1f}")
    print(f"least-squares fit: y = {slope:.3f} * x + {intercept:.2f}")


if __name__ == "__main__":
    main()
