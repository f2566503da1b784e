"""Speed and memory of RHM sampling (tokens + the whole latent tree).

Compares ``RHM.iter_samples`` with a plain per-level numpy fancy-indexing loop over the
same configuration (int64 arrays, ``rules[l][parent, choice]``), and measures the peak
resident memory of streaming 10^7 strings at (v=8, m=32, s=3, L=5).

    python benchmarks/bench_sampling.py            # speed table
    python benchmarks/bench_sampling.py --memory   # peak-memory check (takes a few minutes)
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from ownlatents.rhm import RHM

CONFIGS = [
    dict(v=16, m=4, s=2, L=4, P=10**6),
    dict(v=8, m=6, s=3, L=5, P=10**5),
    dict(v=32, m=8, s=2, L=6, P=2 * 10**5),
]


def plain_loop(rhm: RHM, P: int, seed: int, chunk: int = 65536) -> int:
    """The baseline: int64 per-level fancy indexing, same chunking and tree output."""
    rng = np.random.default_rng(seed)
    total = 0
    for start in range(0, P, chunk):
        n = min(chunk, P - start)
        level = rng.integers(0, rhm.v, size=(n, 1))
        tree = [level]
        for l in range(rhm.L - 1, -1, -1):
            choice = rng.integers(0, rhm.m, size=level.shape)
            level = rhm.rules[l][level, choice].reshape(n, -1)
            tree.append(level)
        total += tree[-1].size
    return total


def library(rhm: RHM, P: int, seed: int) -> int:
    total = 0
    for chunk in rhm.iter_samples(P, seed):
        total += chunk.tokens.size
    return total


def best_time(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed() -> None:
    print(f"{'config':<34} {'library tok/s':>14} {'plain loop tok/s':>17} {'ratio':>6}")
    for cfg in CONFIGS:
        cfg = dict(cfg)
        P = cfg.pop("P")
        rhm = RHM(**cfg, seed=0)
        n_tokens = P * rhm.n_tokens
        t_lib = best_time(lambda: library(rhm, P, 1))
        t_plain = best_time(lambda: plain_loop(rhm, P, 1))
        name = f"v={rhm.v} m={rhm.m} s={rhm.s} L={rhm.L} P={P:.0e}"
        print(f"{name:<34} {n_tokens / t_lib:>14.3e} {n_tokens / t_plain:>17.3e} {t_plain / t_lib:>6.1f}")


def memory(P: int = 10**7) -> None:
    rhm = RHM(v=8, m=32, s=3, L=5, seed=0)
    t0 = time.perf_counter()
    n = 0
    for chunk in rhm.iter_samples(P, seed=1, chunk_size=65536):
        n += len(chunk)
    dt = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"streamed {n} strings of {rhm.n_tokens} tokens (+ tree) in {dt:.1f} s; peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="run the 10^7-string peak-memory check")
    args = parser.parse_args()
    memory() if args.memory else speed()
