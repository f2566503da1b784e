"""The book's standard figures: accuracy versus P, and the sample complexity P* versus m.

One consistent style: one colour per m from a sequential colormap (small m light, large m
dark), circles for live (fast-preset) runs, open squares and dashed lines for an
``overlay`` (e.g. the committed full-preset results), log x-axes.  Functions take an
``ax`` or make a figure, and return the figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .sweeps import (
    ExponentFit,
    Threshold,
    _as_rows,
    _metric_of,
    _scale_of,
    aggregate,
    fit_exponent,
    thresholds_by,
)

__all__ = ["CMAP", "group_colors", "accuracy_vs_P", "pstar_vs", "pstar_vs_m", "pstar_vs_depth", "standard_figure", "draw_tree", "rule_table"]

CMAP = "viridis"
OVERLAY_LABEL = "full preset (results/)"
_LIVE = dict(marker="o", linestyle="-", markersize=4, linewidth=1.5)
_OVER = dict(marker="s", linestyle="--", markersize=5, linewidth=1.2, markerfacecolor="none")


def _plt():
    import matplotlib.pyplot as plt

    return plt


def group_colors(values: Sequence[Any], cmap: str = CMAP) -> dict[Any, Any]:
    """One colour per (sorted) value from a sequential colormap, avoiding its palest end."""
    import matplotlib

    vals = list(dict.fromkeys(values))
    try:
        vals.sort()
    except TypeError:
        pass
    cm = matplotlib.colormaps[cmap]
    pos = np.linspace(0.85, 0.05, len(vals)) if len(vals) > 1 else [0.45]
    return {v: cm(p) for v, p in zip(vals, pos)}


def _legend(ax, legend, fontsize, **extra):
    """``legend``: True (best place), a location string, or a dict of ``ax.legend`` kwargs."""
    if not legend or not ax.get_legend_handles_labels()[0]:
        return
    kw = dict(loc="best", fontsize=fontsize, frameon=False)
    if isinstance(legend, str):
        kw["loc"] = legend
    elif isinstance(legend, Mapping):
        kw.update(legend)
    kw.update(extra)
    ax.legend(**kw)


def _get_ax(ax, figsize=(5.0, 3.6)):
    if ax is None:
        fig, ax = _plt().subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def _group_rows(rows, group):
    groups: dict[Any, list] = {}
    for r in rows:
        k = r[group] if group is not None else None
        groups.setdefault(tuple(k) if isinstance(k, list) else k, []).append(r)
    try:
        return dict(sorted(groups.items()))
    except TypeError:
        return groups


def _draw_curves(ax, rows, *, x, scale, group, metric, stat, band, colors, style, label_fmt, labels):
    for key, g in _group_rows(rows, group).items():
        xv = np.array([float(r[x]) / _scale_of(r, scale) for r in g])
        yv = np.array([_metric_of(r, metric) for r in g])
        xs, c, lo, hi, _ = aggregate(xv, yv, stat)
        color = colors.get(key, "k")
        label = label_fmt.format(key=group, value=key) if labels and group is not None else None
        ax.plot(xs, c, color=color, label=label, **style)
        if band == "range" and len(xs) > 1:
            ax.fill_between(xs, lo, hi, color=color, alpha=0.18, linewidth=0)
        elif band == "seeds":
            for s in sorted({r.get("seed") for r in g}, key=str):
                sel = [i for i, r in enumerate(g) if r.get("seed") == s]
                order = np.argsort(xv[sel])
                ax.plot(xv[sel][order], yv[sel][order], color=color, alpha=0.35, linewidth=0.6)
        elif band not in (None, "none", "range"):
            raise ValueError(f"band must be 'range', 'seeds' or None, got {band!r}")


def accuracy_vs_P(
    result_or_rows: Any,
    *,
    x: str = "P",
    scale: Callable[[Mapping[str, Any]], float] | float | None = None,
    group: str | None = "m",
    metric: str | Callable[[Mapping[str, Any]], float] = "accuracy",
    ax=None,
    chance: float | None = None,
    level: float | None = None,
    label_fmt: str = "{key} = {value}",
    stat: str = "median",
    band: str | None = "range",
    overlay: Any = None,
    overlay_label: str = OVERLAY_LABEL,
    colors: Mapping[Any, Any] | None = None,
    cmap: str = CMAP,
    xlabel: str | None = None,
    ylabel: str | None = None,
    legend: bool | str | Mapping[str, Any] = True,
):
    """Accuracy (``metric``) versus ``x / scale(row)``, one curve per ``group`` value.

    Each curve is the per-P ``stat`` over seeds; ``band="range"`` shades min–max over seeds,
    ``"seeds"`` draws each seed thinly.  ``chance``/``level``: horizontal guide lines.
    ``overlay``: a second result set (same grouping) in open squares / dashed lines.
    """
    rows = _as_rows(result_or_rows)
    over = _as_rows(overlay) if overlay is not None else []
    fig, ax = _get_ax(ax)
    if colors is None:
        keys = [r[group] for r in rows + over] if group is not None else [None]
        colors = group_colors([tuple(k) if isinstance(k, list) else k for k in keys], cmap)
    common = dict(x=x, scale=scale, group=group, metric=metric, stat=stat, colors=colors, label_fmt=label_fmt)
    if over:
        _draw_curves(ax, over, band=None, style=_OVER, labels=not rows, **common)
    _draw_curves(ax, rows, band=band, style=_LIVE, labels=True, **common)
    if chance is not None:
        ax.axhline(chance, color="0.5", linestyle=":", linewidth=1, label="chance")
    if level is not None:
        ax.axhline(level, color="0.75", linestyle="-", linewidth=0.8, zorder=0)
    if over and rows:
        ax.plot([], [], color="0.3", label=overlay_label, **_OVER)
    ax.set_xscale("log")
    if xlabel is None:
        xlabel = x if scale is None else f"{x} / scale"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel if ylabel is not None else (metric if isinstance(metric, str) else "accuracy"))
    _legend(ax, legend, "small")
    return fig


def _finite_err(value, low, high):
    value = np.asarray(value, dtype=float)
    lo = np.asarray(low, dtype=float) if low is not None else np.full_like(value, np.nan)
    hi = np.asarray(high, dtype=float) if high is not None else np.full_like(value, np.nan)
    down = np.where(np.isfinite(lo) & (lo > 0), value - lo, 0.0)
    up = np.where(np.isfinite(hi), hi - value, 0.0)
    return np.nan_to_num(np.vstack([np.clip(down, 0, None), np.clip(up, 0, None)]))


def pstar_vs(
    x: Sequence[float],
    P_star: Sequence[float],
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
    *,
    name: str,
    guides: Sequence[tuple[float, str]],
    ax=None,
    fit: ExponentFit | bool | None = None,
    colors: Mapping[Any, Any] | None = None,
    cmap: str = CMAP,
    overlay: tuple | None = None,
    overlay_label: str = OVERLAY_LABEL,
    ylabel: str = r"$P^*$",
    legend: bool | str | Mapping[str, Any] = True,
):
    """P* versus one grammar parameter ``name`` (e.g. ``"m"`` or ``"v"``) on log–log axes.

    ``guides``: ``(exponent, linestyle)`` pairs, power laws through the geometric centre of the
    finite points.  ``fit``: an :class:`~ownlatents.sweeps.ExponentFit` to draw, ``None`` to fit
    here (needs two finite points), ``False`` for none; its slope and interval go in the legend.
    ``overlay``: ``(x, P_star)`` or ``(x, P_star, low, high)`` drawn as open squares.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(P_star, dtype=float)
    fig, ax = _get_ax(ax, figsize=(3.6, 3.2))
    if colors is None:
        colors = group_colors(list(x), cmap)
    err = _finite_err(y, low, high)
    ok = np.isfinite(y) & (y > 0)
    for i in np.nonzero(ok)[0]:
        c = colors.get(x[i], "k")  # hash(6) == hash(6.0): int or float keys both match
        ax.errorbar(x[i], y[i], yerr=err[:, i : i + 1], color=c, marker="o", markersize=5, capsize=2, linestyle="none")
    if overlay is not None:
        ox, oy, *ob = (np.asarray(a, dtype=float) if a is not None else None for a in overlay)
        oerr = _finite_err(oy, *(ob + [None, None])[:2])
        ook = np.isfinite(oy) & (oy > 0)
        ax.errorbar(ox[ook], oy[ook], yerr=oerr[:, ook], color="0.3", marker="s", markerfacecolor="none",
                    linestyle="none", capsize=2, label=overlay_label)
    if fit is None and ok.sum() >= 2 and len(np.unique(x[ok])) >= 2:
        fit = fit_exponent(x, y, low=low, high=high)
    all_x = np.concatenate([x, ox]) if overlay is not None else x
    all_x = all_x[np.isfinite(all_x)]
    grid = np.geomspace(all_x.min() * 0.9, all_x.max() * 1.1, 50) if len(all_x) else np.array([])
    if isinstance(fit, ExponentFit):
        lo_s, hi_s = fit.slope_low, fit.slope_high
        if not math.isfinite(lo_s) and math.isfinite(fit.slope_low_boot):
            lo_s, hi_s = fit.slope_low_boot, fit.slope_high_boot
        interval = f" [{lo_s:.2f}, {hi_s:.2f}]" if math.isfinite(lo_s) else ""
        ax.plot(grid, fit.predict(grid), color="k", linewidth=1.2,
                label=rf"fit: $P^*\propto {name}^{{{fit.slope:.2f}}}${interval}")
    if ok.any():
        lx, ly = np.log(x[ok]), np.log(y[ok])
        for expo, ls in guides:
            c0 = np.exp(np.mean(ly - expo * lx))
            ax.plot(grid, c0 * grid**expo, color="0.45", linestyle=ls, linewidth=1.1,
                    label=rf"$\propto {name}^{{{expo:g}}}$" if expo != 1 else rf"$\propto {name}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = sorted(set(all_x.tolist()))
    if ticks:
        from matplotlib.ticker import NullFormatter

        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel(name)
    ax.set_ylabel(ylabel)
    _legend(ax, legend, "x-small")
    return fig


def pstar_vs_m(m, P_star, low=None, high=None, *, L: int, guides: bool = True, **kwargs):
    """P* versus m on log–log axes with guides ∝ m^3 (dashed, latent prediction) and
    ∝ m^(L+1) (dotted, token-level SSL); other arguments as in :func:`pstar_vs`."""
    return pstar_vs(m, P_star, low, high, name="m", guides=((3, "--"), (L + 1, ":")) if guides else (), **kwargs)


def _threshold_arrays(ths: Mapping[Any, Threshold]):
    keys = np.array([float(k) for k in ths])
    val = np.array([t.value for t in ths.values()])
    lo = np.array([t.low for t in ths.values()])
    hi = np.array([t.high for t in ths.values()])
    return keys, val, lo, hi


def standard_figure(
    rows: Any,
    *,
    v: float,
    L: int,
    metric: str | Callable[[Mapping[str, Any]], float] = "accuracy",
    group: str = "m",
    level: float = 0.5,
    chance: float | None = None,
    overlay: Any = None,
    overlay_label: str = OVERLAY_LABEL,
    layout: str = "panels",
    stat: str = "median",
    n_boot: int = 1000,
    ci: float = 0.9,
    title: str | None = None,
    ylabel: str | None = None,
    figsize: tuple[float, float] | None = None,
    cmap: str = CMAP,
    guides: Sequence[tuple[float, str]] | None = None,
):
    """The paper's standard figure for one learner.

    Main panel: accuracy vs P/(v m^3) (should collapse), inset: the same vs raw P;
    P* vs m (log–log, guides ∝ m^3 dashed and ∝ m^(L+1) dotted, fitted exponent with
    its interval in the legend) as a second panel (``layout="panels"``) or as a second
    inset (``layout="insets"``).  ``group="v"`` draws one curve per vocabulary size
    instead (rows must hold ``v`` and ``m``; guide ∝ v); ``guides`` overrides the
    ``(exponent, linestyle)`` guides of the P* panel.  P* is the crossing of ``level`` with a bootstrap over
    seeds.  The thresholds and fit are attached as ``fig.summary`` (dict with keys
    ``thresholds``, ``fit``, ``overlay_thresholds``).
    """
    if group not in ("m", "v"):
        raise ValueError(f"group must be 'm' or 'v', got {group!r}")
    rows = _as_rows(rows)
    over = _as_rows(overlay) if overlay is not None else []
    plt = _plt()
    keys = [r[group] for r in rows + over]
    colors = group_colors(keys, cmap)
    if group == "m":
        scale = lambda r: v * float(r["m"]) ** 3  # noqa: E731
        guides = ((3, "--"), (L + 1, ":")) if guides is None else guides
    else:
        scale = lambda r: float(r["v"]) * float(r["m"]) ** 3  # noqa: E731
        guides = ((1, "--"),) if guides is None else guides
    if layout == "panels":
        fig, (ax, ax_p) = plt.subplots(1, 2, figsize=figsize or (9.0, 3.8), layout="constrained",
                                       gridspec_kw={"width_ratios": [1.6, 1]})
        ax_raw = ax.inset_axes([0.09, 0.56, 0.36, 0.38])
    elif layout == "insets":
        fig, ax = plt.subplots(figsize=figsize or (7.6, 4.4), layout="constrained")
        ax_raw = ax.inset_axes([0.08, 0.57, 0.34, 0.38])
        ax_p = ax.inset_axes([0.63, 0.12, 0.34, 0.36])
    else:
        raise ValueError(f"layout must be 'panels' or 'insets', got {layout!r}")

    common = dict(group=group, metric=metric, stat=stat, colors=colors, cmap=cmap)
    # insets layout: legends to the right of the main axes, clear of the insets
    outside_top = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0), bbox_transform=ax.transAxes)
    outside_bottom = dict(loc="lower left", bbox_to_anchor=(1.01, 0.0), bbox_transform=ax.transAxes)
    accuracy_vs_P(rows, ax=ax, scale=scale, chance=chance, level=level, overlay=over or None,
                  overlay_label=overlay_label, xlabel=r"$P/(v\,m^3)$", ylabel=ylabel,
                  legend="lower right" if layout == "panels" else outside_top, **common)
    accuracy_vs_P(rows, ax=ax_raw, chance=chance, band=None, legend=False, xlabel="P", ylabel="", **common)
    ax_raw.tick_params(labelsize="x-small")
    ax_raw.xaxis.label.set_size("x-small")

    boot = dict(n_boot=n_boot, ci=ci, stat=stat)
    ths = thresholds_by(rows, metric=metric, by=group, level=level, **boot) if rows else {}
    o_ths = thresholds_by(over, metric=metric, by=group, level=level, **boot) if over else {}
    fit = None
    if ths:
        m, val, lo, hi = _threshold_arrays(ths)
        ok = np.isfinite(val)
        if ok.sum() >= 2 and len(np.unique(m[ok])) >= 2:
            fit = fit_exponent(m, val, low=lo, high=hi, ci=ci, interval_ci=ci)
        o_arr = _threshold_arrays(o_ths) if o_ths else None
        pstar_vs(m, val, lo, hi, name=group, guides=guides, ax=ax_p, fit=fit if fit is not None else False,
                   colors={float(k): c for k, c in colors.items()}, overlay=o_arr,
                   overlay_label=overlay_label, ylabel=rf"$P^*$ ({_level_name(level)})",
                   legend="upper left" if layout == "panels" else outside_bottom)
        if layout == "insets":
            ax_p.tick_params(labelsize="x-small")
            for lab in (ax_p.xaxis.label, ax_p.yaxis.label):
                lab.set_size("x-small")
    if title:
        fig.suptitle(title)
    fig.summary = {"thresholds": ths, "fit": fit, "overlay_thresholds": o_ths}
    return fig


def pstar_vs_depth(
    curves: Mapping[str, Mapping[Any, Threshold]],
    *,
    v: float,
    m: float,
    delta: float = 0.1,
    ax=None,
    ylabel: str = r"$P^*/(v m^3)$",
    legend: bool | str | Mapping[str, Any] = True,
):
    """Thresholds versus depth L, one line per entry of ``curves`` (label -> {L: Threshold},
    in any unit), with bootstrap error bars and two guides through the first point of the
    first curve: the theorem's ``log(L v m / delta)`` (dashed) and a factor ``m`` per level
    (dotted, what token-level SSL pays)."""
    fig, ax = _get_ax(ax, figsize=(5.2, 3.6))
    Ls_all = []
    for i, (label, ths) in enumerate(curves.items()):
        Ls, val, lo, hi = _threshold_arrays(ths)
        ok = np.isfinite(val)
        ax.errorbar(Ls[ok], val[ok], yerr=_finite_err(val, lo, hi)[:, ok], color=f"C{i}", marker="os^vDP"[i % 6],
                    capsize=2, label=label)
        Ls_all.extend(Ls.tolist())
    first = next(iter(curves.values()), {})
    if first and Ls_all:
        L0, t0 = next(iter(first.items()))
        grid = np.arange(min(Ls_all), max(Ls_all) + 1)
        ax.plot(grid, t0.value * np.log(grid * v * m / delta) / np.log(L0 * v * m / delta), color="0.5", ls="--",
                lw=1, label=r"$\propto\log(Lvm/\delta)$")
        ax.plot(grid, t0.value * float(m) ** (grid - L0), color="0.5", ls=":", lw=1, label=r"$\propto m^{L}$")
        ax.set_xticks(grid)
    ax.set(yscale="log", xlabel="depth L", ylabel=ylabel)
    _legend(ax, legend, "x-small")
    return fig


def _level_name(level: float) -> str:
    return f"{level:.0%} crossing"


# ---------------------------------------------------------------------- the RHM tree
def draw_tree(sample, s: int, index: int = 0, *, ax=None, tuple_pos: int | None = 0, highlight_level: int = 0):
    """Draw one string of an :class:`~ownlatents.rhm.RHMSample` with its latent symbol at every level.

    Levels are rows (root on top, tokens at the bottom); edges join each node to its ``s``
    children.  With ``tuple_pos`` set, the tuple ``T`` at that tuple position of level
    ``highlight_level`` is circled in red, its cousin tuple (the next child of ``T``'s
    grandparent) in blue with the target ``Z`` (its last symbol, the spec's
    ``cousin_pos = 2s-1``) boxed, and the parent ``A``, sibling ``B`` and grandparent
    ``G`` are labelled.
    """
    plt = _plt()
    levels = [np.asarray(level[index]) for level in sample.levels]
    L = len(levels) - 1
    if ax is None:
        width = max(6.0, 0.45 * len(levels[0]))
        _, ax = plt.subplots(figsize=(min(width, 16), 0.9 * (L + 1) + 0.6))

    def x_of(level, i):
        return (i + 0.5) * s**level - 0.5  # centred above its descendants

    for level in range(L, 0, -1):
        for i, _ in enumerate(levels[level]):
            for k in range(s):
                child = i * s + k
                ax.plot([x_of(level, i), x_of(level - 1, child)], [level, level - 1], color="0.75", lw=1, zorder=1)
    colors = plt.get_cmap("viridis")(np.linspace(0.15, 0.85, L + 1))
    roles = {}
    if tuple_pos is not None and highlight_level + 2 <= L:
        lvl, u = highlight_level, tuple_pos
        roles = {(lvl, u * s + k): "T" for k in range(s)}
        cousin = u + 1 if (u % s) < s - 1 else u - 1  # another child of the same grandparent
        roles.update({(lvl, cousin * s + k): "cousin" for k in range(s)})
        roles[(lvl, cousin * s + s - 1)] = "Z"
        roles[(lvl + 1, u)] = "A"
        roles[(lvl + 1, cousin)] = "B"
        roles[(lvl + 2, u // s)] = "G"
    for level in range(L + 1):
        for i, symbol in enumerate(levels[level]):
            role = roles.get((level, i))
            edge = {"T": "tab:red", "cousin": "tab:blue", "Z": "tab:blue"}.get(role, "white")
            box = "square,pad=0.35" if role == "Z" else "circle,pad=0.3"
            ax.text(
                x_of(level, i), level, str(int(symbol)), ha="center", va="center", fontsize=9, zorder=3,
                bbox=dict(boxstyle=box, fc=colors[level], ec=edge, lw=2.5 if role else 0.5, alpha=0.9),
                color="white",
            )
            if role in ("A", "B", "G"):
                ax.annotate(role, (x_of(level, i), level), xytext=(10, 8), textcoords="offset points",
                            fontsize=9, fontweight="bold", color="tab:red" if role == "A" else "black")
    if roles:
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], marker="o", ls="", mfc="white", mec="tab:red", mew=2, label="tuple $T$"),
            Line2D([], [], marker="o", ls="", mfc="white", mec="tab:blue", mew=2, label="cousin tuple"),
            Line2D([], [], marker="s", ls="", mfc="white", mec="tab:blue", mew=2, label="target $Z$"),
        ]
        ax.legend(handles=handles, loc="upper right", fontsize=8, frameon=False)
    ax.set_yticks(range(L + 1), [f"$h^{{({l})}}$" if 0 < l < L else ("tokens" if l == 0 else "root") for l in range(L + 1)])
    ax.set_xticks([])
    ax.set_xlim(-0.8, len(levels[0]) - 0.2)
    ax.set_ylim(-0.6, L + 0.6)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return ax.figure


def rule_table(rhm, level: int, ax=None):
    """Show the productions of level ``level``: row ``a`` lists the ``m`` synonyms of symbol ``a``."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.9 * rhm.m, 0.35 * rhm.v + 0.8))
    sep = "" if rhm.v <= 10 else ","
    cells = [[sep.join(map(str, t)) for t in rhm.rules[level][a]] for a in range(rhm.v)]
    table = ax.table(cellText=cells, rowLabels=[f"{a} →" for a in range(rhm.v)], loc="center", cellLoc="center")
    table.scale(1, 1.2)
    ax.set_title(f"productions of level-{level + 1} symbols (synonyms on a row)", fontsize=10)
    ax.axis("off")
    return ax.figure
