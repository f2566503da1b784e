"""Shared metrics for recovered latents: confusion matrices and label-matched accuracy.

An unsupervised learner (ILC, SLC, ...) recovers a latent level only up to a relabelling
of its symbols.  Its accuracy is therefore measured after the *optimal* one-to-one
matching of predicted labels to true symbols (Hungarian algorithm on the confusion
matrix, :func:`scipy.optimize.linear_sum_assignment`).  Predicted labels ``< 0``
(unknown / unseen tuples) never match and count as errors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["confusion", "match_labels", "matched_accuracy", "level_accuracies"]


def _check_labels(pred, true, v: int, n_pred: int | None):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"v must be an integer >= 1, got {v!r}")
    pred = np.asarray(pred)
    true = np.asarray(true)
    if pred.shape != true.shape:
        raise ValueError(f"pred and true must have the same shape, got {pred.shape} and {true.shape}")
    if pred.size and not np.issubdtype(pred.dtype, np.integer):
        raise ValueError(f"pred must hold integers, got dtype {pred.dtype}")
    if true.size and (true.min() < 0 or true.max() >= v):
        raise ValueError(f"true must hold symbols in [0, {v - 1}]")
    if n_pred is None:
        n_pred = max(v, int(pred.max()) + 1 if pred.size else v)
    if pred.size and pred.max() >= n_pred:
        raise ValueError(f"pred must hold labels in [-inf, {n_pred - 1}] (n_pred = {n_pred}), got {int(pred.max())}")
    return pred.ravel(), true.ravel(), int(n_pred)


def confusion(pred, true, v: int, n_pred: int | None = None) -> np.ndarray:
    """Counts ``C[a, b]`` of (predicted label ``a``, true symbol ``b``), shape ``[n_pred, v]``.

    Entries with ``pred < 0`` are left out of the matrix (they are errors for every matching).
    ``n_pred`` defaults to ``max(v, max(pred) + 1)``.
    """
    pred, true, n_pred = _check_labels(pred, true, v, n_pred)
    keep = pred >= 0
    flat = pred[keep].astype(np.int64) * v + true[keep].astype(np.int64)
    return np.bincount(flat, minlength=n_pred * v).reshape(n_pred, v)


def match_labels(pred, true, v: int, n_pred: int | None = None) -> np.ndarray:
    """The optimal relabelling: array ``perm`` with ``perm[a]`` = true symbol matched to label ``a``
    (``-1`` for labels left unmatched when there are more labels than symbols)."""
    C = confusion(pred, true, v, n_pred)
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(C, maximize=True)
    perm = np.full(C.shape[0], -1, dtype=np.int64)
    perm[rows] = cols
    return perm


def matched_accuracy(pred, true, v: int, n_pred: int | None = None) -> float:
    """Fraction of entries whose label equals the true symbol after the optimal one-to-one
    matching of labels to symbols.  Negative labels and unmatched labels count as errors.
    Chance level is about ``1/v`` (slightly above, because the matching is optimised)."""
    pred, true, n_pred = _check_labels(pred, true, v, n_pred)
    if pred.size == 0:
        raise ValueError("pred must not be empty")
    C = confusion(pred, true, v, n_pred)
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(C, maximize=True)
    return float(C[rows, cols].sum()) / pred.size


def level_accuracies(preds: Sequence[np.ndarray], trues: Sequence[np.ndarray], v: int) -> list[float]:
    """:func:`matched_accuracy` of each level (one independent matching per level)."""
    if len(preds) != len(trues):
        raise ValueError(f"preds and trues must have the same length, got {len(preds)} and {len(trues)}")
    return [matched_accuracy(p, t, v) for p, t in zip(preds, trues)]
