"""Speed and memory of one ILC fit, split into sampling, counting and k-means.

    python benchmarks/bench_ilc.py                 # (v, m, s, L, P) = (8, 32, 3, 5, 10^6), every variant
    python benchmarks/bench_ilc.py --P 10000000    # 10^7 strings: streamed, bounded memory
    python benchmarks/bench_ilc.py --no-cache      # regenerate the stream at every level

Peak resident memory is reported (ru_maxrss).
"""

from __future__ import annotations

import argparse
import resource
import time

from sklearn.cluster import KMeans  # noqa: F401  (import outside the timings: it takes seconds)

from ownlatents.ilc import fit_path
from ownlatents.rhm import RHM

VARIANTS = [{}, {"pool_blocks": True}, {"context": "all"}, {"context": "all", "pool_blocks": True}]


def bench(v: int, m: int, s: int, L: int, P: int, seed: int, options: dict, cache_bytes: int) -> dict:
    rhm = RHM(v, m, s, L, seed=seed)
    test = rhm.sample(10_000, seed + 20_000)
    timing: dict = {}
    t0 = time.perf_counter()
    est = fit_path(rhm, [P], seed + 10_000, timing=timing, cache_bytes=cache_bytes, kmeans_seed=seed, **options)[0]
    total = time.perf_counter() - t0
    return dict(total_s=total, **{f"{k}_s": t for k, t in timing.items()}, accuracy=est.score(test))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--v", type=int, default=8)
    ap.add_argument("--m", type=int, default=32)
    ap.add_argument("--s", type=int, default=3)
    ap.add_argument("--L", type=int, default=5)
    ap.add_argument("--P", type=int, default=10**6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cache", action="store_true", help="regenerate the stream at every level")
    ap.add_argument("--default-only", action="store_true", help="only Algorithm 1 (no variants)")
    a = ap.parse_args()
    cache = 0 if a.no_cache else 2**28
    print(f"ILC fit, v={a.v} m={a.m} s={a.s} L={a.L} P={a.P:.3g} (cache {'off' if a.no_cache else '256 MB'})")
    for options in VARIANTS[:1] if a.default_only else VARIANTS:
        r = bench(a.v, a.m, a.s, a.L, a.P, a.seed, options, cache)
        acc = ", ".join(f"{x:.3f}" for x in r["accuracy"])
        print(f"{str(options or 'Algorithm 1'):<45s} total {r['total_s']:6.1f} s = sampling {r['sampling_s']:5.1f}"
              f" + counting {r['counting_s']:5.1f} + k-means {r['kmeans_s']:5.1f};  accuracy per level [{acc}]",
              flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


if __name__ == "__main__":
    main()
