"""The Random Hierarchy Model (RHM): a random, unambiguous context-free grammar on a tree.

Levels count from the bottom: level 0 is the visible string (``s**L`` tokens), level
``L`` is the root (one symbol).  Every level has its own vocabulary ``{0, ..., v-1}``.
For each level ``l = 0 .. L-1`` the grammar draws ``v*m`` *distinct* ``s``-tuples of
level-``l`` symbols uniformly without replacement and splits them into ``v`` groups
of ``m``: group ``a`` holds the ``m`` productions (synonyms) of the level-``(l+1)``
symbol ``a``.  A string is generated top-down: a uniform root, then every node picks
one of its ``m`` productions uniformly and independently.

Conventions used throughout the library:

* ``rhm.rules[l]`` has shape ``[v, m, s]``: ``rules[l][a, j]`` is the ``j``-th
  production of the level-``(l+1)`` symbol ``a`` (a tuple of level-``l`` symbols).
* A sample is an :class:`RHMSample`; ``sample[l]`` is the level-``l`` sequence with
  shape ``[P, s**(L-l)]`` (``sample.tokens = sample[0]``, ``sample.root = sample[L][:, 0]``).
* A tuple ``(t_0, ..., t_{s-1})`` is encoded as the integer ``sum_i t_i v**(s-1-i)``
  (:func:`encode_tuples`); ``rhm.parent_table(l)`` maps codes to parents (``-1`` if
  the tuple is not grammatical).

Every string has the same probability ``1 / n_strings``, so i.i.d. sampling from the
RHM is uniform sampling of strings with replacement, and sampling *distinct*
strings is uniform sampling without replacement (see :meth:`RHM.sample`).
:meth:`RHM.sample_prefix` is a second i.i.d. stream in which the first ``s**h`` tokens
of every string (its leftmost height-``h`` subtree) can be drawn without the rest; ILC
uses it to sample at each level only the part of the strings it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .validation import check_int as _check_int

__all__ = [
    "RHM",
    "RHMSample",
    "encode_tuples",
    "one_hot",
    "token_ids",
    "mask_id",
    "pad_id",
    "BLOCK_SIZE",
]

#: Strings are generated in blocks of this many; block ``b`` of a sample with seed
#: ``seed`` uses its own generator ``SeedSequence(seed, spawn_key=(b,))``, so a
#: sample does not depend on how it is chunked.
BLOCK_SIZE = 16384

# Spawn-key tag of the nested-prefix stream (sample_prefix); the i.i.d. stream uses
# (block,) and the distinct stream (2**32,), so the three never share random numbers.
_PREFIX_TAG = 2**31

# Above this many distinct strings the integer <-> string bijection no longer fits
# an int64 index; distinct samples are then drawn by rejecting repeated strings.
_MAX_INDEXABLE = 2**62


def _seed_sequence(seed, *key: int) -> np.random.SeedSequence:
    """An independent, reproducible stream for ``(seed, *key)``."""
    seed = _check_int("seed", seed, 0)
    return np.random.SeedSequence(seed, spawn_key=tuple(key))


def smallest_uint(max_value: int) -> np.dtype:
    """The smallest unsigned integer dtype holding ``0 .. max_value``."""
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if max_value <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    raise ValueError(f"max_value must be < 2**64, got {max_value}")


def encode_tuples(seq: np.ndarray, s: int, v: int) -> np.ndarray:
    """Integer codes of the consecutive ``s``-tuples of a level sequence.

    ``seq`` has shape ``[P, n*s]``; the result has shape ``[P, n]`` with
    ``code = sum_i seq[..., i] * v**(s-1-i)`` (dtype int64).
    """
    seq = np.asarray(seq)
    if seq.ndim != 2 or seq.shape[1] % s:
        raise ValueError(f"seq must have shape [P, n*s] with s={s}, got {seq.shape}")
    tuples = seq.reshape(seq.shape[0], -1, s).astype(np.int64)
    weights = v ** np.arange(s - 1, -1, -1, dtype=np.int64)
    return tuples @ weights


@dataclass(frozen=True)
class RHMSample:
    """Strings and their whole latent tree.

    ``levels[l]`` is the level-``l`` sequence, shape ``[P, s**(L-l)]``: ``levels[0]``
    are the visible tokens and ``levels[L]`` the root (shape ``[P, 1]``).
    """

    levels: tuple[np.ndarray, ...]

    def __getitem__(self, level: int) -> np.ndarray:
        return self.levels[level]

    def __len__(self) -> int:
        return self.levels[0].shape[0]

    @property
    def L(self) -> int:
        return len(self.levels) - 1

    @property
    def tokens(self) -> np.ndarray:
        """The visible string, ``[P, s**L]``."""
        return self.levels[0]

    @property
    def root(self) -> np.ndarray:
        """The root symbol (the class label), ``[P]``."""
        return self.levels[-1][:, 0]

    def select(self, index) -> "RHMSample":
        """The sub-sample of the strings at ``index`` (a slice, mask or index array)."""
        return RHMSample(tuple(level[index] for level in self.levels))

    @staticmethod
    def concatenate(parts: Sequence["RHMSample"]) -> "RHMSample":
        """Join samples of the same grammar along the string axis."""
        if not parts:
            raise ValueError("parts must hold at least one sample")
        return RHMSample(
            tuple(np.concatenate([p.levels[l] for p in parts]) for l in range(len(parts[0].levels)))
        )


class RHM:
    """One random grammar of the Random Hierarchy Model.

    Parameters
    ----------
    v : vocabulary size of every level (root classes included), ``v >= 2``.
    m : number of productions (synonyms) per symbol, ``1 <= m <= v**(s-1)``.
    s : branching factor (tuple length), ``s >= 2``.
    L : depth, ``L >= 1``; the visible string has ``s**L`` tokens.
    seed : seed of the grammar (the rules). Samples take their own seed.

    The rules of level ``l`` depend only on ``(v, m, s, seed, l)``, so grammars of
    different depth with the same seed share their lower levels.
    """

    def __init__(self, v: int, m: int, s: int, L: int, seed: int = 0):
        self.v = _check_int("v", v, 2)
        self.s = _check_int("s", s, 2)
        self.L = _check_int("L", L, 1)
        self.m = _check_int("m", m, 1)
        if self.m > self.v ** (self.s - 1):
            raise ValueError(
                f"m must be in [1, v**(s-1)] = [1, {self.v ** (self.s - 1)}] so that v*m <= v**s distinct "
                f"tuples exist (f = m/v**(s-1) <= 1), got m={self.m}"
            )
        self.seed = _check_int("seed", seed, 0)
        self.dtype = smallest_uint(self.v - 1)
        self.rules = tuple(self._draw_rules(level) for level in range(self.L))
        self._build_tables()

    def _build_tables(self) -> None:
        """Lookup tables derived from ``self.rules`` (parents, productions, fast sampling)."""
        # Tables on the v**s tuple codes: parent symbol and production index (-1: not grammatical).
        self._parent = []
        self._production = []
        for level in range(self.L):
            codes = self.grammatical_codes(level)
            parent = np.full(self.v**self.s, -1, dtype=np.int64)
            production = np.full(self.v**self.s, -1, dtype=np.int64)
            parent[codes] = np.repeat(np.arange(self.v), self.m)
            production[codes] = np.tile(np.arange(self.m), self.v)
            self._parent.append(parent)
            self._production.append(production)
        # Flat rule tables [v*m, s] in the sample dtype: row a*m + j is rules[l][a, j].
        self._flat_rules = tuple(r.reshape(self.v * self.m, self.s).astype(self.dtype) for r in self.rules)
        self._pair_tables = self._build_pair_tables()

    def regroup_top(self, seed: int) -> "RHM":
        """A grammar with the same rules below the top and the same ``v*m`` top-level tuples,
        randomly re-partitioned into the ``v`` root classes.

        It generates exactly the same strings with the same (uniform) probabilities, but
        assigns them different roots: the data alone cannot tell the two grammars apart,
        which is why the root needs labels (spec, section 1).
        """
        rng = np.random.default_rng(_seed_sequence(seed))
        top = self.grammatical_tuples(self.L - 1)
        other = object.__new__(RHM)
        other.__dict__.update(self.__dict__)
        other.seed = None
        other.rules = self.rules[:-1] + (top[rng.permutation(len(top))].reshape(self.v, self.m, self.s),)
        other._build_tables()
        return other

    def _build_pair_tables(self):
        """Two-level expansion tables for fast i.i.d. sampling, when they are small (< 4 MB).

        A level-``t`` node with symbol ``a`` and the production choices of itself and of
        its ``s`` children (one joint uniform draw ``J`` in ``[0, m**(s+1))``) determine its
        ``s`` children and ``s**2`` grandchildren: ``tables[t] = (children, grandchildren)``,
        rows indexed by ``a * m**(s+1) + J``.  One draw and one lookup replace ``1+s`` of
        each, which is where the sampler's speed comes from.
        """
        joint = self.m ** (self.s + 1)
        rows = self.v * joint
        if self.L < 2 or rows * (self.s + self.s**2) * self.dtype.itemsize > 4 * 2**20 or joint > 2**32:
            return None
        a = np.repeat(np.arange(self.v), joint)
        J = np.tile(np.arange(joint), self.v)
        digits = (J[:, None] // self.m ** np.arange(self.s, -1, -1)) % self.m  # [rows, 1+s]
        tables = {}
        for top in range(2, self.L + 1):
            children = self.rules[top - 1][a, digits[:, 0]]  # [rows, s]
            grandchildren = self.rules[top - 2][children, digits[:, 1:]]  # [rows, s, s]
            tables[top] = (
                self._as_rows(children.astype(self.dtype)),
                self._as_rows(grandchildren.reshape(rows, -1).astype(self.dtype)),
            )
        return tables

    @staticmethod
    def _as_rows(table: np.ndarray) -> np.ndarray:
        """View a 2-D table as a 1-D array of opaque rows, so ``take`` copies a row at once."""
        table = np.ascontiguousarray(table)
        return table.view(np.dtype((np.void, table.shape[1] * table.itemsize))).ravel()

    def _draw_rules(self, level: int) -> np.ndarray:
        """``v*m`` distinct tuples without replacement, ``m`` per parent: shape ``[v, m, s]``."""
        rng = np.random.default_rng(_seed_sequence(self.seed, level))
        codes = rng.choice(self.v**self.s, size=self.v * self.m, replace=False)
        digits = (codes[:, None] // self.v ** np.arange(self.s - 1, -1, -1)) % self.v
        return digits.reshape(self.v, self.m, self.s).astype(np.int64)

    # ------------------------------------------------------------------ sizes
    def __repr__(self) -> str:
        return f"RHM(v={self.v}, m={self.m}, s={self.s}, L={self.L}, seed={self.seed})"

    @property
    def f(self) -> float:
        """Density of grammatical tuples, ``m / v**(s-1)``."""
        return self.m / self.v ** (self.s - 1)

    @property
    def n_tokens(self) -> int:
        """Length of the visible string, ``s**L``."""
        return self.s**self.L

    @property
    def n_internal(self) -> int:
        """Number of internal nodes (each picks one production), ``(s**L - 1)/(s - 1)``."""
        return (self.s**self.L - 1) // (self.s - 1)

    @property
    def n_strings(self) -> int:
        """Number of distinct strings, ``v * m**n_internal`` (an exact Python int)."""
        return self.v * self.m**self.n_internal

    def level_size(self, level: int) -> int:
        """Number of symbols at level ``level``: ``s**(L - level)``."""
        return self.s ** (self.L - level)

    # ------------------------------------------------------------------ rules
    def grammatical_tuples(self, level: int) -> np.ndarray:
        """The ``v*m`` grammatical level-``level`` tuples, shape ``[v*m, s]``, grouped by parent."""
        self._check_rule_level(level)
        return self.rules[level].reshape(self.v * self.m, self.s)

    def grammatical_codes(self, level: int) -> np.ndarray:
        """Integer codes (:func:`encode_tuples`) of :meth:`grammatical_tuples`."""
        return encode_tuples(self.grammatical_tuples(level).reshape(1, -1), self.s, self.v)[0]

    def tuple_parents(self, level: int) -> np.ndarray:
        """Parent of each row of :meth:`grammatical_tuples`: ``[0]*m + [1]*m + ...``."""
        self._check_rule_level(level)
        return np.repeat(np.arange(self.v), self.m)

    def parent_table(self, level: int) -> np.ndarray:
        """Array of length ``v**s``: parent of each tuple code, ``-1`` if not grammatical."""
        self._check_rule_level(level)
        return self._parent[level]

    def production_table(self, level: int) -> np.ndarray:
        """Array of length ``v**s``: production index ``j`` of each tuple code, ``-1`` if not grammatical."""
        self._check_rule_level(level)
        return self._production[level]

    def parent(self, level: int, tuples: np.ndarray) -> np.ndarray:
        """Parents of level-``level`` tuples given as ``[..., s]`` arrays (``-1``: not grammatical)."""
        tuples = np.asarray(tuples)
        if tuples.shape[-1] != self.s:
            raise ValueError(f"tuples must have last dimension s={self.s}, got shape {tuples.shape}")
        if tuples.size and (tuples.min() < 0 or tuples.max() >= self.v):
            raise ValueError(f"tuples must hold symbols in [0, {self.v - 1}]")
        codes = encode_tuples(tuples.reshape(1, -1), self.s, self.v).reshape(tuples.shape[:-1])
        return self.parent_table(level)[codes]

    def parse(self, tokens: np.ndarray) -> RHMSample:
        """The latent tree of grammatical strings, rebuilt bottom-up from the tokens.

        The grammar is unambiguous, so the parse is exact: level ``l+1`` is the parent of
        each level-``l`` tuple.  Raises ``ValueError`` if a tuple is not grammatical.
        """
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or tokens.shape[1] != self.n_tokens:
            raise ValueError(f"tokens must have shape [P, s**L] = [P, {self.n_tokens}], got {tokens.shape}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.v):
            raise ValueError(f"tokens must hold symbols in [0, {self.v - 1}]")
        levels = [tokens.astype(self.dtype)]
        for level in range(self.L):
            parents = self._parent[level][encode_tuples(levels[-1], self.s, self.v)]
            if parents.size and parents.min() < 0:
                raise ValueError(f"tokens must be grammatical: a level-{level} tuple has no parent")
            levels.append(parents.astype(self.dtype))
        return RHMSample(tuple(levels))

    def _check_rule_level(self, level: int) -> None:
        _check_int("level", level, 0, self.L - 1)

    # ------------------------------------------------------------------ generation
    def expand(self, parents: np.ndarray, choices: np.ndarray, level: int) -> np.ndarray:
        """Children of level-``(level+1)`` symbols ``parents`` [P, n] given production
        indices ``choices`` [P, n]: the level-``level`` sequence [P, n*s]."""
        flat = parents.astype(np.intp) * self.m + choices
        return np.take(self._flat_rules[level], flat, axis=0, mode="clip").reshape(parents.shape[0], -1)

    def _from_choices(self, root: np.ndarray, choices: Sequence[np.ndarray]) -> RHMSample:
        """Build the tree top-down from the root and the production index of every
        internal node; ``choices[l]`` [P, s**(L-l-1)] are the choices of the level-(l+1) nodes."""
        levels = [None] * (self.L + 1)
        levels[self.L] = root.astype(self.dtype).reshape(-1, 1)
        for level in range(self.L - 1, -1, -1):
            levels[level] = self.expand(levels[level + 1], choices[level], level)
        return RHMSample(tuple(levels))

    def _random_choices(self, rng: np.random.Generator, n: int, top: int | None = None) -> list:
        """Uniform production indices for all nodes at levels ``1 .. top`` (default ``L``)."""
        top = self.L if top is None else top
        return [
            rng.integers(0, self.m, size=(n, self.level_size(level + 1)), dtype=np.uint8 if self.m <= 256 else np.int64)
            for level in range(top)
        ]

    def _iid_block(self, seed: int, block: int, n: int) -> RHMSample:
        """Block ``block`` of the i.i.d. stream, truncated to its first ``n`` strings.

        The random numbers are always drawn for the full ``BLOCK_SIZE`` (in a fixed order),
        so a string does not depend on how many strings are kept or how they are chunked.
        """
        rng = np.random.default_rng(_seed_sequence(seed, block))
        root = rng.integers(0, self.v, size=BLOCK_SIZE)[:n]
        if self._pair_tables is None:
            choices = self._random_choices(rng, BLOCK_SIZE)
            return self._from_choices(root, [c[:n] for c in choices])
        levels = self._expand_down(rng, root.astype(self.dtype).reshape(-1, 1), self.L, n)
        return RHMSample(tuple(levels[l] for l in range(self.L + 1)))

    def _expand_down(self, rng: np.random.Generator, seq: np.ndarray, level: int, n: int) -> dict:
        """Random subtrees below the level-``level`` symbols ``seq`` [n, w]: ``{j: level-j sequence}``
        for ``j = level .. 0``.  Draws are made for ``BLOCK_SIZE`` rows (then cut to ``n``), top
        level first; with pair tables two levels per draw (after one single step if ``level`` is odd)."""
        out = {level: seq}
        choice_dtype = np.uint8 if self.m <= 256 else np.int64
        if self._pair_tables is None:
            for j in range(level, 0, -1):
                choices = rng.integers(0, self.m, size=(BLOCK_SIZE, out[j].shape[1]), dtype=choice_dtype)[:n]
                out[j - 1] = self.expand(out[j], choices, j - 1)
            return out
        joint = self.m ** (self.s + 1)
        joint_dtype = np.uint16 if joint <= 2**16 else np.uint32
        top = level
        if top % 2:  # odd depth: one single-level step at the top, where it is cheapest
            draws = rng.integers(0, self.m, size=(BLOCK_SIZE, out[top].shape[1]), dtype=choice_dtype)[:n]
            out[top - 1] = self.expand(out[top], draws, top - 1)
            top -= 1
        while top >= 2:  # two levels per step
            draws = rng.integers(0, joint, size=(BLOCK_SIZE, out[top].shape[1]), dtype=joint_dtype)[:n]
            index = out[top].astype(np.intp) * joint + draws
            children, grandchildren = self._pair_tables[top]
            out[top - 1] = children.take(index, mode="clip").view(self.dtype).reshape(n, -1)
            out[top - 2] = grandchildren.take(index, mode="clip").view(self.dtype).reshape(n, -1)
            top -= 2
        return out

    def _iid_range(self, seed: int, start: int, stop: int) -> RHMSample:
        """Strings ``start .. stop-1`` of the i.i.d. stream of ``seed``."""
        parts = []
        for block in range(start // BLOCK_SIZE, (stop - 1) // BLOCK_SIZE + 1):
            lo = max(start - block * BLOCK_SIZE, 0)
            hi = min(stop - block * BLOCK_SIZE, BLOCK_SIZE)
            part = self._iid_block(seed, block, hi)
            parts.append(part.select(slice(lo, hi)) if lo else part)
        return parts[0] if len(parts) == 1 else RHMSample.concatenate(parts)

    # ------------------------------------------------------------------ nested prefixes
    def _prefix_block(self, seed: int, block: int, n: int, height: int, tokens_only: bool = False):
        """Block ``block`` of the nested-prefix stream: the leftmost height-``height`` subtrees.

        Random numbers come from ``1 + L`` generators per block: the *spine* (root and the
        production of the leftmost node of every level) and one *shell* per height ``k``
        (the subtrees of children ``1..s-1`` of the leftmost level-``k`` node).  The leftmost
        height-``h`` subtree only uses the spine and shells ``1..h``, so it is the same
        whatever ``height`` is asked for.  ``tokens_only``: return the tokens [n, s**height] only.
        """
        choice_dtype = np.uint8 if self.m <= 256 else np.int64
        rng = np.random.default_rng(_seed_sequence(seed, block, _PREFIX_TAG, 0))
        root = rng.integers(0, self.v, size=BLOCK_SIZE)[:n]
        spine = rng.integers(0, self.m, size=(BLOCK_SIZE, self.L), dtype=choice_dtype)[:n]  # column L-k: level k
        leftmost = [None] * (self.L + 1)  # leftmost[k]: symbol of the leftmost level-k node, [n, 1]
        leftmost[self.L] = root.astype(self.dtype).reshape(-1, 1)
        siblings = [None] * (self.L + 1)  # siblings[k]: children 1..s-1 of leftmost[k], [n, s-1]
        for k in range(self.L, 0, -1):
            children = self.expand(leftmost[k], spine[:, self.L - k : self.L - k + 1], k - 1)
            leftmost[k - 1], siblings[k] = children[:, :1], children[:, 1:]
        # shell_levels[k][j]: level-j sequence of the subtrees of siblings[k], [n, (s-1) s**(k-1-j)]
        shell_levels = {}
        for k in range(1, height + 1):
            rng = np.random.default_rng(_seed_sequence(seed, block, _PREFIX_TAG, k))
            shell_levels[k] = self._expand_down(rng, siblings[k], k - 1, n)
        levels = tuple(
            np.concatenate([leftmost[j]] + [shell_levels[k][j] for k in range(j + 1, height + 1)], axis=1)
            for j in range(1 if tokens_only else height + 1)
        )
        return levels[0] if tokens_only else RHMSample(levels)

    def sample_prefix(self, P: int, seed: int = 0, height: int | None = None) -> RHMSample:
        """The leftmost height-``height`` subtree of ``P`` i.i.d. strings (default: whole strings).

        A second i.i.d. stream (independent of :meth:`sample`'s), built so that a *prefix* of
        every string can be drawn without the rest: ``sample_prefix(P, seed, h).tokens`` are the
        first ``s**h`` tokens of ``sample_prefix(P, seed).tokens`` and ``levels[j]`` are the
        first ``s**(h-j)`` symbols of level ``j``.  Algorithm 1 of ILC reads only the first
        grandparent block at level ``l`` (``s**(l+2)`` tokens), so its level-``l`` pass costs
        ``s**(l+2)`` tokens per string instead of ``s**L``.  Returns an :class:`RHMSample` of
        depth ``height`` (``levels[height]`` is the leftmost level-``height`` node).
        """
        P = _check_int("P", P, 0)
        height = self.L if height is None else _check_int("height", height, 0, self.L)
        if P == 0:
            return RHMSample(tuple(np.zeros((0, self.s ** (height - j)), dtype=self.dtype) for j in range(height + 1)))
        return next(self.iter_prefix(P, seed, height, chunk_size=P))

    def iter_prefix(
        self, P: int, seed: int = 0, height: int | None = None, *, chunk_size: int = BLOCK_SIZE,
        tokens_only: bool = False,
    ) -> Iterator[RHMSample] | Iterator[np.ndarray]:
        """:meth:`sample_prefix` ``(P, seed, height)`` in chunks of at most ``chunk_size`` strings
        (token arrays [n, s**height] instead of RHMSamples when ``tokens_only``)."""
        P = _check_int("P", P, 0)
        chunk_size = _check_int("chunk_size", chunk_size, 1)
        height = self.L if height is None else _check_int("height", height, 0, self.L)
        for start in range(0, P, chunk_size):
            stop = min(start + chunk_size, P)
            parts = []
            for block in range(start // BLOCK_SIZE, (stop - 1) // BLOCK_SIZE + 1):
                lo = max(start - block * BLOCK_SIZE, 0)
                hi = min(stop - block * BLOCK_SIZE, BLOCK_SIZE)
                part = self._prefix_block(seed, block, hi, height, tokens_only)
                parts.append(part if not lo else part[lo:] if tokens_only else part.select(slice(lo, hi)))
            if len(parts) == 1:
                yield parts[0]
            else:
                yield np.concatenate(parts) if tokens_only else RHMSample.concatenate(parts)

    def decode(self, index: np.ndarray) -> RHMSample:
        """The strings with integer indices ``index`` (the bijection ``[0, n_strings)`` <-> strings).

        ``index = root * m**n_internal + c``, where the digits of ``c`` in base ``m`` are
        the production choices, top level first, left to right within a level.
        Requires ``n_strings <= 2**62``.
        """
        if self.n_strings > _MAX_INDEXABLE:
            raise ValueError(
                f"n_strings = {self.n_strings} exceeds 2**62: strings of this grammar cannot be indexed by int64"
            )
        index = np.asarray(index, dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= self.n_strings):
            raise ValueError(f"index must be in [0, n_strings) = [0, {self.n_strings})")
        rest = index.copy()
        choices = [None] * self.L
        # Least significant digits belong to the last node of the lowest internal level.
        for level in range(self.L):  # level-(level+1) nodes, from the bottom up
            width = self.level_size(level + 1)
            digits = np.empty((index.size, width), dtype=np.int64)
            for k in range(width - 1, -1, -1):
                rest, digits[:, k] = np.divmod(rest, self.m)
            choices[level] = digits
        return self._from_choices(rest, choices)

    def _distinct_index(self, P: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(_seed_sequence(seed, 2**32))
        return rng.choice(self.n_strings, size=P, replace=False)

    def sample(self, P: int, seed: int = 0, *, distinct: bool = False) -> RHMSample:
        """``P`` strings with their whole latent tree.

        ``distinct=False`` (default): i.i.d. draws from the RHM (uniform with replacement;
        repeats are possible when ``P`` is not small compared with ``n_strings``).
        ``distinct=True``: a uniformly random set of ``P`` distinct strings (needs
        ``P <= n_strings``); exact, via the integer bijection (:meth:`decode`) when
        ``n_strings <= 2**62``, otherwise by dropping repeated strings from the i.i.d.
        stream (the strings are equiprobable, so the result is a uniform random set).
        """
        P = _check_int("P", P, 0)
        if not distinct:
            if P == 0:
                return self._empty()
            return self._iid_range(seed, 0, P)
        if P > self.n_strings:
            raise ValueError(f"P must be <= n_strings = {self.n_strings} for distinct sampling, got {P}")
        if P == 0:
            return self._empty()
        if self.n_strings <= _MAX_INDEXABLE:
            return self.decode(self._distinct_index(P, seed))
        return self._distinct_by_rejection(P, seed)

    def _distinct_by_rejection(self, P: int, seed: int) -> RHMSample:
        n = P
        while True:
            candidate = self._iid_range(seed, 0, n)
            rows = np.ascontiguousarray(candidate.tokens).view(
                np.dtype((np.void, candidate.tokens.dtype.itemsize * self.n_tokens))
            )[:, 0]
            _, first = np.unique(rows, return_index=True)
            if first.size >= P:
                keep = np.sort(first)[:P]
                return candidate.select(keep)
            n += (P - first.size) * 2 + 16

    def iter_samples(
        self, P: int, seed: int = 0, *, chunk_size: int = BLOCK_SIZE, distinct: bool = False
    ) -> Iterator[RHMSample]:
        """The strings of :meth:`sample` ``(P, seed, distinct=distinct)`` in chunks of at most
        ``chunk_size``: memory stays bounded and the concatenation equals the one-shot sample.
        Distinct streams need ``n_strings <= 2**62`` (i.i.d. streams have no limit)."""
        P = _check_int("P", P, 0)
        chunk_size = _check_int("chunk_size", chunk_size, 1)
        if distinct:
            if P > self.n_strings:
                raise ValueError(f"P must be <= n_strings = {self.n_strings} for distinct sampling, got {P}")
            if self.n_strings > _MAX_INDEXABLE:
                raise ValueError(
                    "distinct=True streams need n_strings <= 2**62; use sample(..., distinct=True) "
                    "or the i.i.d. stream (repeats are then astronomically unlikely)"
                )
            index = self._distinct_index(P, seed) if P else np.zeros(0, dtype=np.int64)
            for start in range(0, P, chunk_size):
                yield self.decode(index[start : start + chunk_size])
            return
        for start in range(0, P, chunk_size):
            yield self._iid_range(seed, start, min(start + chunk_size, P))

    def _empty(self) -> RHMSample:
        return RHMSample(tuple(np.zeros((0, self.level_size(l)), dtype=self.dtype) for l in range(self.L + 1)))

    def enumerate(self, max_strings: int = 10**6) -> tuple[RHMSample, np.ndarray]:
        """All strings of a tiny grammar and their probabilities (all equal ``1/n_strings``).

        Row ``i`` is the string with index ``i`` of :meth:`decode`.
        """
        max_strings = _check_int("max_strings", max_strings, 1)
        if self.n_strings > max_strings:
            raise ValueError(
                f"n_strings = {self.n_strings} exceeds max_strings = {max_strings}; enumerate only tiny grammars"
            )
        sample = self.decode(np.arange(self.n_strings))
        return sample, np.full(self.n_strings, 1.0 / self.n_strings)

    # ------------------------------------------------------------------ interventions
    def synonym_swap(self, sample: RHMSample, level: int, seed: int = 0, *, exclude_current: bool = False) -> RHMSample:
        """Keep levels ``>= level``, redraw the production of every level-``level`` node (so each
        level-``(level-1)`` tuple becomes a random synonym) and regenerate everything below.

        ``exclude_current=True`` redraws among the other ``m-1`` productions (needs ``m >= 2``);
        by default the new production is uniform over all ``m`` (it stays the same with
        probability ``1/m``).  ``level`` ranges over ``1 .. L`` (``L``: keep only the root).
        """
        level = _check_int("level", level, 1, self.L)
        if len(sample.levels) != self.L + 1:
            raise ValueError(f"sample must have L+1 = {self.L + 1} levels, got {len(sample.levels)}")
        if exclude_current and self.m < 2:
            raise ValueError("exclude_current=True needs m >= 2")
        n = len(sample)
        rng = np.random.default_rng(_seed_sequence(seed))
        choices = self._random_choices(rng, n, top=level)
        if exclude_current:
            old = self._production[level - 1][encode_tuples(sample[level - 1], self.s, self.v)]
            shift = rng.integers(1, self.m, size=old.shape)
            choices[level - 1] = (old + shift) % self.m
        levels = list(sample.levels)
        for lower in range(level - 1, -1, -1):
            levels[lower] = self.expand(levels[lower + 1], choices[lower], lower)
        return RHMSample(tuple(levels))

    def generic_swap(self, sample: RHMSample, seed: int = 0) -> RHMSample:
        """Unrelated strings: an independent i.i.d. sample of the same size (the ``x'`` of the
        synonym clustering score)."""
        return self.sample(len(sample), seed)


# ---------------------------------------------------------------------- encodings
def mask_id(v: int) -> int:
    """Reserved id of the ``[MASK]`` token in :func:`token_ids` (ids ``0..v-1`` are symbols)."""
    return v


def pad_id(v: int) -> int:
    """Reserved id of the ``[PAD]`` token in :func:`token_ids`."""
    return v + 1


def token_ids(tokens: np.ndarray, v: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Integer ids for a transformer (vocabulary of ``v + 2``: symbols, ``[MASK]``, ``[PAD]``).

    Positions where the boolean ``mask`` is true are replaced by :func:`mask_id`.
    """
    ids = np.asarray(tokens).astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= v):
        raise ValueError(f"tokens must hold symbols in [0, {v - 1}]")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != ids.shape:
            raise ValueError(f"mask must have the shape of tokens {ids.shape}, got {mask.shape}")
        ids = np.where(mask, mask_id(v), ids)
    return ids


def one_hot(tokens: np.ndarray, v: int, dtype=np.float32) -> np.ndarray:
    """Channels-first one-hot encoding for CNNs: ``[P, n]`` -> ``[P, v, n]``."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must have shape [P, n], got {tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= v):
        raise ValueError(f"tokens must hold symbols in [0, {v - 1}]")
    out = np.zeros((tokens.shape[0], v, tokens.shape[1]), dtype=dtype)
    np.put_along_axis(out, tokens[:, None, :].astype(np.intp), 1, axis=1)
    return out
