"""Iterative Latent Clustering (ILC, Algorithm 1 of the paper).

Level by level, ILC estimates the *cousin context vector* of every observed tuple
(the empirical distribution of a symbol in a cousin tuple, given the tuple), clusters
these vectors into ``v`` groups with k-means, and relabels every tuple by its cluster:
the labels are the estimated latents of the level above.  It repeats up to level
``L-1`` (the root cannot be recovered without labels).

Main entry points:

- :class:`ILC` -- scikit-learn style: ``ILC(v=, s=, L=, **options).fit(tokens)``,
  ``.transform(tokens)`` -> estimated latents of levels ``1..L-1`` (``-1`` = unknown),
  ``.score(sample)`` -> per-level accuracy after Hungarian label matching.
- :func:`fit_path` -- fits one ILC for every P of a grid on the prefixes of a single
  RHM stream, sharing the sampling (one pass over the stream per level).
- :func:`ilc_sweep` / :func:`main` -- the chapter's sample-complexity sweeps;
  ``OWNLATENTS_PRESET=full python -m ownlatents.ilc`` writes ``results/ilc_*_full.json``.

Internally symbols are stored with one extra value ``v`` meaning "unknown", tuples are
coded in base ``v+1``, and every learned level is a lookup table on these codes, so
relabelling a whole stream is a chain of ``take`` calls (no Python loop over samples).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .probes import level_accuracies
from .rhm import RHM, RHMSample
from .validation import check_int as _check_int

__all__ = ["ILC", "fit_path", "ilc_point", "ILCPathSweep", "ilc_sweep", "per_level_rows", "variant_name", "main"]

CONTEXTS = ("one", "all")
UNSEEN = ("error", "guess")
# the ILC options a sweep may vary (they name a variant in tables and plots)
_OPTION_NAMES = ("context", "pool_blocks", "oracle", "kmeans_weighted", "kmeans_init", "kmeans_n_init", "min_count",
                 "unseen", "tuple_pos", "cousin_pos")
_MAX_TABLE = 2**24


class ILC:
    """Iterative Latent Clustering.

    Parameters
    ----------
    v, s, L : vocabulary size, branching factor and depth of the RHM.
    tuple_pos : which tuple of a grandparent block is clustered, in ``[0, s-1]`` (default 0).
    cousin_pos : position (in ``[0, s**2-1]``, inside the grandparent block) of the cousin
        symbol predicted; must lie outside tuple ``tuple_pos``.  Default ``2s-1`` (Fig. 2).
    context : ``"one"`` (the context vector is the distribution of the single symbol at
        ``cousin_pos``, Algorithm 1) or ``"all"`` (the ``s(s-1)`` symbols of all cousin
        tuples of the block, their distributions concatenated: what SLC predicts).
    pool_blocks : False (only the first grandparent block, Algorithm 1 literally) or True
        (every grandparent block of the level, same relative positions).
    oracle : True builds the context vectors from the *true* latents of the level below
        (``fit`` then needs ``latents``); isolates per-level estimation error.
    kmeans_init, kmeans_n_init, kmeans_weighted : k-means settings (weighted = points
        weighted by their counts).  kmeans_seed : seed of k-means (level ``l`` uses
        ``kmeans_seed + l``).
    min_count : tuples seen fewer times are not clustered; default 1.
    unseen : what a tuple that was not clustered (never seen at the tuple position, or seen
        fewer than ``min_count`` times) is mapped to.  ``"error"`` (default, the spec's): the
        label ``-1``, which propagates upwards and counts as wrong.  ``"guess"``: a label drawn
        uniformly at random once per tuple value at fit time (seeded by ``kmeans_seed`` and the
        level), so nothing is ever unknown and accuracy at tiny P sits at chance, not at 0.

    After ``fit``: ``tables_[l]`` (length ``v**s``) maps each level-``l`` tuple code
    (:func:`ownlatents.rhm.encode_tuples`) to its cluster, ``-1`` if unseen (with
    ``unseen="guess"``: the guessed label);
    ``n_seen_[l]`` is the number of distinct tuples clustered at level ``l``;
    ``contexts_[l] = (codes, X)``: the clustered tuple codes and their empirical context vectors.
    """

    def __init__(
        self,
        v: int,
        s: int,
        L: int,
        *,
        tuple_pos: int = 0,
        cousin_pos: int | None = None,
        context: str = "one",
        pool_blocks: bool = False,
        oracle: bool = False,
        kmeans_init: str = "k-means++",
        kmeans_n_init: int = 10,
        kmeans_weighted: bool = False,
        kmeans_seed: int = 0,
        min_count: int = 1,
        unseen: str = "error",
    ):
        self.v = _check_int("v", v, 2)
        self.s = _check_int("s", s, 2)
        self.L = _check_int("L", L, 2)
        if (self.v + 1) ** self.s > _MAX_TABLE:
            raise ValueError(f"(v+1)**s must be <= {_MAX_TABLE} (lookup tables), got {(self.v + 1) ** self.s}")
        self.tuple_pos = _check_int("tuple_pos", tuple_pos, 0, self.s - 1)
        cousin_pos = 2 * self.s - 1 if cousin_pos is None else cousin_pos
        self.cousin_pos = _check_int("cousin_pos", cousin_pos, 0, self.s**2 - 1)
        if self.cousin_pos // self.s == self.tuple_pos:
            raise ValueError(
                f"cousin_pos must lie outside tuple tuple_pos={self.tuple_pos}, i.e. not in "
                f"[{self.tuple_pos * self.s}, {self.tuple_pos * self.s + self.s - 1}], got {self.cousin_pos}"
            )
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, got {context!r}")
        self.context = context
        self.pool_blocks = bool(pool_blocks)
        self.oracle = bool(oracle)
        if kmeans_init not in ("k-means++", "random"):
            raise ValueError(f"kmeans_init must be 'k-means++' or 'random', got {kmeans_init!r}")
        self.kmeans_init = kmeans_init
        self.kmeans_n_init = _check_int("kmeans_n_init", kmeans_n_init, 1)
        self.kmeans_weighted = bool(kmeans_weighted)
        self.kmeans_seed = _check_int("kmeans_seed", kmeans_seed, 0)
        self.min_count = _check_int("min_count", min_count, 1)
        if unseen not in UNSEEN:
            raise ValueError(f"unseen must be one of {UNSEEN}, got {unseen!r}")
        self.unseen = unseen
        # derived constants
        self._B = self.v + 1  # extended alphabet: v = unknown
        self._dtype = np.uint8 if self._B <= 256 else np.uint16
        self._weights = self._B ** np.arange(self.s - 1, -1, -1)
        # small code dtype: half the memory traffic of intp (measured ~1.5x faster lifting)
        self._code_dtype = np.uint16 if self._B**self.s <= 2**16 else np.intp
        std_digits = (np.arange(self.v**self.s)[:, None] // self.v ** np.arange(self.s - 1, -1, -1)) % self.v
        self._std_to_ext = std_digits @ self._weights  # standard code -> extended code
        if self.context == "one":
            self._targets = np.array([self.cousin_pos])
        else:
            self._targets = np.array([p for p in range(self.s**2) if p // self.s != self.tuple_pos])

    # ------------------------------------------------------------------ helpers
    def get_params(self) -> dict:
        """The constructor arguments."""
        keys = ("v", "s", "L", "tuple_pos", "cousin_pos", "context", "pool_blocks", "oracle", "kmeans_init",
                "kmeans_n_init", "kmeans_weighted", "kmeans_seed", "min_count", "unseen")
        return {k: getattr(self, k) for k in keys}

    def __repr__(self) -> str:
        return "ILC(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    def _codes(self, h: np.ndarray) -> np.ndarray:
        """Extended (base v+1) codes of the consecutive s-tuples of ``h`` [n, k*s] -> [n, k]."""
        h3 = h.reshape(h.shape[0], -1, self.s)
        dt = self._code_dtype
        code = h3[:, :, 0].astype(dt) * dt(self._weights[0])
        for i in range(1, self.s):
            code += h3[:, :, i].astype(dt, copy=False) * dt(self._weights[i])
        return code

    def _lift(self, h: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Relabel the level-``start`` sequence ``h`` (extended symbols) up to level ``stop``."""
        for level in range(start, stop):
            h = self._ext[level].take(self._codes(h))
        return h

    def _check_tokens(self, tokens, name="tokens") -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or tokens.shape[1] != self.s**self.L:
            raise ValueError(f"{name} must have shape [P, s**L] = [P, {self.s**self.L}], got {tokens.shape}")
        if tokens.size and (not np.issubdtype(tokens.dtype, np.integer) or tokens.min() < 0 or tokens.max() >= self.v):
            raise ValueError(f"{name} must hold integer symbols in [0, {self.v - 1}]")
        return tokens

    def _check_latents(self, latents, P: int):
        if latents is None:
            raise ValueError("latents must be given (an RHMSample or the list of levels 0..L) when oracle=True")
        levels = latents.levels if isinstance(latents, RHMSample) else tuple(latents)
        if len(levels) < self.L:
            raise ValueError(f"latents must hold levels 0..L-1 (at least {self.L} arrays), got {len(levels)}")
        for lv in range(self.L):
            shape = (P, self.s ** (self.L - lv))
            if np.shape(levels[lv]) != shape:
                raise ValueError(f"latents[{lv}] must have shape {shape}, got {np.shape(levels[lv])}")
        return levels

    # ------------------------------------------------------------------ fitting
    def _reset(self) -> None:
        self.tables_: list[np.ndarray] = []
        self._ext: list[np.ndarray] = []
        self.n_seen_: list[int] = []
        self.counts_: list[np.ndarray] = []
        self.contexts_: list[tuple[np.ndarray, np.ndarray]] = []
        self.n_samples_ = 0

    def _count(self, level: int, chunk, rows: int) -> np.ndarray:
        """Count increments [B**s * J * B] of (tuple code, target slot, target symbol) on ``rows`` strings.

        Without pooling only the level-``level`` symbols that the counts use are built: the tuple
        at ``tuple_pos`` and the target(s) in the first grandparent block (for ``context="one"``
        4 of the 9 symbols of a block at s=3), lifting only the tokens below them."""
        s, B, J = self.s, self._B, len(self._targets)
        t = self.tuple_pos * s
        if self.pool_blocks:
            width = self.s ** (self.L - level)
            if self.oracle:
                h = chunk.levels[level][:rows, :width]
            else:
                tokens = chunk.tokens if isinstance(chunk, RHMSample) else chunk
                h = self._lift(tokens[:rows, : width * s**level], 0, level)
            h = h.reshape(rows, -1, s * s)  # [n, blocks, s^2]
            code = self._codes(h[:, :, t : t + s].reshape(rows, -1))  # [n, blocks]
            z = h[:, :, self._targets]  # [n, blocks, J]
        else:
            positions = np.concatenate([np.arange(t, t + s), self._targets])  # inside the first block
            if self.oracle:
                h = chunk.levels[level][:rows, positions]
            else:
                tokens = chunk.tokens if isinstance(chunk, RHMSample) else chunk
                span = s**level  # tokens below one level-`level` symbol
                columns = (positions[:, None] * span + np.arange(span)).ravel()
                h = self._lift(tokens[:rows, columns], 0, level)  # [n, s + J]
            code = self._codes(h[:, :s])  # [n, 1]
            z = h[:, None, s:]  # [n, 1, J]
        index = (code[:, :, None].astype(np.intp) * J + np.arange(J)) * B + z
        return np.bincount(index.ravel(), minlength=B**s * J * B)

    def _cluster(self, level: int, counts: np.ndarray) -> None:
        """k-means on the empirical context vectors of the observed tuples; store the level's table."""
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits

        v, B, J = self.v, self._B, len(self._targets)
        c = counts.reshape(B**self.s, J, B)[self._std_to_ext][:, :, :v].astype(np.float64)  # [v**s, J, v]
        n = c[:, 0, :].sum(axis=1) if J == 1 else c.sum(axis=2).max(axis=1)
        seen = np.flatnonzero(n >= self.min_count)
        table = np.full(v**self.s, -1, dtype=np.int64)
        if seen.size:
            tot = c[seen].sum(axis=2, keepdims=True)
            X = np.divide(c[seen], tot, out=np.zeros_like(c[seen]), where=tot > 0).reshape(seen.size, J * v)
            k = min(v, seen.size)
            km = KMeans(n_clusters=k, init=self.kmeans_init, n_init=self.kmeans_n_init,
                        random_state=self.kmeans_seed + level)
            # one thread: the problem is tiny (<= v**s points) and OpenMP threads are very slow on a
            # shared, oversubscribed CPU
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore")  # duplicate points -> fewer distinct clusters
                labels = km.fit_predict(X, sample_weight=n[seen] if self.kmeans_weighted else None)
            table[seen] = labels
        if self.unseen == "guess":
            guess = np.random.default_rng([self.kmeans_seed, level]).integers(v, size=table.size)
            table = np.where(table >= 0, table, guess)
        ext = np.full(B**self.s, v, dtype=self._dtype)
        ext[self._std_to_ext] = np.where(table >= 0, table, v)
        self.contexts_.append((seen, X if seen.size else np.zeros((0, J * v))))
        self.tables_.append(table)
        self._ext.append(ext)
        self.n_seen_.append(int(seen.size))
        self.counts_.append(c.sum(axis=1).astype(np.int64) if J > 1 else c[:, 0].astype(np.int64))

    def fit(self, tokens, latents=None, *, chunk_size: int = 16384) -> "ILC":
        """Fit on ``tokens`` [P, s**L]; ``latents`` (RHMSample or levels list) only for ``oracle=True``."""
        tokens = self._check_tokens(tokens)
        chunk_size = _check_int("chunk_size", chunk_size, 1)
        P = tokens.shape[0]
        if P == 0:
            raise ValueError("tokens must hold at least one string")
        levels = self._check_latents(latents, P) if self.oracle else None

        def source(level):
            for a in range(0, P, chunk_size):
                if levels is None:
                    yield tokens[a : a + chunk_size]
                else:
                    yield RHMSample(tuple(np.asarray(lv[a : a + chunk_size]) for lv in levels))

        _fit_many([self], [P], source)
        return self

    def fit_rhm(self, rhm: RHM, P: int, seed: int, *, chunk_size: int = 16384) -> "ILC":
        """Fit on the ``P`` strings of ``rhm.sample_prefix(P, seed)`` (an i.i.d. stream), streamed in
        bounded memory and sampling at each level only the prefix the level reads (see :func:`fit_path`)."""
        fit_path(rhm, [P], seed, estimators=[self], chunk_size=chunk_size)
        return self

    # ------------------------------------------------------------------ inference
    def _check_fitted(self):
        if not hasattr(self, "tables_") or len(self.tables_) != self.L - 1:
            raise ValueError("this ILC is not fitted yet; call fit first")

    def transform(self, tokens, latents=None) -> list[np.ndarray]:
        """Estimated latents of levels ``1..L-1``: list of int arrays [P, s**(L-l)] (``-1`` = unknown).

        With ``oracle=True`` level ``l+1`` is the table of level ``l`` applied to the *true*
        level-``l`` latents (``latents`` required), as in the oracle fit.
        """
        self._check_fitted()
        tokens = self._check_tokens(tokens)
        levels = self._check_latents(latents, tokens.shape[0]) if self.oracle else None
        out = []
        h = tokens.astype(self._dtype)
        for level in range(self.L - 1):
            src = np.asarray(levels[level]).astype(self._dtype) if self.oracle else h
            h = self._ext[level].take(self._codes(src))
            lab = h.astype(np.int32)
            lab[lab == self.v] = -1
            out.append(lab)
        return out

    def score(self, sample: RHMSample) -> list[float]:
        """Per-level accuracy (levels ``1..L-1``) after optimal label matching, on ``sample``.

        The same as ``probes.level_accuracies(self.transform(x), true_levels, v)``: one Hungarian
        matching per level (labels are only defined up to a permutation), ``-1`` counted wrong."""
        if not isinstance(sample, RHMSample) or sample.L != self.L:
            raise ValueError(f"sample must be an RHMSample of depth L={self.L}")
        preds = self.transform(sample.tokens, sample if self.oracle else None)
        return level_accuracies(preds, [sample[l] for l in range(1, self.L)], self.v)


# ---------------------------------------------------------------------- shared passes
def _fit_many(estimators: Sequence[ILC], P_list: Sequence[int], source: Callable[[], Iterable], timing=None) -> None:
    """Fit estimator ``j`` on the first ``P_list[j]`` strings of ``source()``; one pass per level.

    ``source(level)`` is called once per level and must yield chunks of the same strings each
    time (token arrays, or RHMSamples when an estimator uses ``oracle``), holding at least the
    prefix of every string that the level reads.
    """
    L = estimators[0].L
    if any(e.L != L for e in estimators):
        raise ValueError("estimators must share L")
    for e in estimators:
        e._reset()
    P_max = max(P_list)
    timing = {} if timing is None else timing
    for level in range(L - 1):
        counts = [0] * len(estimators)
        start = 0
        t0 = time.perf_counter()
        it = iter(source(level))
        t_sample = t_count = 0.0
        while start < P_max:
            ts = time.perf_counter()
            try:
                chunk = next(it)
            except StopIteration:
                break
            tc = time.perf_counter()
            t_sample += tc - ts
            n = len(chunk)
            for j, (e, P) in enumerate(zip(estimators, P_list)):
                rows = min(P - start, n)
                if rows > 0:
                    counts[j] = counts[j] + e._count(level, chunk, rows)
            t_count += time.perf_counter() - tc
            start += n
        tk = time.perf_counter()
        for j, (e, P) in enumerate(zip(estimators, P_list)):
            if isinstance(counts[j], int):
                raise ValueError(f"the source yielded no strings (P = {P})")
            e._cluster(level, counts[j])
            e.n_samples_ = min(P, start)
        t_k = time.perf_counter() - tk
        for key, val in (("sampling", t_sample), ("counting", t_count), ("kmeans", t_k)):
            timing[key] = timing.get(key, 0.0) + val
    for e, P in zip(estimators, P_list):
        if e.n_samples_ < P:
            raise ValueError(f"the source holds {e.n_samples_} strings, fewer than P = {P}")


def fit_path(
    rhm: RHM,
    P_grid: Sequence[int],
    seed: int,
    *,
    estimators: Sequence[ILC] | None = None,
    chunk_size: int = 16384,
    timing: dict | None = None,
    cache_bytes: int = 2**28,
    **options,
) -> list[ILC]:
    """One ILC per ``P`` in ``P_grid``, each fitted on the first ``P`` strings of the nested-prefix
    stream of ``rhm`` with sample seed ``seed``; every estimator is identical to
    ``ILC(...).fit(rhm.sample_prefix(P, seed).tokens)``.

    Two savings make this fast.  The stream is sampled once per level for the whole grid
    (smaller P are prefixes of the same stream).  And Algorithm 1 at level ``l`` reads only
    the first grandparent block (``s**(l+2)`` tokens of a string), so without ``pool_blocks``
    the level-``l`` pass draws only that prefix of every string
    (:meth:`~ownlatents.rhm.RHM.iter_prefix`): at ``L=5, s=3`` the four passes sample 360 tokens
    per string instead of 4 x 243.  ``options`` go to :class:`ILC` (unless ``estimators`` are
    given).  ``timing`` (a dict) receives seconds spent sampling, counting and in k-means.  When
    the whole stream takes at most ``cache_bytes`` it is sampled once and kept in memory for the
    later levels; otherwise it is regenerated (deterministically) at every level, so memory stays
    bounded for any P."""
    P_grid = [_check_int("P", P, 1) for P in P_grid]
    if not P_grid:
        raise ValueError("P_grid must not be empty")
    if estimators is None:
        estimators = [ILC(rhm.v, rhm.s, rhm.L, **options) for _ in P_grid]
    if len(estimators) != len(P_grid):
        raise ValueError(f"estimators must have one entry per P, got {len(estimators)} for {len(P_grid)}")
    for e in estimators:
        if (e.v, e.s, e.L) != (rhm.v, rhm.s, rhm.L):
            raise ValueError(f"estimator (v, s, L) = {(e.v, e.s, e.L)} does not match {rhm}")
    oracle = any(e.oracle for e in estimators)
    pooled = any(e.pool_blocks for e in estimators)
    P_max = max(P_grid)
    per_string = sum(rhm.level_size(l) for l in range(rhm.L)) if oracle else rhm.n_tokens
    cache: list | None = [] if P_max * per_string * rhm.dtype.itemsize <= cache_bytes else None

    def source(level):
        if cache:  # later levels replay the first pass instead of sampling again
            yield from cache
            return
        # the prefix this level reads (the whole string when blocks are pooled or when caching)
        height = rhm.L if (pooled or cache is not None) else min(level + 2, rhm.L)
        for chunk in rhm.iter_prefix(P_max, seed, height, chunk_size=chunk_size, tokens_only=not oracle):
            if cache is not None:
                cache.append(chunk)
            yield chunk

    _fit_many(estimators, P_grid, source, timing)
    return list(estimators)


# ---------------------------------------------------------------------- sweeps
def _seeds(seed: int) -> dict:
    """The independent seeds of one run: grammar, training stream, test set, k-means."""
    return dict(grammar=seed, train=10_000 + seed, test=20_000 + seed, kmeans=seed)


def ilc_point(P: int, seed: int, *, v: int, m: int, s: int, L: int, n_test: int = 10_000, **options) -> dict:
    """One sweep run: fit ILC on P strings, score every level on ``n_test`` held-out strings.

    Metrics: ``accuracy`` (top non-root level h^(L-1)), ``acc_levels`` (levels 1..L-1),
    ``n_seen`` (distinct tuples clustered per level).
    """
    return ILCPathSweep(lambda p: [P], n_test=n_test)(P=P, seed=seed, v=v, m=m, s=s, L=L, **options)


class ILCPathSweep:
    """Sweep function for :func:`ownlatents.sweeps.run_sweep` that fits the whole P grid of a
    (params, seed) in one :func:`fit_path` on first use and serves the other P from a cache.

    ``P_grid(params) -> list`` must be the grid passed to ``run_sweep``.
    """

    def __init__(self, P_grid: Callable[[dict], Sequence[int]], n_test: int = 10_000):
        self.P_grid = P_grid
        self.n_test = _check_int("n_test", n_test, 1)
        self._cache: dict = {}
        self.timing: dict = {}

    def __call__(self, *, P: int, seed: int, v: int, m: int, s: int, L: int, **options) -> dict:
        params = dict(v=v, m=m, s=s, L=L, **options)
        key = (repr(sorted(params.items())), seed)
        if key not in self._cache or P not in self._cache[key]:
            grid = sorted(set(int(p) for p in self.P_grid(params)) | {int(P)})
            sd = _seeds(seed)
            rhm = RHM(v, m, s, L, seed=sd["grammar"])
            test = rhm.sample(self.n_test, sd["test"])
            t0 = time.perf_counter()
            timing: dict = {}
            fits = fit_path(rhm, grid, sd["train"], timing=timing, kmeans_seed=sd["kmeans"], **options)
            fit_s = time.perf_counter() - t0
            out = {}
            for p, est in zip(grid, fits):
                acc = est.score(test)
                out[p] = {"accuracy": acc[-1], "acc_levels": acc, "n_seen": est.n_seen_,
                          "path_fit_s": fit_s, **{f"path_{k}_s": t for k, t in timing.items()}}
            for k, t in timing.items():
                self.timing[k] = self.timing.get(k, 0.0) + t
            self._cache = {key: out}  # keep only the current (params, seed)
        return self._cache[key][P]


def ilc_sweep(cfg: dict, *, path=None, progress: bool = True, jobs: int = 1):
    """Run one sweep section of the ``ilc`` preset (keys ``v, s, L, m, seeds, lo, hi, per_decade``,
    optional ``variants``, ``n_test``; ``v``, ``L`` and ``m`` may be lists); P grid in units of ``v m^3``.  ``jobs``: worker processes,
    one (parameters, seed) P-path each.  Returns a SweepResult."""
    from .sweeps import param_grid, run_sweep, scaled_grid

    def grid(p):
        return scaled_grid(p["v"] * p["m"] ** 3, cfg["lo"], cfg["hi"], cfg["per_decade"])

    def as_list(x):
        return list(x) if isinstance(x, (list, tuple)) else [x]

    variants = cfg.get("variants", [{}])
    params = [dict(p, **var) for var in variants
              for p in param_grid(v=as_list(cfg["v"]), s=[cfg["s"]], L=as_list(cfg["L"]), m=as_list(cfg["m"]))]
    fn = ILCPathSweep(grid, n_test=cfg.get("n_test", 10_000))
    return run_sweep(fn, P_grid=grid, params=params, seeds=list(cfg["seeds"]), path=path,
                     desc=cfg.get("desc", "ILC"), progress=progress, meta={"section": cfg}, jobs=jobs)


def per_level_rows(rows) -> list[dict]:
    """Long format for per-level plots: one row per (run, level) with columns ``level`` (1..L-1)
    and ``level_accuracy``, plus the run's other columns."""
    from .sweeps import _as_rows

    out = []
    for r in _as_rows(rows):
        for k, acc in enumerate(r["acc_levels"]):
            out.append({**r, "level": k + 1, "level_accuracy": acc})
    return out


def variant_name(row) -> str:
    """A short label of the ILC options of a sweep row ("Algorithm 1" for the defaults)."""
    opts = [f"{k}={row[k]}" for k in _OPTION_NAMES if k in row]
    return ", ".join(opts) if opts else "Algorithm 1"


#: the sweep sections of the ``ilc`` preset that ``main`` runs
SWEEPS = ("main", "weighted", "depth", "variants", "vocab")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``ilc`` sweeps of the preset in force and store them under ``results/``.

    ``OWNLATENTS_PRESET=full python -m ownlatents.ilc [main] [weighted] [depth] [variants] [vocab] [--jobs N]``
    """
    from .sweeps import run_preset_sweeps

    run_preset_sweeps("ilc", ilc_sweep, lambda cfg: [k for k in SWEEPS if k in cfg], argv)


if __name__ == "__main__":
    # run the imported module's main, so that results record `ownlatents.ilc:ILCPathSweep`
    # (not `__main__:...`) and stay resumable from any entry point
    from ownlatents.ilc import main as _main

    _main()
