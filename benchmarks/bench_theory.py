"""Cost of the exact context vectors (``ownlatents.theory.context_vectors``).

Times one call (transition matrices included; the grammar itself is built beforehand)
at the reference point v=32, m=16, s=2, L=6 and along one-parameter sweeps of v, m and
L, and fits the growth exponent of each sweep.

    python benchmarks/bench_theory.py
"""

from __future__ import annotations

import time

import numpy as np

from ownlatents.rhm import RHM
from ownlatents.theory import context_vectors, fit_power_law

REFERENCE = dict(v=32, m=16, s=2, L=6)
SWEEPS = {
    "v": [dict(v=v, m=16, s=2, L=6) for v in (16, 32, 64, 128, 256)],
    "m": [dict(v=32, m=m, s=2, L=6) for m in (2, 4, 8, 16, 32)],
    "L": [dict(v=32, m=16, s=2, L=L) for L in (3, 4, 6, 8, 10, 12)],
}


def time_context_vectors(v: int, m: int, s: int, L: int, repeats: int = 7, seed: int = 0) -> float:
    """Median wall time (s) of ``context_vectors(rhm, level=0)`` over ``repeats`` calls."""
    rhm = RHM(v, m, s, L, seed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        context_vectors(rhm, 0)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> dict:
    results = {"reference": time_context_vectors(**REFERENCE)}
    print(f"reference {REFERENCE}: {results['reference'] * 1e3:.2f} ms")
    for name, configs in SWEEPS.items():
        xs = np.array([c[name] for c in configs], float)
        ts = np.array([time_context_vectors(**c) for c in configs])
        slope, _ = fit_power_law(xs[-3:], ts[-3:])
        results[name] = dict(x=xs.tolist(), seconds=ts.tolist(), exponent_last3=slope)
        row = ", ".join(f"{name}={int(x)}: {t * 1e3:.2f} ms" for x, t in zip(xs, ts))
        print(f"{name} sweep: {row}; time ~ {name}^{slope:.2f} (last 3 points)")
    return results


if __name__ == "__main__":
    main()
