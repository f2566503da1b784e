"""Exact population quantities of the RHM, by message passing on the tree.

Everything here is computed from the rules alone, never by enumerating strings: a
node's symbol is a Markov chain along any root-to-leaf path, with per-level
transition matrices ``M_l[a, k, b] = P(child k = b | parent a)``.  Marginals are
pushed down from the uniform root; the joint law of a tuple ``T`` (through its
parent ``A``) and any other node ``Z`` factorises through their lowest common
ancestor ``G``::

    P(A = a, Z = z) = sum_g P(G = g) P(A = a | G = g) P(Z = z | G = g),
    P(T = nu, Z = z) = P(A = par(nu), Z = z) / m.

The cost is a few ``v x v`` matrix products per level, so grammars with ``v = 32``,
``m = 16``, ``L = 6`` take milliseconds.  Levels count from the bottom (0 = tokens,
``L`` = root); positions count within a level's sequence.

The module also holds the predicted sample complexities of the three objectives
(spec section 2.7), the theorem's bound (section 2.4) and the empirical context
vectors used to check the signal-to-noise reading (section 2.6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .rhm import RHM, RHMSample, _check_int, encode_tuples

__all__ = [
    "transition_matrices",
    "level_marginals",
    "node_marginal",
    "tuple_probabilities",
    "n_productions",
    "tuple_target_joint",
    "connected_correlation",
    "context_vectors",
    "centred_context_vectors",
    "class_centres",
    "centre_distances",
    "SignalStats",
    "signal_stats",
    "brute_force_joint",
    "synonym_spread",
    "level_profile",
    "snr_crossings",
    "signal_grid",
    "decay_by_distance",
    "empirical_context_vectors",
    "estimation_error_curve",
    "sample_complexity",
    "staged_token_complexity",
    "theorem_bound",
    "snr_crossing",
    "fit_power_law",
]


# ---------------------------------------------------------------------- Markov chain
def transition_matrices(rhm: RHM) -> list[np.ndarray]:
    """Per-level transition tensors ``M[l][a, k, b] = P(child k = b | parent a)``.

    ``M[l]`` has shape ``[v, s, v]``: ``a`` is a level-``(l+1)`` symbol, ``b`` a level-``l``
    symbol, ``k`` the child position; each production has probability ``1/m``.
    """
    v, s, m = rhm.v, rhm.s, rhm.m
    out = []
    for level in range(rhm.L):
        rules = rhm.rules[level]  # [v, m, s]
        flat = (np.arange(v)[:, None, None] * s + np.arange(s)[None, None, :]) * v + rules
        counts = np.bincount(flat.ravel(), minlength=v * s * v).reshape(v, s, v)
        out.append(counts / m)
    return out


def level_marginals(rhm: RHM, level: int, M: list[np.ndarray] | None = None) -> np.ndarray:
    """Marginal law of every level-``level`` node, shape ``[s**(L-level), v]`` (rows sum to 1)."""
    level = _check_int("level", level, 0, rhm.L)
    M = transition_matrices(rhm) if M is None else M
    marg = np.full((1, rhm.v), 1.0 / rhm.v)
    for l in range(rhm.L - 1, level - 1, -1):
        # child i*s + k of node i: marg[i] @ M[l][:, k, :]
        marg = np.einsum("ia,akb->ikb", marg, M[l]).reshape(-1, rhm.v)
    return marg


def node_marginal(rhm: RHM, level: int, pos: int, M: list[np.ndarray] | None = None) -> np.ndarray:
    """Marginal law ``[v]`` of the node at position ``pos`` of level ``level``, pushed down one path."""
    level = _check_int("level", level, 0, rhm.L)
    pos = _check_int("pos", pos, 0, rhm.level_size(level) - 1)
    M = transition_matrices(rhm) if M is None else M
    return _push_down(np.full(rhm.v, 1.0 / rhm.v), M, rhm.s, rhm.L, 0, level, pos)


def _push_down(start: np.ndarray, M, s: int, top: int, top_pos: int, level: int, pos: int) -> np.ndarray:
    """Apply the chain from node ``(top, top_pos)`` down to its descendant ``(level, pos)``.

    ``start`` is ``[..., v]`` (a law, or a matrix whose rows are conditional laws).
    """
    out = start
    for l in range(top - 1, level - 1, -1):
        k = (pos // s ** (l - level)) % s  # child position of the level-l ancestor of (level, pos)
        out = out @ M[l][:, k, :]
    return out


def _check_positions(rhm: RHM, level: int, tuple_pos: int, target_level: int, target_pos: int):
    level = _check_int("level", level, 0, rhm.L - 1)
    tuple_pos = _check_int("tuple_pos", tuple_pos, 0, rhm.level_size(level + 1) - 1)
    target_level = _check_int("target_level", target_level, 0, rhm.L)
    target_pos = _check_int("target_pos", target_pos, 0, rhm.level_size(target_level) - 1)
    return level, tuple_pos, target_level, target_pos


def _lca_level(s: int, level_a: int, pos_a: int, level_z: int, pos_z: int) -> int:
    """Level of the lowest common ancestor of nodes ``(level_a, pos_a)`` and ``(level_z, pos_z)``."""
    g = max(level_a, level_z)
    while pos_a // s ** (g - level_a) != pos_z // s ** (g - level_z):
        g += 1
    return g


def n_productions(rhm: RHM, level: int, tuple_pos: int, target_level: int, target_pos: int) -> int:
    """Number ``d`` of production rules on the tree path from the level-``level`` tuple at
    ``tuple_pos`` to the target node (``target_level``, ``target_pos``).

    A production is counted once per node that is the parent of an edge of the path:
    the tuple's parent ``A``, every ancestor up to the lowest common ancestor ``G``
    (included), and every node strictly between ``G`` and the target.  Cousins give
    ``d = 3``, a token target for a level-``(l-1)`` tuple ``d = l + 2``, the root ``d = L - level``.
    """
    level, tuple_pos, target_level, target_pos = _check_positions(rhm, level, tuple_pos, target_level, target_pos)
    _check_outside(rhm, level, tuple_pos, target_level, target_pos)
    g = _lca_level(rhm.s, level + 1, tuple_pos, target_level, target_pos)
    if g == target_level:  # the target is an ancestor of the tuple
        return target_level - level
    return (g - level) + (g - 1 - target_level)


def _check_outside(rhm: RHM, level: int, tuple_pos: int, target_level: int, target_pos: int) -> None:
    """The target must not lie inside the tuple's own subtree (then it is not a function of the parent)."""
    if target_level <= level + 1 and target_pos // rhm.s ** (level + 1 - target_level) == tuple_pos:
        raise ValueError(
            f"target (target_level={target_level}, target_pos={target_pos}) lies inside the subtree of "
            f"tuple_pos={tuple_pos} at level {level}; choose a target outside the tuple's production"
        )


# ---------------------------------------------------------------------- joints
def tuple_probabilities(rhm: RHM, level: int, tuple_pos: int = 0, M=None) -> np.ndarray:
    """``P[T = nu]`` for the rows of ``rhm.grammatical_tuples(level)``, shape ``[v*m]``."""
    level = _check_int("level", level, 0, rhm.L - 1)
    tuple_pos = _check_int("tuple_pos", tuple_pos, 0, rhm.level_size(level + 1) - 1)
    p_parent = node_marginal(rhm, level + 1, tuple_pos, M)
    return np.repeat(p_parent, rhm.m) / rhm.m


def _pair_transition(rhm: RHM, level: int, k1: int, k2: int) -> np.ndarray:
    """``W[a, x, y] = P(child k1 = x, child k2 = y | parent a)`` for level-``(level+1)`` parents.

    Children of one node are *not* independent given it (one production fixes all of
    them), so the joint of two nodes in different branches of their common ancestor
    needs this tensor, not a product of single-child transitions.
    """
    v, m = rhm.v, rhm.m
    rules = rhm.rules[level]  # [v, m, s]
    flat = (np.arange(v)[:, None] * v + rules[:, :, k1]) * v + rules[:, :, k2]
    return np.bincount(flat.ravel(), minlength=v**3).reshape(v, v, v) / m


def _parent_target_joint(rhm: RHM, level: int, tuple_pos: int, target_level: int, target_pos: int, M) -> np.ndarray:
    """``P[A = a, Z = z]`` for the tuple's parent ``A``, shape ``[v, v]``.

    ``G`` is the lowest common ancestor.  If ``G = Z`` (the target is an ancestor),
    ``P(A, Z) = P(Z) P(A | Z)``; otherwise the production of ``G`` fixes its two children
    ``X`` (towards ``A``) and ``Y`` (towards ``Z``) jointly, and below them the two
    branches are independent: ``P(A, Z) = sum_g P(g) sum_{x,y} W[g,x,y] P(A|x) P(Z|y)``.
    """
    s, A_level, v = rhm.s, level + 1, rhm.v
    g = _lca_level(s, A_level, tuple_pos, target_level, target_pos)
    g_pos = tuple_pos // s ** (g - A_level)
    p_g = _push_down(np.full(v, 1.0 / v), M, s, rhm.L, 0, g, g_pos)
    eye = np.eye(v)
    if g == target_level:
        down_a = _push_down(eye, M, s, g, g_pos, A_level, tuple_pos)  # [z, a] = P(A=a | Z=z)
        return (down_a * p_g[:, None]).T
    x_pos = tuple_pos // s ** (g - 1 - A_level)
    y_pos = target_pos // s ** (g - 1 - target_level)
    W = _pair_transition(rhm, g - 1, x_pos % s, y_pos % s)  # [g, x, y]
    down_a = _push_down(eye, M, s, g - 1, x_pos, A_level, tuple_pos)  # [x, a]
    down_z = _push_down(eye, M, s, g - 1, y_pos, target_level, target_pos)  # [y, z]
    joint_xy = np.einsum("g,gxy->xy", p_g, W)
    return down_a.T @ joint_xy @ down_z


def tuple_target_joint(
    rhm: RHM, level: int, tuple_pos: int, target_level: int, target_pos: int, M=None
) -> np.ndarray:
    """Exact joint ``P[T = nu, Z = z]``, shape ``[v*m, v]``, rows in the order of
    ``rhm.grammatical_tuples(level)``; ``T`` is the level-``level`` tuple at ``tuple_pos``
    and ``Z`` the node (``target_level``, ``target_pos``), outside ``T``'s subtree."""
    level, tuple_pos, target_level, target_pos = _check_positions(rhm, level, tuple_pos, target_level, target_pos)
    _check_outside(rhm, level, tuple_pos, target_level, target_pos)
    M = transition_matrices(rhm) if M is None else M
    joint_a = _parent_target_joint(rhm, level, tuple_pos, target_level, target_pos, M)
    return np.repeat(joint_a, rhm.m, axis=0) / rhm.m


def connected_correlation(
    rhm: RHM, level: int, tuple_pos: int, target_level: int, target_pos: int, M=None
) -> np.ndarray:
    """``C(nu, z) = P[T=nu, Z=z] - P[T=nu] P[Z=z]``, shape ``[v*m, v]`` (spec section 2.1)."""
    joint = tuple_target_joint(rhm, level, tuple_pos, target_level, target_pos, M)
    return joint - np.outer(joint.sum(1), joint.sum(0))


def _default_cousin(rhm: RHM) -> int:
    return 2 * rhm.s - 1


def context_vectors(rhm: RHM, level: int, tuple_pos: int = 0, cousin_pos: int | None = None, *, M=None):
    """Exact context vectors ``phi_level(nu) = E[e_Z | T = nu]`` (spec section 2.2).

    Returns ``(tuples, phi)``: ``tuples = rhm.grammatical_tuples(level)`` ``[v*m, s]`` and
    ``phi`` ``[v*m, v]``, row ``i`` the law of the level-``level`` symbol at ``cousin_pos``
    given that the tuple at ``tuple_pos`` is ``tuples[i]``.  Default ``cousin_pos = 2s-1``
    (last symbol of the first cousin tuple).  A tuple whose parent has probability zero at
    ``tuple_pos`` gets a row of NaN (the conditional is undefined).
    """
    cousin_pos = _default_cousin(rhm) if cousin_pos is None else cousin_pos
    level = _check_int("level", level, 0, rhm.L - 1)
    cousin_pos = _check_int("cousin_pos", cousin_pos, 0, rhm.level_size(level) - 1)
    tuple_pos = _check_int("tuple_pos", tuple_pos, 0, rhm.level_size(level + 1) - 1)
    if cousin_pos // rhm.s == tuple_pos:
        raise ValueError(
            f"cousin_pos must lie outside the tuple at tuple_pos={tuple_pos} "
            f"(positions {tuple_pos * rhm.s}..{tuple_pos * rhm.s + rhm.s - 1}), got {cousin_pos}"
        )
    M = transition_matrices(rhm) if M is None else M
    joint_a = _parent_target_joint(rhm, level, tuple_pos, level, cousin_pos, M)
    p_a = joint_a.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi_a = np.where(p_a > 0, joint_a / np.where(p_a > 0, p_a, 1.0), np.nan)
    return rhm.grammatical_tuples(level).copy(), np.repeat(phi_a, rhm.m, axis=0)


def centred_context_vectors(rhm: RHM, level: int, tuple_pos: int = 0, cousin_pos: int | None = None, *, M=None):
    """``psi(nu) = phi(nu) - E[e_Z]``, shape ``[v*m, v]``; ``C(:, nu) = P[T=nu] psi(nu)``."""
    cousin_pos = _default_cousin(rhm) if cousin_pos is None else cousin_pos
    M = transition_matrices(rhm) if M is None else M
    _, phi = context_vectors(rhm, level, tuple_pos, cousin_pos, M=M)
    return phi - node_marginal(rhm, level, cousin_pos, M)[None, :]


def class_centres(rhm: RHM, level: int, tuple_pos: int = 0, cousin_pos: int | None = None, *, M=None) -> np.ndarray:
    """The class vectors ``Phi_{level, a}``, shape ``[v, v]`` (row ``a``: the shared ``phi`` of
    the synonyms of parent ``a``; Lemma 1)."""
    _, phi = context_vectors(rhm, level, tuple_pos, cousin_pos, M=M)
    return phi[:: rhm.m]


def centre_distances(centres: np.ndarray) -> np.ndarray:
    """All pairwise Euclidean distances ``||Phi_a - Phi_b||`` for ``a < b``, shape ``[v(v-1)/2]``."""
    centres = np.asarray(centres, dtype=float)
    sq = (centres**2).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * centres @ centres.T
    iu = np.triu_indices(centres.shape[0], 1)
    return np.sqrt(np.maximum(d2[iu], 0.0))


@dataclass(frozen=True)
class SignalStats:
    """Signal-scale summaries of one grammar's context vectors at one level.

    ``psi2``: mean over tuples of ``||psi(nu)||^2``; ``c2``: mean over ``(nu, z)`` of
    ``C(nu, z)^2``; ``sep_min`` / ``sep_median``: min / median pairwise centre distance;
    ``overlap``: mean ``|<psi_a, psi_b>|`` over ``a != b`` divided by the mean ``||psi_a||^2``
    (the random-direction heuristic says this is ``O(v^{-1/2})``); ``vm_ptuple``: the
    ``v*m*P[T=nu]`` of every tuple (balancedness).
    """

    psi2: float
    c2: float
    sep_min: float
    sep_median: float
    overlap: float
    vm_ptuple: np.ndarray = field(repr=False)


def signal_stats(rhm: RHM, level: int = 0, tuple_pos: int = 0, cousin_pos: int | None = None) -> SignalStats:
    """Exact :class:`SignalStats` of ``rhm`` at ``level`` (cousin target by default).

    Classes whose parent never occurs at ``tuple_pos`` (possible when ``m`` is small, so
    some symbol appears in no production at some child position) have no context
    vector; they are left out of every average and of the separations.
    """
    cousin_pos = _default_cousin(rhm) if cousin_pos is None else cousin_pos
    M = transition_matrices(rhm)
    psi = centred_context_vectors(rhm, level, tuple_pos, cousin_pos, M=M)
    p_t = tuple_probabilities(rhm, level, tuple_pos, M)
    psi_a = psi[:: rhm.m]
    psi_a = psi_a[~np.isnan(psi_a).any(1)]
    gram = psi_a @ psi_a.T
    norms = np.diag(gram)
    off = np.abs(gram[~np.eye(len(psi_a), dtype=bool)])
    dist = centre_distances(psi_a)
    return SignalStats(
        psi2=float(np.nanmean((psi**2).sum(1))),
        c2=float(np.nanmean((p_t[:, None] * psi) ** 2)),
        sep_min=float(dist.min()),
        sep_median=float(np.median(dist)),
        overlap=float(off.mean() / norms.mean()),
        vm_ptuple=rhm.v * rhm.m * p_t,
    )


def signal_grid(configs, seeds, level: int = 0) -> list[dict]:
    """:func:`signal_stats` averaged over grammar seeds for each ``(v, m, s, L)`` in ``configs``.

    Returns one record per config: the parameters, ``f``, and the seed-means of
    ``psi2``, ``c2``, ``sep_min``, ``sep_median``, ``overlap``, plus ``absent`` (mean
    fraction of tuples whose parent has probability zero at the tuple position).
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    records = []
    for v, m, s, L in configs:
        stats = [signal_stats(RHM(v, m, s, L, seed), level) for seed in seeds]
        rec = dict(v=v, m=m, s=s, L=L, f=m / v ** (s - 1))
        for key in ("psi2", "c2", "sep_min", "sep_median", "overlap"):
            rec[key] = float(np.mean([getattr(st, key) for st in stats]))
        rec["absent"] = float(np.mean([np.mean(st.vm_ptuple == 0) for st in stats]))
        records.append(rec)
    return records


def decay_by_distance(rhm: RHM, level: int = 0, tuple_pos: int = 0) -> dict[int, dict[str, float]]:
    """Exact correlation strength between the level-``level`` tuple at ``tuple_pos`` and every
    node outside its subtree, grouped by the number ``d`` of productions in between
    (:func:`n_productions`).  For each ``d``: ``psi2`` (mean over targets and tuples of
    ``||phi - E e_Z||^2``), ``c2`` (mean ``C(nu, z)^2``) and ``n_targets``."""
    M = transition_matrices(rhm)
    p_t = tuple_probabilities(rhm, level, tuple_pos, M)
    groups: dict[int, list] = {}
    for target_level in range(rhm.L + 1):
        for target_pos in range(rhm.level_size(target_level)):
            if target_level <= level + 1 and target_pos // rhm.s ** (level + 1 - target_level) == tuple_pos:
                continue
            d = n_productions(rhm, level, tuple_pos, target_level, target_pos)
            joint = tuple_target_joint(rhm, level, tuple_pos, target_level, target_pos, M)
            corr = joint - np.outer(p_t, joint.sum(0))
            seen = p_t > 0
            psi = corr[seen] / p_t[seen, None]
            groups.setdefault(d, []).append((np.mean((psi**2).sum(1)), np.mean(corr[seen] ** 2)))
    return {
        d: dict(psi2=float(np.mean([g[0] for g in vals])), c2=float(np.mean([g[1] for g in vals])), n_targets=len(vals))
        for d, vals in sorted(groups.items())
    }


# ---------------------------------------------------------------------- empirical
def empirical_context_vectors(
    rhm: RHM, sample: RHMSample, level: int, tuple_pos: int = 0, cousin_pos: int | None = None
):
    """Empirical counterparts of :func:`context_vectors` from a sample's true latents (the
    *oracle* vectors of the proof).  Returns ``(counts [v*m], phi_hat [v*m, v])``; rows of
    tuples never seen are NaN."""
    cousin_pos = _default_cousin(rhm) if cousin_pos is None else cousin_pos
    level = _check_int("level", level, 0, rhm.L - 1)
    cousin_pos = _check_int("cousin_pos", cousin_pos, 0, rhm.level_size(level) - 1)
    tuple_pos = _check_int("tuple_pos", tuple_pos, 0, rhm.level_size(level + 1) - 1)
    seq = sample[level]
    s, v, m = rhm.s, rhm.v, rhm.m
    code = encode_tuples(seq[:, tuple_pos * s : (tuple_pos + 1) * s], s, v)[:, 0]
    # row index of the tuple in grammatical_tuples: parent * m + production
    row = rhm.parent_table(level)[code] * m + rhm.production_table(level)[code]
    z = seq[:, cousin_pos].astype(np.int64)
    table = np.bincount(row * v + z, minlength=v * m * v).reshape(v * m, v).astype(float)
    counts = table.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi_hat = table / counts[:, None]
    return counts, phi_hat


def estimation_error_curve(
    rhm: RHM, P_grid, seed: int, level: int = 0, tuple_pos: int = 0, cousin_pos: int | None = None
) -> dict[str, np.ndarray]:
    """Error of the oracle empirical context vectors against the exact ones, for the first
    ``P`` strings of one i.i.d. sample (seed ``seed``), for each ``P`` in ``P_grid``.

    Returns arrays over ``P_grid``: ``rms`` (root-mean-square over seen tuples of
    ``||phi_hat - phi||``), ``rms_pred`` (the exact-variance prediction
    ``sqrt(mean_nu (1 - ||phi_nu||^2) / (P P[T=nu]))``), ``max`` (largest error),
    ``n_dev2`` (mean over seen tuples of ``N_nu ||phi_hat - phi||^2``; Lemma 2 says its
    expectation is ``1 - ||phi||^2 <= 1``) and ``unseen`` (fraction of tuples never seen).
    """
    P_grid = np.asarray(P_grid)
    if P_grid.ndim != 1 or P_grid.size == 0 or np.any(P_grid < 1) or np.any(P_grid != np.round(P_grid)):
        raise ValueError("P_grid must be a non-empty 1-D array of positive integers")
    cousin_pos = _default_cousin(rhm) if cousin_pos is None else cousin_pos
    M = transition_matrices(rhm)
    _, phi = context_vectors(rhm, level, tuple_pos, cousin_pos, M=M)
    p_t = tuple_probabilities(rhm, level, tuple_pos, M)
    live = p_t > 0
    sample = rhm.sample(int(P_grid.max()), seed)
    out = {k: np.zeros(P_grid.size) for k in ("rms", "rms_pred", "max", "n_dev2", "unseen")}
    for i, P in enumerate(P_grid.astype(int)):
        counts, phi_hat = empirical_context_vectors(rhm, sample.select(slice(0, P)), level, tuple_pos, cousin_pos)
        seen = counts > 0
        err2 = ((phi_hat[seen] - phi[seen]) ** 2).sum(1)
        out["rms"][i] = np.sqrt(err2.mean())
        out["max"][i] = np.sqrt(err2.max())
        out["n_dev2"][i] = np.mean(counts[seen] * err2)
        out["unseen"][i] = 1.0 - seen[live].mean()
        out["rms_pred"][i] = np.sqrt(np.mean((1.0 - (phi[live] ** 2).sum(1)) / (P * p_t[live])))
    return out


def brute_force_joint(rhm: RHM, level: int, tuple_pos: int, target_level: int, target_pos: int, max_strings: int = 10**6):
    """``P[T = nu, Z = z]`` by enumerating every string (tiny grammars only): the reference
    that :func:`tuple_target_joint` is tested against.  Shape ``[v*m, v]``."""
    level, tuple_pos, target_level, target_pos = _check_positions(rhm, level, tuple_pos, target_level, target_pos)
    strings, prob = rhm.enumerate(max_strings)
    s, v, m = rhm.s, rhm.v, rhm.m
    code = encode_tuples(strings[level][:, tuple_pos * s : (tuple_pos + 1) * s], s, v)[:, 0]
    row = rhm.parent_table(level)[code] * m + rhm.production_table(level)[code]
    z = strings[target_level][:, target_pos].astype(np.int64)
    return np.bincount(row * v + z, weights=prob, minlength=v * m * v).reshape(v * m, v)


def synonym_spread(rhm: RHM, level: int, tuple_pos: int = 0, cousin_pos: int | None = None) -> tuple[float, float]:
    """Lemma 1 check: ``(within, between)`` = largest distance between the context vectors of
    two synonyms, and smallest distance between two class vectors (classes with a
    defined vector only)."""
    _, phi = context_vectors(rhm, level, tuple_pos, cousin_pos)
    by_class = phi.reshape(rhm.v, rhm.m, rhm.v)
    ok = ~np.isnan(by_class).any((1, 2))
    within = np.abs(by_class[ok] - by_class[ok, :1]).max()
    return float(within), float(centre_distances(by_class[ok, 0]).min())


def level_profile(rhm: RHM, tuple_pos: int = 0, cousin_pos: int | None = None) -> dict[str, np.ndarray]:
    """Latent versus token targets, level by level (levels ``0 .. L-2``).

    For the level-``l`` tuple at ``tuple_pos``: ``psi2_latent[l]`` is the mean ``||psi||^2``
    with the level-``l`` cousin at ``cousin_pos`` as target (``d = 3`` productions), and
    ``psi2_token[l]`` the same with the first *token* below that cousin as target
    (``d = l + 3``, what a token-level objective sees)."""
    cousin_pos = _default_cousin(rhm) if cousin_pos is None else cousin_pos
    M = transition_matrices(rhm)
    levels = np.arange(rhm.L - 1)
    latent, token, d_token = [], [], []
    for level in levels:
        p_t = tuple_probabilities(rhm, level, tuple_pos, M)
        seen = p_t > 0
        for target_level, target_pos, out in (
            (level, cousin_pos, latent),
            (0, cousin_pos * rhm.s**level, token),
        ):
            joint = tuple_target_joint(rhm, level, tuple_pos, target_level, target_pos, M)
            psi = joint[seen] / p_t[seen, None] - joint.sum(0)
            out.append(np.mean((psi**2).sum(1)))
        d_token.append(n_productions(rhm, level, tuple_pos, 0, cousin_pos * rhm.s**level))
    return dict(level=levels, psi2_latent=np.array(latent), psi2_token=np.array(token), d_token=np.array(d_token))


def snr_crossings(v: int, m_grid, s: int, L: int, seeds, ratio_lo: float, ratio_hi: float, n_points: int, n_fit: int):
    """Empirical error curves and their crossing with the separation, for each ``m``.

    For every ``m`` and seed (used for the grammar and, offset by 1000, for the sample):
    ``P`` runs over ``n_points`` log-spaced values of ``[ratio_lo, ratio_hi] * v m^3/(1-f)``;
    the last ``n_fit`` points fit ``rms = A P^b``; the crossing ``P_x`` solves
    ``A P^b = sep_median``.  Returns one record per ``(m, seed)`` with the curve, ``b``,
    ``P_x`` and ``P_x / (v m^3/(1-f))``.
    """
    if not 0 < ratio_lo < ratio_hi:
        raise ValueError(f"ratio_lo, ratio_hi must satisfy 0 < ratio_lo < ratio_hi, got {ratio_lo}, {ratio_hi}")
    n_points = _check_int("n_points", n_points, 2)
    n_fit = _check_int("n_fit", n_fit, 2, n_points)
    records = []
    for m in m_grid:
        for seed in seeds:
            rhm = RHM(v, m, s, L, seed)
            scale = snr_crossing(v, m, rhm.f)
            P = np.unique(np.round(scale * np.logspace(np.log10(ratio_lo), np.log10(ratio_hi), n_points)).astype(np.int64))
            curve = estimation_error_curve(rhm, P, seed + 1000)
            sep = signal_stats(rhm).sep_median
            b, A = fit_power_law(P[-n_fit:], curve["rms"][-n_fit:])
            P_x = (A / sep) ** (1.0 / -b)
            records.append(dict(m=m, seed=seed, f=rhm.f, P=P, sep=sep, b=b, P_x=P_x, ratio=P_x / scale, **curve))
    return records


# ---------------------------------------------------------------------- complexities
def _check_vm(v, m, L=None, s=None):
    v = _check_int("v", v, 2)
    m = _check_int("m", m, 1)
    if L is not None:
        _check_int("L", L, 1)
    if s is not None:
        s = _check_int("s", s, 2)
        if m > v ** (s - 1):
            raise ValueError(f"m must be in [1, v**(s-1)] = [1, {v ** (s - 1)}], got {m}")
    return v, m


def sample_complexity(objective: str, v: int, m: int, L: int, f: float = 0.0) -> float:
    """Predicted sample complexity (prefactors and logs dropped) of learning the non-root
    hierarchy: ``"supervised"`` ``v m^L``, ``"token"`` ``v m^(L+1)``, ``"latent"`` ``v m^3/(1-f)``."""
    v, m = _check_vm(v, m, L)
    if objective == "supervised":
        return float(v * m**L)
    if objective == "token":
        return float(v * m ** (L + 1))
    if objective == "latent":
        if not 0.0 <= f < 1.0:
            raise ValueError(f"f must be in [0, 1), got {f}")
        return v * m**3 / (1.0 - f)
    raise ValueError(f"objective must be one of 'supervised', 'token', 'latent', got {objective!r}")


def staged_token_complexity(v: int, m: int, L: int) -> np.ndarray:
    """Token-level SSL, level by level: ``P_l = v m^(l+2)`` to learn ``h^(l)``, ``l = 1..L-1``."""
    v, m = _check_vm(v, m, L)
    return np.array([v * float(m) ** (l + 2) for l in range(1, L)])


def theorem_bound(v: int, m: int, L: int, f: float, delta: float, C: float = 1.0) -> float:
    """The theorem's sufficient ``P``: ``C [v m log(Lvm/delta) + v m^3/(1-f) log(Lvm/delta)]``
    (the constant ``C`` is not given by the paper)."""
    v, m = _check_vm(v, m, L)
    if not 0.0 <= f < 1.0:
        raise ValueError(f"f must be in [0, 1), got {f}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if not C > 0:
        raise ValueError(f"C must be > 0, got {C}")
    log = math.log(L * v * m / delta)
    return C * (v * m * log + v * m**3 / (1.0 - f) * log)


def snr_crossing(v: int, m: int, f: float) -> float:
    """Signal-to-noise prediction ``v m^3 / (1-f)``: typical error ``sqrt(vm/P)`` equals the
    separation ``sqrt(1-f)/m``."""
    v, m = _check_vm(v, m)
    if not 0.0 <= f < 1.0:
        raise ValueError(f"f must be in [0, 1), got {f}")
    return v * m**3 / (1.0 - f)


def fit_power_law(x, y) -> tuple[float, float]:
    """Least-squares fit ``log y = log A + b log x``; returns ``(b, A)``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive arrays of the same shape with at least 2 points")
    b, loga = np.polyfit(np.log(x), np.log(y), 1)
    return float(b), float(np.exp(loga))
