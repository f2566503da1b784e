"""The standard figures draw without error on synthetic sweeps."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ownlatents import plots  # noqa: E402
from ownlatents.sweeps import SweepResult, fit_exponent, save_results, scaled_grid  # noqa: E402


def synthetic_rows(ms=(3, 4, 6), v=8, seeds=(0, 1), shift=1.0, noise=0.03, rng=0):
    rng = np.random.default_rng(rng)
    rows = []
    for m in ms:
        for s in seeds:
            for P in scaled_grid(v * m**3, 0.05, 50, 4):
                z = (np.log(P) - np.log(shift * 2 * v * m**3)) / 0.5
                acc = 1 / v + (1 - 1 / v) / (1 + np.exp(-z)) + rng.normal(0, noise)
                rows.append(dict(m=m, v=v, L=3, seed=s, P=P, accuracy=float(np.clip(acc, 0, 1))))
    return rows


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_group_colors_sequential():
    c = plots.group_colors([6, 3, 4, 3])
    assert list(c) == [3, 4, 6] and len(set(c.values())) == 3


def test_accuracy_vs_P_variants(tmp_path):
    rows = synthetic_rows()
    fig = plots.accuracy_vs_P(rows, chance=1 / 8, level=0.5)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) >= 3
    fig = plots.accuracy_vs_P(rows, scale=lambda p: p["v"] * p["m"] ** 3, band="seeds",
                              overlay=synthetic_rows(shift=1.2, rng=1), xlabel="P/(v m^3)")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "full preset (results/)" in labels and "m = 3" in labels
    _, ax = plt.subplots()
    assert plots.accuracy_vs_P(rows, ax=ax, group=None, band=None, legend=False) is ax.figure
    # from a SweepResult and from a file
    runs = [{"params": {k: r[k] for k in ("m", "v", "L")}, "seed": r["seed"], "P": r["P"],
             "metrics": {"accuracy": r["accuracy"]}} for r in rows]
    plots.accuracy_vs_P(SweepResult(runs), metric=lambda r: r["accuracy"])
    save_results(tmp_path / "r.json", runs, {})
    plots.accuracy_vs_P(tmp_path / "r.json")
    with pytest.raises(ValueError, match="band"):
        plots.accuracy_vs_P(rows, band="bogus")


def test_pstar_vs_m():
    m = np.array([4, 6, 8, 12.0])
    P = 5 * m**3 * np.array([1.1, 0.9, 1.05, 1.0])
    fig = plots.pstar_vs_m(m, P, P / 1.2, P * 1.2, L=4)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("fit" in t for t in labels) and any("m^{3}" in t for t in labels) and any("m^{5}" in t for t in labels)
    # nan points and infinite bounds are tolerated; explicit fit; no fit
    P2 = P.copy()
    P2[0] = np.nan
    plots.pstar_vs_m(m, P2, np.r_[0, P[1:] / 2], np.r_[np.inf, P[1:] * 2], L=3, fit=fit_exponent(m, P))
    plots.pstar_vs_m(m, P, L=3, fit=False, overlay=(m, P * 1.1))


def test_pstar_vs_depth():
    from ownlatents.sweeps import Threshold, thresholds_by

    rows = [dict(r, L=L, P=r["P"] * 2 ** (L - 3)) for L in (3, 4, 5) for r in synthetic_rows(ms=(4,))]
    curve = thresholds_by(rows, by="L", scale=8 * 4**3)
    assert set(curve) == {3, 4, 5} and all(isinstance(t, Threshold) for t in curve.values())
    broken = dict(curve)
    broken[5] = Threshold(float("nan"), float("nan"), float("inf"), 2, "above")  # no crossing: left out
    fig = plots.pstar_vs_depth({"a": curve, "b": broken}, v=8, m=4)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"a", "b"} <= set(labels) and any("log" in t for t in labels) and ax.get_yscale() == "log"
    assert list(ax.get_xticks()) == [3, 4, 5]


@pytest.mark.parametrize("layout", ["panels", "insets"])
def test_standard_figure(layout):
    rows = synthetic_rows()
    fig = plots.standard_figure(rows, v=8, L=3, chance=1 / 8, layout=layout, n_boot=100,
                                overlay=synthetic_rows(ms=(3, 4, 6, 8), shift=1.1, rng=2), title="test")
    n_axes = len(fig.axes) + sum(len(ax.child_axes) for ax in fig.axes)
    assert n_axes == 3
    fit = fig.summary["fit"]
    assert fit is not None and abs(fit.slope - 3) < 0.3
    assert set(fig.summary["thresholds"]) == {3, 4, 6}
    assert set(fig.summary["overlay_thresholds"]) == {3, 4, 6, 8}
    fig.canvas.draw()


def test_standard_figure_by_vocabulary():
    # P* = 2 v m^3 at every v: collapse under v m^3, fitted exponent in v close to 1
    rows = [r for v in (8, 16, 32) for r in synthetic_rows(ms=(4,), v=v, rng=v)]
    fig = plots.standard_figure(rows, v=8, L=3, group="v", n_boot=50)
    assert set(fig.summary["thresholds"]) == {8, 16, 32}
    assert abs(fig.summary["fit"].slope - 1) < 0.2
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any(r"\propto v$" in t for t in labels) and not any("m^" in t for t in labels)
    with pytest.raises(ValueError, match="group"):
        plots.standard_figure(rows, v=8, L=3, group="L")


def test_standard_figure_degenerate():
    # one m only, never crossing: draws, no fit
    rows = [r for r in synthetic_rows(ms=(3,)) if True]
    for r in rows:
        r["accuracy"] = 0.1
    fig = plots.standard_figure(rows, v=8, L=3, n_boot=10)
    assert fig.summary["fit"] is None
    fig.canvas.draw()
    with pytest.raises(ValueError, match="layout"):
        plots.standard_figure(rows, v=8, L=3, layout="grid")


def test_draw_tree_and_rule_table():
    from ownlatents.rhm import RHM

    rhm = RHM(v=4, m=2, s=2, L=3, seed=1)
    fig = plots.draw_tree(rhm.sample(2, seed=0), rhm.s, index=1, tuple_pos=0)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len([t for t in texts if t.isdigit()]) == 8 + 4 + 2 + 1  # one label per node
    assert {"A", "B", "G"} <= set(texts)
    fig = plots.rule_table(rhm, level=1)
    assert fig.axes
    plt.close("all")


def test_pstar_vs_other_parameter():
    v = np.array([8, 12, 16, 24.0])
    P = 30 * v * np.array([1.0, 1.1, 0.95, 1.02])
    fig = plots.pstar_vs(v, P, name="v", guides=((1, "--"),))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_xlabel() == "v" and any(r"\propto v$" in t for t in labels)
    assert any("v^{1.0" in t or "v^{0.9" in t for t in labels)  # the fitted slope, close to 1
