"""Scale study of data2vec (and the MLM baseline) on the RHM, on whatever device is present.

    python benchmarks/bench_data2vec.py steptime                      # ms per training step, several sizes
    python benchmarks/bench_data2vec.py steptime --paper              # ... and the paper's encoder (0.4 B params)
    python benchmarks/bench_data2vec.py scale --m 3 --P-units 10 --steps 8000 --objective data2vec
        # one offline run with checkpoints (root probe, C_l at the middle block, teacher-target probes)
        # at 250 * 2**k steps; appends to results/data2vec_scale.json

Timings on a shared CPU are upper bounds (other jobs compete for the cores): see ``uptime``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from ownlatents.data2vec import (EncoderConfig, build_model, clustering_scores, configure_optimizer, default_device,
                                 make_mask, offline_batches, root_probes, run_seeds, target_probes, train)
from ownlatents.rhm import RHM


def step_time(d_model, n_layers, n_heads, d_ff, batch, objective="data2vec", steps=5, top_k=4, device=None):
    device = device or default_device()
    cfg = EncoderConfig(v=16, n_positions=16, d_model=d_model, n_heads=n_heads, n_layers=n_layers, d_ff=d_ff)
    model = build_model(objective, cfg, seed=0, **({"top_k": min(top_k, n_layers)} if objective == "data2vec" else {}))
    model.to(device).train()
    opt = configure_optimizer(model, 1e-4)
    ids = torch.randint(0, 16, (batch, 16), generator=torch.Generator().manual_seed(0)).to(device)
    gen = torch.Generator().manual_seed(1)
    times = []
    for _ in range(steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        mask = make_mask((batch, 16), 0.15, gen, device=device)
        out = model(ids, mask)
        opt.zero_grad()
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if hasattr(model, "after_step"):
            model.after_step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    n_params = sum(p.numel() for p in model.encoder.parameters())
    return dict(d_model=d_model, n_layers=n_layers, batch=batch, objective=objective, params=n_params,
                ms_per_step=1000 * float(np.median(times[1:])), device=str(device), threads=torch.get_num_threads(),
                load=os.getloadavg()[0])


def scale_run(args):
    sd = run_seeds(args.seed)
    torch.manual_seed(sd["model"])
    device = default_device()
    v, s, L = 16, 2, 4
    rhm = RHM(v, args.m, s, L, seed=sd["grammar"])
    P = int(round(args.P_units * v * args.m**3))
    data = rhm.sample(P + args.n_val + args.n_test, sd["sample"], distinct=True)
    tr, va, te = data.select(slice(0, P)), data.select(slice(P, P + args.n_val)), data.select(slice(P + args.n_val, None))
    cfg = EncoderConfig(v=v, n_positions=s**L, d_model=args.d_model, n_heads=args.n_heads, n_layers=args.n_layers,
                        d_ff=4 * args.d_model)
    kw = dict(top_k=args.top_k) if args.objective == "data2vec" else {}
    mid = args.n_layers // 2
    checkpoints = {args.first_eval * 2**k for k in range(30)} | {0}
    rows = []
    t_start = time.perf_counter()

    def evaluate(step, model):
        if step not in checkpoints and step != args.steps:
            return
        t0 = time.perf_counter()
        enc = model.encoder
        row = dict(step=step, samples=step * args.batch, wall_s=time.perf_counter() - t_start, load=os.getloadavg()[0])
        row.update({f"root_{k}": a for k, a in root_probes(enc, tr, va, te, v, kinds=("linear",),
                                                           max_steps=args.probe_steps, seed=sd["probe"]).items()})
        row.update({f"C_{la}_{le}": c for (la, le), c in clustering_scores(
            enc, rhm, levels=(1, 2, 3), layers=(0, mid, args.n_layers), n_pairs=1024, seed=sd["pairs"]).items()})
        if args.objective == "data2vec":
            row.update({f"target_{le}": a for le, a in target_probes(model, tr, va, te, v=v, s=s, levels=(1, 2, 3),
                                                                     max_rows=16384, max_steps=args.probe_steps,
                                                                     seed=sd["probe"]).items()})
        row["eval_s"] = time.perf_counter() - t0
        rows.append(row)
        print(json.dumps({k: round(x, 4) if isinstance(x, float) else x for k, x in row.items()}), flush=True)
        save(done=False)

    path = Path(args.out)
    previous = json.loads(path.read_text()) if path.exists() else []
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def save(done, log=None):
        """Rewrite the file with this run's checkpoints so far (a killed run keeps what it measured)."""
        train_s = time.perf_counter() - t_start - sum(r["eval_s"] for r in rows)
        last = rows[-1]["step"] if rows else 0
        out = dict(args=vars(args), P=P, vm3=v * args.m**3, done=done, steps_done=last,
                   n_params=sum(p.numel() for p in model.encoder.parameters()), train_s=train_s,
                   ms_per_step=1000 * train_s / max(last, 1), checkpoints=rows, log=log or [],
                   torch=torch.__version__, threads=torch.get_num_threads(), device=str(device),
                   date_utc=started)
        path.write_text(json.dumps(previous + [out], indent=1))

    model = build_model(args.objective, cfg, seed=sd["model"], **kw).to(device).eval()
    evaluate(0, model)
    t_start = time.perf_counter()  # training clock starts after the step-0 evaluation
    rows[0]["eval_s"] = 0.0
    log = train(model, offline_batches(tr.tokens, v, args.batch, sd["batch"]), steps=args.steps, lr=args.lr,
                mask_seed=sd["mask"], log_every=args.first_eval, callback=evaluate)  # checkpoints are multiples
    save(done=True, log=log)
    print(f"done: {args.steps} steps -> {path}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["steptime", "scale"])
    ap.add_argument("--paper", action="store_true", help="steptime: also the paper's 8x2048 encoder")
    ap.add_argument("--paper-batch", type=int, default=8)
    ap.add_argument("--objective", default="data2vec", choices=["data2vec", "mlm"])
    ap.add_argument("--m", type=int, default=3)
    ap.add_argument("--P-units", type=float, default=10.0, help="P in units of v m^3")
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--n-layers", type=int, default=4)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--first-eval", type=int, default=250)
    ap.add_argument("--probe-steps", type=int, default=1000)
    ap.add_argument("--n-val", type=int, default=1024)
    ap.add_argument("--n-test", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="results/data2vec_scale.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # denormal Adam states can slow CPU steps several-fold
    if args.mode == "steptime":
        sizes = [(32, 2, 2, 64, 64), (64, 4, 4, 256, 128), (128, 4, 4, 512, 128), (256, 8, 8, 1024, 256)]
        rows = [step_time(*size, objective=obj) for size in sizes for obj in ("data2vec", "mlm")]
        if args.paper:  # the paper's encoder at a small batch; cost is ~linear in the batch at this width
            rows.append(step_time(2048, 8, 32, 8192, args.paper_batch, steps=2))
        for r in rows:
            print(json.dumps(r), flush=True)
        out = Path(args.out if args.out != "results/data2vec_scale.json" else "results/data2vec_steptime.json")
        out.write_text(json.dumps(dict(rows=rows, torch=torch.__version__, cpu_count=os.cpu_count(),
                                       date_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())), indent=1))
    else:
        scale_run(args)


if __name__ == "__main__":
    main()
