"""Per-step time of SLC training (CPU, or CUDA when present) and a one-off profile.

    python benchmarks/bench_slc.py                 # fast-preset and paper configurations
    python benchmarks/bench_slc.py --profile       # + torch.profiler table of the paper config
    python benchmarks/bench_slc.py --json results/slc_bench_cpu.json

A step = student forward, one teacher forward, 2(L-1) losses, UPGrad (torchjd) or mean
aggregation, AdamW, EMA update.  Times are medians over ``--steps`` steps after 3 warm-up
steps, single-threaded unless ``--threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from ownlatents.rhm import RHM
from ownlatents.slc import SLCConfig, SLCTrainer, default_device

CONFIGS = {
    # name: (v, m, s, L, d_h2, batch)
    "fast L=3 v=8 m=4": (8, 4, 3, 3, 64, 64),
    "fast L=3 v=8 m=8": (8, 8, 3, 3, 64, 64),
    "paper main L=4 v=10 m=10": (10, 10, 3, 4, 150, 32),
    "paper depth L=5 v=16 m=8": (16, 8, 3, 5, 150, 32),
}


def time_steps(v, m, s, L, d_h2, batch, aggregator="upgrad", steps=10, device=None):
    """Median seconds per training step."""
    cfg = SLCConfig(v=v, m=m, s=s, L=L, d_h2=d_h2, batch_size=batch, aggregator=aggregator)
    rhm = RHM(v, m, s, L, seed=0)
    x = torch.as_tensor(np.asarray(rhm.sample(batch * (steps + 3), seed=1).tokens, dtype=np.int64))
    tr = SLCTrainer(cfg, seed=0, device=device)
    x = x.to(tr.device)
    times = []
    for i in range(steps + 3):
        if tr.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        tr.step(x[i * batch:(i + 1) * batch])
        if tr.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[3:])), cfg.d_h


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default=None)
    ap.add_argument("--only", default=None, help="substring of the config names to run")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else default_device()
    rows = []
    for name, (v, m, s, L, d_h2, batch) in CONFIGS.items():
        if args.only and args.only not in name:
            continue
        for agg in ("upgrad", "mean"):
            t, d_h = time_steps(v, m, s, L, d_h2, batch, agg, args.steps, device)
            rows.append(dict(config=name, v=v, m=m, s=s, L=L, d_h=d_h, d_h2=d_h2, batch=batch, aggregator=agg,
                             step_s=t, epoch_s_at_P_vm3=t * (v * m ** 3) / batch))
            print(f"{name:28s} {agg:6s} d_h={d_h:4d} step {1e3 * t:8.1f} ms   epoch at P=vm^3: {rows[-1]['epoch_s_at_P_vm3']:8.1f} s",
                  flush=True)
    if args.profile:
        from torch.profiler import profile

        v, m, s, L, d_h2, batch = CONFIGS["paper main L=4 v=10 m=10"]
        cfg = SLCConfig(v=v, m=m, s=s, L=L, d_h2=d_h2, batch_size=batch)
        tr = SLCTrainer(cfg, seed=0, device=device)
        x = torch.as_tensor(np.asarray(RHM(v, m, s, L, 0).sample(batch * 8, seed=1).tokens, dtype=np.int64)).to(tr.device)
        tr.step(x[:batch])
        with profile() as prof:
            for i in range(1, 6):
                tr.step(x[i * batch:(i + 1) * batch])
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    if args.json:
        meta = dict(device=str(device), threads=args.threads, torch=torch.__version__, machine=platform.machine(),
                    cpu_count=__import__("os").cpu_count(), date_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    load_avg=__import__("os").getloadavg(),
                    gpu=torch.cuda.get_device_name() if device.type == "cuda" else None)
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
