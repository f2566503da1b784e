"""Sample-complexity sweeps: accuracy versus the number of training samples P.

Every chapter asks the same question of a learner: how many samples P does it need?
This module is the shared harness:

- grids: :func:`log_grid`, :func:`scaled_grid` (P in units of e.g. ``v * m**3``), :func:`param_grid`;
- running: :func:`run_sweep` calls ``fn(P=P, seed=seed, **params)`` for every run, collects a
  tidy table (:class:`SweepResult`) and, given a ``path``, stores it as JSON with provenance,
  resumably and atomically (:func:`save_results`, :func:`load_results`, :func:`results_dir`);
- analysis: :func:`threshold` (the sample complexity P*, where accuracy crosses a level, with a
  bootstrap interval over seeds), :func:`fit_exponent` (slope of log P* against log m) and
  :func:`collapse_spread` (how well curves collapse under a candidate rescaling of P).

Only numpy, scipy and tqdm are used (no pandas).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .validation import check_int as _check_int

__all__ = [
    "log_grid",
    "scaled_grid",
    "param_grid",
    "run_sweep",
    "SweepResult",
    "save_results",
    "load_results",
    "results_dir",
    "run_preset_sweeps",
    "provenance",
    "aggregate",
    "Threshold",
    "threshold",
    "thresholds_by",
    "ExponentFit",
    "fit_exponent",
    "collapse_spread",
    "collapse_spread_rows",
]

FORMAT = "ownlatents.sweeps/1"
RESULTS_ENV = "OWNLATENTS_RESULTS"
_RESERVED = ("seed", "P", "time_s")


# --------------------------------------------------------------------------- grids


def _n_points(lo: float, hi: float, per_decade: float) -> int:
    if not (lo > 0 and math.isfinite(lo)):
        raise ValueError(f"lo must be a finite positive number, got {lo!r}")
    if not (hi >= lo and math.isfinite(hi)):
        raise ValueError(f"hi must be finite and >= lo={lo!r}, got {hi!r}")
    if not per_decade > 0:
        raise ValueError(f"per_decade must be positive, got {per_decade!r}")
    return max(1, int(round(per_decade * math.log10(hi / lo))) + 1)


def log_grid(lo: float, hi: float, per_decade: float) -> list[int]:
    """Sorted unique integers log-spaced from ``lo`` to ``hi`` (both included, rounded).

    About ``per_decade`` points per factor of ten; values below 1 are raised to 1.
    """
    n = _n_points(lo, hi, per_decade)
    xs = np.logspace(math.log10(lo), math.log10(hi), n)
    return sorted({max(1, int(round(x))) for x in xs})


def scaled_grid(scale: float, lo: float, hi: float, per_decade: float) -> list[int]:
    """Integer P = round(x * scale) for x log-spaced in [lo, hi] (both included).

    Chapters express sample sizes in units of the predicted scale, e.g.
    ``scaled_grid(v * m**3, 0.1, 100, 3)`` for P/(v m^3) in [10^-1, 10^2].
    Duplicates after rounding are dropped; P >= 1.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a finite positive number, got {scale!r}")
    n = _n_points(lo, hi, per_decade)
    xs = np.logspace(math.log10(lo), math.log10(hi), n)
    return sorted({max(1, int(round(x * scale))) for x in xs})


def param_grid(**lists: Iterable[Any]) -> list[dict[str, Any]]:
    """Cartesian product of parameter lists as a list of dicts.

    Deterministic order: keyword order, last keyword varying fastest, e.g.
    ``param_grid(m=[4, 6], L=[3, 4])`` -> m=4,L=3; m=4,L=4; m=6,L=3; m=6,L=4.
    A scalar value is treated as a one-element list.
    """
    keys = list(lists)
    values = []
    for k in keys:
        vals = lists[k]
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Iterable):
            vals = [vals]
        vals = list(vals)
        if not vals:
            raise ValueError(f"{k} must be a non-empty list")
        values.append(vals)
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


# --------------------------------------------------------------------------- JSON helpers


def _jsonable(x: Any) -> Any:
    """Plain-Python (JSON-serialisable) copy of ``x``: numpy scalars/arrays, tuples, paths."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise TypeError(f"cannot store value of type {type(x).__name__} in a sweep result: {x!r}")


def _run_key(params: Mapping[str, Any], seed: Any, P: Any) -> str:
    return json.dumps([_jsonable(params), _jsonable(seed), _jsonable(P)], sort_keys=True)


def _as_P(P: Any) -> int:
    try:
        Pf = float(P)
    except (TypeError, ValueError):
        raise ValueError(f"P_grid must contain positive integers, got {P!r}") from None
    if not (Pf > 0 and Pf == int(Pf)):
        raise ValueError(f"P_grid must contain positive integers, got {P!r}")
    return int(Pf)


# --------------------------------------------------------------------------- provenance


def _git_info(where: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(where), *args],
                capture_output=True,
                text=True,
                timeout=10,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def _versions() -> dict[str, Any]:
    import ownlatents

    versions: dict[str, Any] = {
        "ownlatents": ownlatents.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for name in ("scipy", "sklearn", "torch", "torchjd"):
        mod = sys.modules.get(name)  # only what is already imported: cheap
        if mod is not None:
            versions[name] = getattr(mod, "__version__", None)
    return versions


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_initialized():
                info["cuda_device"] = torch.cuda.get_device_name()
        except Exception:  # pragma: no cover - exotic torch builds
            pass
    return info


def _fn_name(fn: Callable) -> str:
    """``module:qualname`` of a function, of a partial's function, or of a callable's class."""
    import functools

    while isinstance(fn, functools.partial):
        fn = fn.func
    target = fn if hasattr(fn, "__qualname__") else type(fn)
    return f"{getattr(target, '__module__', '?')}:{target.__qualname__}"


def provenance(
    fn: Callable | None = None,
    *,
    params: Sequence[Mapping[str, Any]] | None = None,
    seeds: Sequence[Any] | None = None,
    P_grid: Any = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Where a result came from: package version, git revision, versions, machine, inputs.

    No host name is recorded.  ``git.commit``/``git.dirty`` are None outside a git checkout.
    """
    import ownlatents

    fn_name = _fn_name(fn) if fn is not None else None
    return {
        "package_version": ownlatents.__version__,
        "git": _git_info(Path(ownlatents.__file__).resolve().parent),
        "versions": _versions(),
        "machine": _machine(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "fn": fn_name,
        "params": _jsonable(list(params)) if params is not None else None,
        "seeds": _jsonable(list(seeds)) if seeds is not None else None,
        "P_grid": _jsonable(P_grid),
        "meta": _jsonable(dict(meta or {})),
    }


# --------------------------------------------------------------------------- result table


class SweepResult:
    """The runs of a sweep: ``runs`` (structured records) and ``rows`` (flat, tidy).

    A run record is ``{"params": {...}, "seed": s, "P": P, "metrics": {...}, "time_s": t}``;
    its flat row is ``{**params, "seed": s, "P": P, **metrics, "time_s": t}``.
    """

    def __init__(self, runs: Sequence[Mapping[str, Any]], provenance: Mapping[str, Any] | None = None):
        self.runs: list[dict[str, Any]] = [dict(r) for r in runs]
        self.provenance: dict[str, Any] = dict(provenance or {})
        self.rows: list[dict[str, Any]] = [
            {**r["params"], "seed": r["seed"], "P": r["P"], **r["metrics"], "time_s": r.get("time_s")}
            for r in self.runs
        ]

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self):
        return iter(self.rows)

    def __repr__(self) -> str:
        return f"SweepResult({len(self)} runs, columns={self.columns})"

    @property
    def columns(self) -> list[str]:
        cols: dict[str, None] = {}
        for row in self.rows:
            cols.update(dict.fromkeys(row))
        return list(cols)

    def _subset(self, idx: Iterable[int]) -> SweepResult:
        return SweepResult([self.runs[i] for i in idx], self.provenance)

    def filter(self, **criteria: Any) -> SweepResult:
        """Rows whose columns equal the given values (a callable value acts as a predicate)."""
        keep = []
        for i, row in enumerate(self.rows):
            ok = True
            for k, want in criteria.items():
                if k not in row:
                    ok = False
                elif callable(want):
                    ok = bool(want(row[k]))
                else:
                    ok = row[k] == _jsonable(want)
                if not ok:
                    break
            if ok:
                keep.append(i)
        return self._subset(keep)

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array (2-D if the entries are equal-length lists)."""
        missing = [i for i, row in enumerate(self.rows) if name not in row]
        if missing:
            raise KeyError(f"column {name!r} missing in {len(missing)} of {len(self)} rows")
        return np.asarray([row[name] for row in self.rows])

    def unique(self, name: str) -> list[Any]:
        """Sorted distinct values of a column."""
        vals = list(dict.fromkeys(json.dumps(row[name], sort_keys=True) for row in self.rows if name in row))
        out = [json.loads(v) for v in vals]
        try:
            return sorted(out)
        except TypeError:
            return out

    def groups(self, *keys: str) -> dict[Any, SweepResult]:
        """Split by the values of ``keys``: ``{value: SweepResult}`` (tuple keys if several)."""
        if not keys:
            raise ValueError("groups needs at least one key")
        buckets: dict[str, list[int]] = {}
        labels: dict[str, Any] = {}
        for i, row in enumerate(self.rows):
            val = tuple(row.get(k) for k in keys)
            label = val[0] if len(keys) == 1 else val
            k = json.dumps(_jsonable(val), sort_keys=True)
            buckets.setdefault(k, []).append(i)
            labels.setdefault(k, label if not isinstance(label, list) else tuple(label))
        order = list(buckets)
        try:
            order.sort(key=lambda k: labels[k])
        except TypeError:
            pass
        return {labels[k]: self._subset(buckets[k]) for k in order}

    def thresholds(
        self,
        metric: str | Callable[[Mapping[str, Any]], float] = "accuracy",
        *,
        by: str = "m",
        level: float = 0.5,
        scale: Callable[[Mapping[str, Any]], float] | float | None = None,
        **kwargs: Any,
    ) -> dict[Any, Threshold]:
        """:func:`threshold` of each group (see :func:`thresholds_by`)."""
        return thresholds_by(self.rows, metric=metric, by=by, level=level, scale=scale, **kwargs)


def _as_rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, SweepResult):
        return data.rows
    if isinstance(data, (str, Path)):
        return load_results(data).rows
    return [dict(r) for r in data]


# --------------------------------------------------------------------------- storage


def save_results(path: str | Path, runs: Sequence[Mapping[str, Any]], provenance: Mapping[str, Any]) -> Path:
    """Write runs + provenance as JSON, atomically.

    A temporary file in the same directory is written, flushed, fsync'ed and then
    ``os.replace``-d onto ``path``, so a crash leaves either the old or the new file,
    never a truncated one.  Non-finite floats are written as ``NaN``/``Infinity``
    (read back by Python's json).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, "provenance": _jsonable(provenance), "runs": _jsonable(list(runs))}
    text = json.dumps(doc, indent=1, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; result files are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # persist the rename itself (best effort; not available everywhere)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def load_results(path: str | Path) -> SweepResult:
    """Read a file written by :func:`save_results` / :func:`run_sweep`."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "runs" not in doc:
        raise ValueError(f"{path} is not an ownlatents sweep file (format {FORMAT!r})")
    return SweepResult(doc["runs"], doc.get("provenance", {}))


def results_dir() -> Path:
    """The repository's ``results/`` folder (``$OWNLATENTS_RESULTS`` overrides).

    Assumes an editable / src-layout install (``<repo>/src/ownlatents``).
    """
    env = os.environ.get(RESULTS_ENV)
    if env:
        path = Path(env).expanduser()
        source = f"${RESULTS_ENV}"
    else:
        import ownlatents

        path = Path(ownlatents.__file__).resolve().parents[2] / "results"
        source = "the package location (src layout)"
    if not path.is_dir():
        raise FileNotFoundError(
            f"results directory {path} (from {source}) does not exist; "
            f"set ${RESULTS_ENV} to the repository's results/ folder or install with `pip install -e .`"
        )
    return path


# --------------------------------------------------------------------------- running


def run_preset_sweeps(section: str, sweep: Callable, available: Callable[[dict], list], argv=None) -> None:
    """The command line of a chapter's full runs: run the named sweeps of preset section
    ``section`` (all of ``available(cfg)`` when no name is given) with ``sweep(cfg[key], path=...)``,
    storing each as ``results/<section>_<key>_<preset>.json`` (resumable).  ``--jobs N`` is
    passed on as ``sweep(..., jobs=N)`` (worker processes, see :func:`run_sweep`)."""
    from .presets import get_preset, preset_name

    args = list(sys.argv[1:] if argv is None else argv)
    jobs = None
    if "--jobs" in args:
        i = args.index("--jobs")
        try:
            jobs = int(args[i + 1])
        except (IndexError, ValueError):
            raise ValueError("--jobs must be followed by a whole number") from None
        _check_int("jobs", jobs, 1)
        del args[i : i + 2]
        import inspect

        if "jobs" not in inspect.signature(sweep).parameters:
            raise ValueError(f"the {section} sweeps run in one process; --jobs is not supported")
    cfg = get_preset(section)
    name = preset_name()
    keys = list(available(cfg))
    for key in args or keys:
        if key not in keys:
            raise ValueError(f"sweep must be one of {keys}, got {key!r}")
        path = results_dir() / f"{section}_{key}_{name}.json"
        t0 = time.perf_counter()
        sweep(cfg[key], path=path, **({} if jobs is None else {"jobs": jobs}))
        print(f"{key}: {time.perf_counter() - t0:.0f} s -> {path}", flush=True)


def run_sweep(
    fn: Callable[..., Mapping[str, Any]],
    *,
    P_grid: Sequence[int] | Callable[[Mapping[str, Any]], Sequence[int]],
    params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    seeds: Sequence[int] = (0,),
    path: str | Path | None = None,
    desc: str | None = None,
    meta: Mapping[str, Any] | None = None,
    progress: bool = True,
    jobs: int = 1,
) -> SweepResult:
    """Call ``fn(P=P, seed=seed, **p)`` for every p in ``params``, seed and P; tabulate.

    ``fn`` returns a dict of metrics (numbers, lists).  ``P_grid`` is a list or a callable
    ``params -> list`` (grids are usually in units of ``v * m**3``).  Runs are ordered
    params-major, then seed, then P.  With ``path`` the table is stored as JSON with
    provenance and rewritten atomically after every finished run; runs whose key
    (params, seed, P) is already in the file are not recomputed (resume after a crash,
    or add seeds / grid points later).  Runs in the file but outside the requested grid
    are kept in the file and left out of the returned result.

    ``jobs > 1`` runs the (params, seed) groups in that many worker processes (fork; Linux and
    macOS): a worker calls ``fn`` for every P of its group in order, so an ``fn`` that caches a
    whole P path per (params, seed), like :class:`ownlatents.ilc.ILCPathSweep`, keeps its cache.
    Results are stored in plan order, exactly as with ``jobs=1``.
    """
    jobs = _check_int("jobs", jobs, 1)
    if params is None:
        params = [{}]
    elif isinstance(params, Mapping):
        params = [params]
    params = [dict(p) for p in params]
    if not params:
        raise ValueError("params must be a non-empty list of dicts")
    for p in params:
        bad = [k for k in _RESERVED if k in p]
        if bad:
            raise ValueError(f"params must not use the reserved names {bad}")
    if isinstance(seeds, (int, np.integer)):
        seeds = [seeds]
    seeds = list(dict.fromkeys(_jsonable(list(seeds))))
    if not seeds:
        raise ValueError("seeds must be a non-empty list")

    grids: list[list[int]] = []
    for p in params:
        g = P_grid(p) if callable(P_grid) else P_grid
        g = [_as_P(x) for x in g]
        if not g:
            raise ValueError(f"P_grid is empty for params {p}")
        grids.append(list(dict.fromkeys(g)))

    plan = [(p, s, P) for p, g in zip(params, grids) for s in seeds for P in g]
    prov = provenance(fn, params=params, seeds=seeds, P_grid=grids, meta=meta)

    done: dict[str, dict[str, Any]] = {}
    stored: list[dict[str, Any]] = []
    if path is not None:
        path = Path(path)
        if path.exists():
            old = load_results(path)
            old_fn = old.provenance.get("fn")
            if old_fn is not None and old_fn != prov["fn"]:
                raise ValueError(
                    f"{path} holds results of {old_fn}, not {prov['fn']}; use another path or delete the file"
                )
            history = list(old.provenance.get("history", []))
            history.append({k: v for k, v in old.provenance.items() if k != "history"})
            prov["history"] = history
            prov["created_utc"] = old.provenance.get("created_utc", old.provenance.get("date_utc"))
            stored = old.runs
            for r in stored:
                done[_run_key(r["params"], r["seed"], r["P"])] = r
        else:
            prov["created_utc"] = prov["date_utc"]

    todo = [t for t in plan if _run_key(*t) not in done]
    bar = _progress(total=len(plan), initial=len(plan) - len(todo), desc=desc, disable=not progress)

    def record(p, seed, P, metrics, elapsed):
        if not isinstance(metrics, Mapping):
            raise TypeError(f"fn must return a dict of metrics, got {type(metrics).__name__}")
        clash = [k for k in metrics if k in p or k in _RESERVED]
        if clash:
            raise ValueError(f"metric names {clash} clash with parameter or reserved names")
        rec = {"params": _jsonable(p), "seed": seed, "P": P, "metrics": _jsonable(dict(metrics)), "time_s": elapsed}
        done[_run_key(p, seed, P)] = rec
        stored.append(rec)
        if path is not None:
            save_results(path, stored, prov)
        bar.update(1)

    try:
        if jobs == 1 or len(todo) <= 1:
            for p, seed, P in todo:
                t0 = time.perf_counter()
                metrics = fn(P=P, seed=seed, **p)
                record(p, seed, P, metrics, time.perf_counter() - t0)
        else:
            _run_parallel(fn, todo, jobs, record)
    finally:
        bar.close()
    if path is not None and not todo:
        save_results(path, stored, prov)  # record this (no-op) call's provenance too
    return SweepResult([done[_run_key(*t)] for t in plan], prov)


_WORKER_FN: Callable | None = None  # the sweep function, inherited by forked workers


def _run_group(params: dict, seed, Ps: list) -> list:
    """Worker: ``fn`` on every P of one (params, seed) group -> [(metrics, seconds)]."""
    out = []
    for P in Ps:
        t0 = time.perf_counter()
        out.append((_WORKER_FN(P=P, seed=seed, **params), time.perf_counter() - t0))
    return out


def _run_parallel(fn: Callable, todo: list, jobs: int, record: Callable) -> None:
    """Run the (params, seed) groups of ``todo`` in ``jobs`` forked processes; record in plan order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _WORKER_FN
    groups: dict[str, tuple[dict, Any, list]] = {}
    for p, seed, P in todo:
        key = _run_key(p, seed, 0)
        groups.setdefault(key, (p, seed, []))[2].append(P)
    _WORKER_FN = fn
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [(g, pool.submit(_run_group, *g)) for g in groups.values()]
            try:
                for (p, seed, Ps), fut in futures:
                    for P, (metrics, elapsed) in zip(Ps, fut.result()):
                        record(p, seed, P, metrics, elapsed)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        _WORKER_FN = None


def _progress(total: int, initial: int, desc: str | None, disable: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, disable=disable, unit="run")


# --------------------------------------------------------------------------- thresholds


def aggregate(
    x: Sequence[float], y: Sequence[float], stat: str = "median"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct x: (x, central value, min, max, count) of the y's (seeds); sorted by x.

    ``stat`` is ``"median"`` or ``"mean"``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    center_fn = _center_fn(stat)
    xs = np.unique(x)
    c, lo, hi, n = (np.empty(len(xs)) for _ in range(4))
    for i, xv in enumerate(xs):
        ys = y[x == xv]
        c[i], lo[i], hi[i], n[i] = center_fn(ys), ys.min(), ys.max(), len(ys)
    return xs, c, lo, hi, n


def _center_fn(stat: str):
    if stat == "median":
        return np.median
    if stat == "mean":
        return np.mean
    raise ValueError(f"stat must be 'median' or 'mean', got {stat!r}")


@dataclass(frozen=True)
class Threshold:
    """Sample complexity P*: where the seed-aggregated accuracy first reaches ``level``.

    ``value`` is nan if the curve does not cross inside the grid; ``status`` then says
    ``"below"`` (already above ``level`` at the smallest P: P* < grid) or ``"above"``
    (never reaches it: P* > grid).  ``low``/``high``: bootstrap interval over seeds
    (nan without seeds; 0 / inf when a bound falls below / above the grid).
    """

    value: float
    low: float = math.nan
    high: float = math.nan
    n_seeds: int = 0
    status: str = "crossed"
    level: float = 0.5

    @property
    def crossed(self) -> bool:
        return self.status == "crossed"

    @property
    def below_grid(self) -> bool:
        return self.status == "below"

    @property
    def above_grid(self) -> bool:
        return self.status == "above"

    def __str__(self) -> str:
        if not self.crossed:
            return f"P* {self.status} the grid (level {self.level})"
        return f"P* = {self.value:.4g} [{self.low:.4g}, {self.high:.4g}] ({self.n_seeds} seeds)"


def _crossings(logx: np.ndarray, Y: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """First upward crossing of ``level`` for each row of Y (curves on the grid ``logx``).

    Returns (log x*, status code): 0 crossed, -1 below the grid, +1 above the grid.
    Columns that are nan (no data) are skipped by the caller's construction of Y.
    """
    Y = np.atleast_2d(Y)
    reached = Y >= level
    any_reached = reached.any(axis=1)
    i = np.argmax(reached, axis=1)
    status = np.where(~any_reached, 1, np.where(i == 0, -1, 0))
    out = np.full(len(Y), np.nan)
    ok = status == 0
    if ok.any():
        rows = np.nonzero(ok)[0]
        j = i[ok]
        y0, y1 = Y[rows, j - 1], Y[rows, j]
        x0, x1 = logx[j - 1], logx[j]
        out[ok] = x0 + (level - y0) / (y1 - y0) * (x1 - x0)
    return out, status


_STATUS = {0: "crossed", -1: "below", 1: "above"}


def threshold(
    P: Sequence[float],
    accuracy: Sequence[float],
    level: float = 0.5,
    *,
    seeds: Sequence[Any] | None = None,
    n_boot: int = 1000,
    ci: float = 0.9,
    rng: int | np.random.Generator | None = 0,
    stat: str = "median",
) -> Threshold:
    """P* where the accuracy curve first crosses ``level`` upward.

    The curve is the per-P ``stat`` (median by default, as in the spec; mean also allowed)
    of the accuracies of all runs at that P (one per seed).  P* interpolates linearly in
    log P between the last grid point below ``level`` and the first one at or above it.
    With ``seeds`` (one label per entry) a bootstrap interval is added: seeds are
    resampled with replacement, the resampled curves re-aggregated and the crossing
    recomputed; ``low``/``high`` are the (1-ci)/2 and (1+ci)/2 quantiles.
    """
    P = np.asarray(P, dtype=float)
    acc = np.asarray(accuracy, dtype=float)
    if P.ndim != 1 or acc.ndim != 1 or len(P) != len(acc):
        raise ValueError(f"P and accuracy must be 1-D of equal length, got {P.shape} and {acc.shape}")
    if len(P) == 0:
        raise ValueError("P must not be empty")
    if not np.all(np.isfinite(P) & (P > 0)):
        raise ValueError("P must be finite and > 0")
    if not np.all(np.isfinite(acc)):
        raise ValueError("accuracy must be finite")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    xs, c, *_rest, counts = aggregate(P, acc, stat)
    logx = np.log(xs)
    val, st = _crossings(logx, c[None, :], level)
    value = float(np.exp(val[0])) if st[0] == 0 else math.nan
    status = _STATUS[int(st[0])]

    if seeds is None:
        return Threshold(value, math.nan, math.nan, int(counts.max()), status, level)

    seeds_arr = np.asarray([json.dumps(_jsonable(s)) for s in seeds])
    if len(seeds_arr) != len(P):
        raise ValueError(f"seeds must have the same length as P ({len(P)}), got {len(seeds_arr)}")
    labels, s_idx = np.unique(seeds_arr, return_inverse=True)
    p_idx = np.searchsorted(xs, P)
    S = len(labels)
    # per (seed, P): mean of duplicate entries; nan where a seed lacks a P
    tot = np.zeros((S, len(xs)))
    cnt = np.zeros((S, len(xs)))
    np.add.at(tot, (s_idx, p_idx), acc)
    np.add.at(cnt, (s_idx, p_idx), 1)
    with np.errstate(invalid="ignore"):
        Y = tot / cnt
    if stat == "median":
        # recompute the point estimate from per-seed curves for consistency with the bootstrap
        cen = np.nanmedian(Y, axis=0)
    else:
        cen = np.nanmean(Y, axis=0)
    val, st = _crossings(logx, cen[None, :], level)
    value = float(np.exp(val[0])) if st[0] == 0 else math.nan
    status = _STATUS[int(st[0])]

    low = high = math.nan
    if n_boot > 0 and S > 1 and status == "crossed":
        gen = np.random.default_rng(rng)
        idx = gen.integers(0, S, size=(int(n_boot), S))
        Yb = Y[idx]  # (n_boot, S, nP)
        with np.errstate(invalid="ignore"), _quiet_nan_warnings():
            Cb = np.nanmedian(Yb, axis=1) if stat == "median" else np.nanmean(Yb, axis=1)
        # grid points with no data in a replicate: carry the previous value (no crossing there)
        Cb = _ffill_nan(Cb)
        lb, sb = _crossings(logx, Cb, level)
        boot = np.where(sb == 0, np.exp(lb), np.where(sb < 0, 0.0, np.inf))
        low = float(np.quantile(boot, (1 - ci) / 2, method="inverted_cdf"))
        high = float(np.quantile(boot, (1 + ci) / 2, method="inverted_cdf"))
    return Threshold(value, low, high, S, status, level)


class _quiet_nan_warnings:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _ffill_nan(C: np.ndarray) -> np.ndarray:
    C = C.copy()
    for j in range(1, C.shape[1]):
        bad = np.isnan(C[:, j])
        C[bad, j] = C[bad, j - 1]
    return np.nan_to_num(C, nan=-np.inf)


def _metric_of(row: Mapping[str, Any], metric: str | Callable[[Mapping[str, Any]], float]) -> float:
    return float(metric(row)) if callable(metric) else float(row[metric])


def _scale_of(row: Mapping[str, Any], scale: Callable | float | None) -> float:
    if scale is None:
        return 1.0
    return float(scale(row)) if callable(scale) else float(scale)


def thresholds_by(
    rows: Any,
    *,
    metric: str | Callable[[Mapping[str, Any]], float] = "accuracy",
    by: str | None = "m",
    level: float = 0.5,
    scale: Callable[[Mapping[str, Any]], float] | float | None = None,
    x: str = "P",
    **kwargs: Any,
) -> dict[Any, Threshold]:
    """:func:`threshold` (with a bootstrap over the ``seed`` column) for each value of ``by``.

    ``rows``: a :class:`SweepResult`, a list of flat rows, or a results path.  With
    ``scale`` (number or ``row -> number``) the crossing is in units of ``x / scale``.
    ``metric`` may be a column name or a function of the row.  ``by=None``: one group.
    """
    rows = _as_rows(rows)
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for row in rows:
        key = row[by] if by is not None else None
        groups.setdefault(key if not isinstance(key, list) else tuple(key), []).append(row)
    try:
        keys = sorted(groups)
    except TypeError:
        keys = list(groups)
    out = {}
    for k in keys:
        g = groups[k]
        xv = [float(r[x]) / _scale_of(r, scale) for r in g]
        yv = [_metric_of(r, metric) for r in g]
        sv = [r.get("seed") for r in g]
        out[k] = threshold(xv, yv, level, seeds=sv, **kwargs)
    return out


# --------------------------------------------------------------------------- exponents


@dataclass(frozen=True)
class ExponentFit:
    """Least-squares fit ``ln P* = intercept + slope * ln m`` (natural logs).

    ``slope_low``/``slope_high``: ``ci`` interval from the t-distribution of the residuals
    (nan with only two points).  ``slope_low_boot``/``slope_high_boot``: interval from
    refitting with P* redrawn inside the per-point intervals (nan if none were given).
    """

    slope: float
    intercept: float
    slope_low: float
    slope_high: float
    slope_stderr: float
    n: int
    ci: float
    residual_std: float
    slope_low_boot: float = math.nan
    slope_high_boot: float = math.nan
    n_dropped: int = 0

    @property
    def prefactor(self) -> float:
        """C in P* = C m^slope."""
        return math.exp(self.intercept)

    def predict(self, m: Any) -> Any:
        """Fitted P* at ``m`` (scalar or array)."""
        return np.exp(self.intercept) * np.asarray(m, dtype=float) ** self.slope

    def __str__(self) -> str:
        s = f"slope {self.slope:.3f} [{self.slope_low:.3f}, {self.slope_high:.3f}] ({self.ci:.0%} t-interval, n={self.n})"
        if math.isfinite(self.slope_low_boot):
            s += f"; bootstrap [{self.slope_low_boot:.3f}, {self.slope_high_boot:.3f}]"
        return s


def fit_exponent(
    m: Sequence[float],
    P_star: Sequence[float],
    *,
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
    ci: float = 0.9,
    interval_ci: float = 0.9,
    n_boot: int = 2000,
    rng: int | np.random.Generator | None = 0,
) -> ExponentFit:
    """Slope of log P* versus log m, with a confidence interval for the slope.

    Points whose P* is nan (no crossing in the grid) are dropped and counted in
    ``n_dropped``; at least two must remain.  The t-interval uses n-2 degrees of freedom.
    If ``low``/``high`` (per-point ``interval_ci`` intervals, e.g. from
    :func:`threshold`) are given, a parametric bootstrap redraws each ln P* from a normal
    whose width matches its interval (sd = (ln high - ln low) / (2 z)); points whose
    interval is not finite and positive are kept fixed.
    """
    from scipy import stats

    m = np.asarray(m, dtype=float)
    y = np.asarray(P_star, dtype=float)
    if m.ndim != 1 or y.ndim != 1 or len(m) != len(y):
        raise ValueError(f"m and P_star must be 1-D of equal length, got {m.shape} and {y.shape}")
    if not np.all(np.isfinite(m) & (m > 0)):
        raise ValueError("m must be finite and > 0")
    finite = np.isfinite(y)
    if np.any(y[finite] <= 0):
        raise ValueError("P_star must be > 0 (nan marks a missing point)")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    bounds = []
    for name, b in (("low", low), ("high", high)):
        if b is not None:
            b = np.asarray(b, dtype=float)
            if b.shape != y.shape:
                raise ValueError(f"{name} must have the same length as P_star ({len(y)}), got {b.shape}")
        bounds.append(b)
    low_a, high_a = bounds
    if (low_a is None) != (high_a is None):
        raise ValueError("low and high must be given together")

    n = int(finite.sum())
    if n < 2:
        raise ValueError(f"P_star needs at least two finite values to fit a slope, got {n}")
    lx, ly = np.log(m[finite]), np.log(y[finite])
    slope, intercept = _ols(lx, ly)
    resid = ly - (intercept + slope * lx)
    sxx = float(np.sum((lx - lx.mean()) ** 2))
    if sxx == 0:
        raise ValueError("m must take at least two distinct values")
    if n > 2:
        s2 = float(resid @ resid) / (n - 2)
        se = math.sqrt(s2 / sxx)
        t = stats.t.ppf((1 + ci) / 2, n - 2)
        s_lo, s_hi, rstd = slope - t * se, slope + t * se, math.sqrt(s2)
    else:
        se = s_lo = s_hi = rstd = math.nan

    b_lo = b_hi = math.nan
    if low_a is not None and n_boot > 0:
        lo_f, hi_f = low_a[finite], high_a[finite]
        good = np.isfinite(lo_f) & np.isfinite(hi_f) & (lo_f > 0) & (hi_f > 0)
        z = stats.norm.ppf((1 + interval_ci) / 2)
        sd = np.zeros(n)
        sd[good] = (np.log(hi_f[good]) - np.log(lo_f[good])) / (2 * z)
        gen = np.random.default_rng(rng)
        draws = ly[None, :] + gen.standard_normal((int(n_boot), n)) * sd[None, :]
        xc = lx - lx.mean()
        slopes = (draws - draws.mean(axis=1, keepdims=True)) @ xc / sxx
        b_lo, b_hi = (float(q) for q in np.quantile(slopes, [(1 - ci) / 2, (1 + ci) / 2]))
    return ExponentFit(
        slope=float(slope),
        intercept=float(intercept),
        slope_low=float(s_lo),
        slope_high=float(s_hi),
        slope_stderr=float(se),
        n=n,
        ci=ci,
        residual_std=float(rstd),
        slope_low_boot=b_lo,
        slope_high_boot=b_hi,
        n_dropped=int(len(y) - n),
    )


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    xc = x - x.mean()
    sxx = float(xc @ xc)
    if sxx == 0:
        raise ValueError("m must take at least two distinct values")
    slope = float(xc @ (y - y.mean())) / sxx
    return slope, float(y.mean() - slope * x.mean())


# --------------------------------------------------------------------------- collapse


def collapse_spread(
    curves_x: Sequence[Sequence[float]],
    curves_y: Sequence[Sequence[float]],
    level: float = 0.5,
    *,
    stat: str = "median",
) -> float:
    """How badly several curves fail to collapse: std of log10 of their ``level`` crossings.

    Each curve is (x, y) with x the rescaled sample size (repeated x = seeds, aggregated
    by ``stat``).  Curves that do not cross inside their grid are ignored (the same ones
    under any per-curve rescaling); nan if fewer than two cross.  Smaller is better: a
    perfect collapse gives 0.
    """
    if len(curves_x) != len(curves_y):
        raise ValueError(f"curves_x and curves_y must have the same length, got {len(curves_x)} and {len(curves_y)}")
    logs = []
    for xv, yv in zip(curves_x, curves_y):
        th = threshold(xv, yv, level, stat=stat)
        if th.crossed:
            logs.append(math.log10(th.value))
    if len(logs) < 2:
        return math.nan
    return float(np.std(logs))


def collapse_spread_rows(
    rows: Any,
    scale: Callable[[Mapping[str, Any]], float],
    *,
    group: str = "m",
    metric: str | Callable[[Mapping[str, Any]], float] = "accuracy",
    level: float = 0.5,
    x: str = "P",
    stat: str = "median",
) -> float:
    """:func:`collapse_spread` of the curves of a sweep, one per ``group`` value, with
    x = ``row[x] / scale(row)``; e.g. compare ``scale=lambda p: p["v"] * p["m"]**3``
    with ``lambda p: p["v"] * p["m"]**(p["L"] + 1)``."""
    rows = _as_rows(rows)
    groups: dict[Any, tuple[list[float], list[float]]] = {}
    for row in rows:
        key = json.dumps(_jsonable(row[group]))
        xs, ys = groups.setdefault(key, ([], []))
        xs.append(float(row[x]) / _scale_of(row, scale))
        ys.append(_metric_of(row, metric))
    return collapse_spread([g[0] for g in groups.values()], [g[1] for g in groups.values()], level, stat=stat)
