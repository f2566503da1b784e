"""Tests of the sample-complexity harness: grids, sweeps, storage, thresholds, exponents."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import ownlatents
from ownlatents import sweeps
from ownlatents.sweeps import (
    ExponentFit,
    SweepResult,
    Threshold,
    collapse_spread,
    collapse_spread_rows,
    fit_exponent,
    load_results,
    log_grid,
    param_grid,
    results_dir,
    run_sweep,
    save_results,
    scaled_grid,
    threshold,
    thresholds_by,
)


def logistic(P, P_star, width=0.4, floor=0.0):
    """Accuracy rising from ``floor`` to 1, equal to (1+floor)/2 at P_star (log-P logistic)."""
    z = (np.log(P) - np.log(P_star)) / width
    return floor + (1 - floor) / (1 + np.exp(-z))


# ------------------------------------------------------------------ grids


def test_log_grid_inclusive_sorted_unique():
    g = log_grid(10, 10_000, 4)
    assert g[0] == 10 and g[-1] == 10_000
    assert g == sorted(set(g)) and len(g) == 13
    assert all(isinstance(x, int) for x in g)
    assert log_grid(1, 3, 10) == [1, 2, 3]  # duplicates after rounding removed
    assert log_grid(5, 5, 3) == [5]


def test_scaled_grid_units():
    scale = 8 * 4**3
    g = scaled_grid(scale, 0.1, 100, 3)
    assert g[0] == round(0.1 * scale) and g[-1] == 100 * scale
    ratios = np.array(g) / scale
    assert np.allclose(np.diff(np.log10(ratios)), 1 / 3, atol=0.02)


@pytest.mark.parametrize(
    "args, name",
    [((0, 10, 3), "lo"), ((10, 5, 3), "hi"), ((1, 10, 0), "per_decade")],
)
def test_grid_validation(args, name):
    with pytest.raises(ValueError, match=name):
        log_grid(*args)
    with pytest.raises(ValueError, match="scale"):
        scaled_grid(-1, 1, 10, 2)


def test_param_grid_order():
    g = param_grid(m=[4, 6], L=[3, 4], v=8)
    assert g == [
        dict(m=4, L=3, v=8),
        dict(m=4, L=4, v=8),
        dict(m=6, L=3, v=8),
        dict(m=6, L=4, v=8),
    ]
    with pytest.raises(ValueError, match="m"):
        param_grid(m=[])


# ------------------------------------------------------------------ sweeps


class Counter:
    def __init__(self, fail_at=None):
        self.calls = []
        self.fail_at = fail_at

    def __call__(self, *, P, seed, m, v=8):
        self.calls.append((m, seed, P))
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise RuntimeError("simulated crash")
        acc = float(logistic(P, 2 * v * m**3))
        return {"accuracy": acc, "levels": [acc, acc / 2], "n": np.int64(P)}


def test_run_sweep_table_and_helpers():
    fn = Counter()
    res = run_sweep(fn, P_grid=lambda p: scaled_grid(p["v"] * p["m"] ** 3, 0.1, 10, 2),
                    params=param_grid(m=[2, 3], v=8), seeds=[0, 1], progress=False)
    assert isinstance(res, SweepResult)
    assert len(res) == len(fn.calls) == 2 * 2 * 5
    row = res.rows[0]
    assert set(row) >= {"m", "v", "seed", "P", "accuracy", "levels", "n", "time_s"}
    assert isinstance(row["n"], int) and row["time_s"] >= 0
    assert len(res.filter(m=2)) == 10 and len(res.filter(m=2, seed=1)) == 5
    assert len(res.filter(P=lambda P: P > 100)) == int((res.column("P") > 100).sum())
    assert res.column("levels").shape == (20, 2)
    assert list(res.groups("m")) == [2, 3]
    assert list(res.groups("m", "seed")) == [(2, 0), (2, 1), (3, 0), (3, 1)]
    assert res.unique("seed") == [0, 1]
    with pytest.raises(KeyError):
        res.column("nope")


def test_run_sweep_resumes(tmp_path):
    path = tmp_path / "sub" / "sweep.json"
    kw = dict(P_grid=[10, 100, 1000], params=param_grid(m=[2, 3]), path=path, progress=False)
    fn = Counter()
    first = run_sweep(fn, seeds=[0, 1], **kw)
    assert len(fn.calls) == 12
    fn2 = Counter()
    again = run_sweep(fn2, seeds=[0, 1], **kw)
    assert fn2.calls == []
    assert again.rows == first.rows
    fn3 = Counter()
    more = run_sweep(fn3, seeds=[0, 1, 2], **kw)
    assert sorted(fn3.calls) == sorted((m, 2, P) for m in (2, 3) for P in (10, 100, 1000))
    assert len(more) == 18 and len(load_results(path)) == 18
    # a narrower request returns only its runs but keeps the file whole
    narrow = run_sweep(Counter(), seeds=[0], **kw)
    assert len(narrow) == 6 and len(load_results(path)) == 18
    assert len(load_results(path).provenance["history"]) == 3


def test_run_sweep_in_parallel_equals_serial(tmp_path):
    kw = dict(P_grid=[10, 100, 1000], params=param_grid(m=[2, 3]), seeds=[0, 1], progress=False)
    serial = run_sweep(Counter(), **kw)
    path = tmp_path / "par.json"
    run_sweep(Counter(), **{**kw, "seeds": [0]}, path=path)  # half done: the workers do the rest
    parallel = run_sweep(Counter(), **kw, path=path, jobs=2)
    strip = [{k: v for k, v in r.items() if k != "time_s"} for r in serial.rows]
    assert [{k: v for k, v in r.items() if k != "time_s"} for r in parallel.rows] == strip
    assert len(load_results(path)) == 12
    with pytest.raises(RuntimeError, match="simulated crash"):  # a worker's error reaches the caller
        run_sweep(Counter(fail_at=2), **kw, jobs=2)
    with pytest.raises(ValueError, match="jobs"):
        run_sweep(Counter(), **kw, jobs=0)


def test_run_sweep_crash_leaves_valid_file(tmp_path):
    path = tmp_path / "sweep.json"
    fn = Counter(fail_at=4)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_sweep(fn, P_grid=[10, 100, 1000], params=[{"m": 2}], seeds=[0, 1], path=path, progress=False)
    with open(path) as fh:
        doc = json.load(fh)  # still valid JSON
    assert len(doc["runs"]) == 3
    assert not [p for p in tmp_path.iterdir() if p.name != "sweep.json"]  # no temp files left
    fn2 = Counter()
    res = run_sweep(fn2, P_grid=[10, 100, 1000], params=[{"m": 2}], seeds=[0, 1], path=path, progress=False)
    assert len(fn2.calls) == 3 and len(res) == 6


def test_provenance_fields(tmp_path):
    path = tmp_path / "sweep.json"
    run_sweep(Counter(), P_grid=lambda p: [10 * p["m"]], params=[{"m": 2}, {"m": 3}], seeds=[0],
              path=path, meta={"preset": "fast"}, progress=False)
    prov = load_results(path).provenance
    assert prov["package_version"] == ownlatents.__version__
    assert set(prov["git"]) == {"commit", "dirty"}
    assert prov["versions"]["python"] and prov["versions"]["numpy"] == np.__version__
    assert prov["machine"]["cpu_count"] == __import__("os").cpu_count()
    assert "platform" in prov["machine"]
    assert prov["params"] == [{"m": 2}, {"m": 3}] and prov["seeds"] == [0]
    assert prov["P_grid"] == [[20], [30]]
    assert prov["meta"] == {"preset": "fast"}
    assert prov["fn"].endswith("Counter") and "date_utc" in prov and "created_utc" in prov
    import socket

    assert socket.gethostname() not in json.dumps(prov)


def test_run_sweep_validation(tmp_path):
    with pytest.raises(ValueError, match="P_grid"):
        run_sweep(Counter(), P_grid=[0, 10], params=[{"m": 2}], progress=False)
    with pytest.raises(ValueError, match="P_grid"):
        run_sweep(Counter(), P_grid=[2.5], params=[{"m": 2}], progress=False)
    with pytest.raises(ValueError, match="reserved"):
        run_sweep(Counter(), P_grid=[10], params=[{"m": 2, "seed": 1}], progress=False)
    with pytest.raises(ValueError, match="clash"):
        run_sweep(lambda P, seed, m: {"m": 1.0}, P_grid=[10], params=[{"m": 2}], progress=False)
    with pytest.raises(TypeError, match="dict"):
        run_sweep(lambda P, seed, m: 1.0, P_grid=[10], params=[{"m": 2}], progress=False)
    path = tmp_path / "s.json"
    run_sweep(Counter(), P_grid=[10], params=[{"m": 2}], path=path, progress=False)
    with pytest.raises(ValueError, match="holds results of"):
        run_sweep(lambda P, seed, m: {"a": 1}, P_grid=[10], params=[{"m": 2}], path=path, progress=False)


def test_save_load_roundtrip(tmp_path):
    runs = [{"params": {"m": 2}, "seed": 0, "P": 10, "metrics": {"accuracy": float("nan"), "x": np.float32(1.5)},
             "time_s": 0.1}]
    save_results(tmp_path / "r.json", runs, {"meta": {}})
    res = load_results(tmp_path / "r.json")
    assert math.isnan(res.rows[0]["accuracy"]) and res.rows[0]["x"] == 1.5
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not an ownlatents sweep file"):
        load_results(tmp_path / "bad.json")


def test_results_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OWNLATENTS_RESULTS", str(tmp_path))
    assert results_dir() == tmp_path
    monkeypatch.setenv("OWNLATENTS_RESULTS", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="OWNLATENTS_RESULTS"):
        results_dir()
    monkeypatch.delenv("OWNLATENTS_RESULTS")
    expected = Path(ownlatents.__file__).resolve().parents[2] / "results"
    if expected.is_dir():
        assert results_dir() == expected


# ------------------------------------------------------------------ thresholds


def test_threshold_exact_on_logistic():
    P = np.array(log_grid(10, 100_000, 8), dtype=float)
    for P_star in (137.0, 2500.0, 31_000.0):
        th = threshold(P, logistic(P, P_star))
        assert th.crossed and th.status == "crossed"
        # log-linear interpolation of a log-logistic; error well under the grid step
        assert abs(math.log(th.value / P_star)) < 0.01
        assert math.isnan(th.low) and th.n_seeds == 1


def test_threshold_exact_linear_in_logP():
    P = np.array([10.0, 100.0, 1000.0])
    th = threshold(P, [0.2, 0.4, 0.8], 0.5)
    assert th.value == pytest.approx(10 ** 2.25)
    th = threshold(P, [0.2, 0.6, 0.4], 0.5)  # first upward crossing
    assert th.value == pytest.approx(10 ** 1.75)


def test_threshold_outside_grid():
    P = np.array([10.0, 100.0, 1000.0])
    below = threshold(P, [0.6, 0.8, 0.9])
    assert math.isnan(below.value) and below.below_grid and not below.above_grid
    above = threshold(P, [0.1, 0.2, 0.3])
    assert math.isnan(above.value) and above.above_grid and not above.crossed
    seeds = [0, 0, 0, 1, 1, 1]
    th = threshold(np.r_[P, P], [0.1, 0.2, 0.3] * 2, seeds=seeds)
    assert th.above_grid and math.isnan(th.low)


def test_threshold_median_over_seeds():
    P = np.repeat([10.0, 100.0, 1000.0], 3)
    acc = np.array([0.1, 0.2, 0.9, 0.3, 0.4, 0.45, 0.9, 0.9, 0.9])  # medians 0.2, 0.4, 0.9
    th = threshold(P, acc, seeds=[0, 1, 2] * 3, n_boot=200)
    assert th.value == pytest.approx(10 ** (2 + 0.1 / 0.5))
    assert th.n_seeds == 3
    assert th.low <= th.value <= th.high
    th_mean = threshold(P, acc, stat="mean")
    assert th_mean.value != th.value


def test_threshold_bootstrap_covers_truth():
    rng = np.random.default_rng(1)
    P = np.array(log_grid(10, 100_000, 6), dtype=float)
    P_star = 1500.0
    covered = 0
    for trial in range(20):
        Ps, accs, seeds = [], [], []
        for s in range(8):
            # each seed has its own (random) threshold scattered around P_star, plus noise
            ps = P_star * math.exp(rng.normal(0, 0.15))
            accs.append(np.clip(logistic(P, ps) + rng.normal(0, 0.03, len(P)), 0, 1))
            Ps.append(P)
            seeds.append(np.full(len(P), s))
        th = threshold(np.concatenate(Ps), np.concatenate(accs), seeds=np.concatenate(seeds),
                       n_boot=300, ci=0.9, rng=trial)
        assert th.low < th.value < th.high and th.n_seeds == 8
        covered += th.low <= P_star <= th.high
    assert covered >= 15  # nominal 90%


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(P=[1, 2], accuracy=[0.1]), "P and accuracy"),
        (dict(P=[0, 2], accuracy=[0.1, 0.2]), "P must be"),
        (dict(P=[1, 2], accuracy=[0.1, 0.2], level=1.0), "level"),
        (dict(P=[1, 2], accuracy=[0.1, 0.2], level=0), "level"),
        (dict(P=[1, 2], accuracy=[0.1, 0.2], seeds=[0]), "seeds"),
        (dict(P=[1, 2], accuracy=[0.1, np.nan]), "accuracy"),
        (dict(P=[1, 2], accuracy=[0.1, 0.2], ci=1.5), "ci"),
        (dict(P=[1, 2], accuracy=[0.1, 0.2], stat="mode"), "stat"),
    ],
)
def test_threshold_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        threshold(**kwargs)


def test_thresholds_by_groups_and_scale():
    rows = []
    for m in (2, 3, 4):
        for s in (0, 1):
            for P in log_grid(1, 10_000, 8):
                rows.append(dict(m=m, v=8, seed=s, P=P, accuracy=float(logistic(P, 5 * m**3))))
    ths = thresholds_by(rows, by="m", n_boot=50)
    assert list(ths) == [2, 3, 4]
    for m, th in ths.items():
        assert th.value == pytest.approx(5 * m**3, rel=0.02) and th.n_seeds == 2
    scaled = SweepResult([{"params": {"m": r["m"], "v": r["v"]}, "seed": r["seed"], "P": r["P"],
                           "metrics": {"accuracy": r["accuracy"]}} for r in rows]).thresholds(
        scale=lambda p: p["m"] ** 3, n_boot=0)
    for th in scaled.values():
        assert th.value == pytest.approx(5, rel=0.02)


# ------------------------------------------------------------------ exponents and collapse


def test_fit_exponent_recovers_slope():
    rng = np.random.default_rng(0)
    m = np.array([6, 8, 12, 16, 24, 32], dtype=float)
    P_star = 5 * m**3 * np.exp(rng.normal(0, 0.05, len(m)))
    fit = fit_exponent(m, P_star)
    assert isinstance(fit, ExponentFit)
    assert fit.slope == pytest.approx(3.0, abs=0.1)
    assert fit.slope_low < 3.0 < fit.slope_high
    assert fit.prefactor == pytest.approx(5, rel=0.3)
    assert fit.predict(10.0) == pytest.approx(5000, rel=0.2)
    assert np.shape(fit.predict([1, 2])) == (2,)
    assert math.isnan(fit.slope_low_boot)
    assert "slope" in str(fit)


def test_fit_exponent_bootstrap_and_nan():
    m = np.array([4, 6, 8, 12.0])
    P_star = 5 * m**3
    fit = fit_exponent(m, P_star, low=P_star / 1.3, high=P_star * 1.3)
    assert fit.slope == pytest.approx(3.0)
    assert fit.slope_low_boot < 3.0 < fit.slope_high_boot
    fit2 = fit_exponent(np.r_[m, 16.0], np.r_[P_star, np.nan])
    assert fit2.n == 4 and fit2.n_dropped == 1 and fit2.slope == pytest.approx(3.0)
    two = fit_exponent([2, 4], [8, 64])
    assert two.slope == pytest.approx(3.0) and math.isnan(two.slope_low)


@pytest.mark.parametrize(
    "args, kwargs, name",
    [
        (([1, 2], [1.0]), {}, "m and P_star"),
        (([0, 2], [1.0, 2.0]), {}, "m must"),
        (([1, 2], [-1.0, 2.0]), {}, "P_star"),
        (([1, 2], [np.nan, 2.0]), {}, "at least two"),
        (([2, 2, 2], [1.0, 2.0, 3.0]), {}, "distinct"),
        (([1, 2], [1.0, 2.0]), {"low": [1.0]}, "low"),
        (([1, 2], [1.0, 2.0]), {"low": [1.0, 1.0]}, "together"),
    ],
)
def test_fit_exponent_validation(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        fit_exponent(*args, **kwargs)


def test_collapse_spread_prefers_true_scaling():
    L, v = 4, 8
    rows = []
    for m in (3, 4, 6, 8):
        for P in scaled_grid(v * m**3, 0.01, 1000, 6):
            rows.append(dict(m=m, v=v, L=L, seed=0, P=P, accuracy=float(logistic(P, 2 * v * m**3))))
    good = collapse_spread_rows(rows, lambda p: p["v"] * p["m"] ** 3)
    bad = collapse_spread_rows(rows, lambda p: p["v"] * p["m"] ** (p["L"] + 1))
    assert good < 0.02 < 0.2 < bad
    xs = [np.array([1.0, 10, 100]), np.array([1.0, 10, 100])]
    assert collapse_spread(xs, [[0.1, 0.4, 0.9], [0.1, 0.4, 0.9]]) == pytest.approx(0.0)
    assert math.isnan(collapse_spread(xs, [[0.1, 0.4, 0.9], [0.1, 0.2, 0.3]]))
    with pytest.raises(ValueError, match="curves_x"):
        collapse_spread(xs, [[0.1, 0.2, 0.3]])


def test_threshold_dataclass_str():
    assert "above" in str(Threshold(math.nan, status="above"))
    assert "P* =" in str(Threshold(10.0, 5.0, 20.0, 3))
    assert sweeps.__all__


def test_run_preset_sweeps_names_files_by_section_key_and_preset(tmp_path, monkeypatch):
    from ownlatents.sweeps import run_preset_sweeps

    monkeypatch.setenv("OWNLATENTS_RESULTS", str(tmp_path))
    monkeypatch.setenv("OWNLATENTS_PRESET", "fast")
    calls = []
    run_preset_sweeps("rhm", lambda cfg, path: calls.append((cfg, path)), lambda cfg: ["check"], argv=[])
    assert len(calls) == 1 and calls[0][1] == tmp_path / "rhm_check_fast.json" and "P" in calls[0][0]
    with pytest.raises(ValueError, match="sweep must be one of"):
        run_preset_sweeps("rhm", lambda cfg, path: None, lambda cfg: ["check"], argv=["example"])
    calls.clear()
    run_preset_sweeps("rhm", lambda cfg, path, jobs: calls.append(jobs), lambda cfg: ["check"], argv=["--jobs", "3"])
    assert calls == [3]
    with pytest.raises(ValueError, match="jobs"):
        run_preset_sweeps("rhm", lambda cfg, path: None, lambda cfg: ["check"], argv=["--jobs", "0"])
