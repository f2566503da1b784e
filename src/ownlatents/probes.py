"""Shared metrics for every model: label-matched accuracy of recovered latents, trained
probes on frozen features, and the synonym clustering score.

An unsupervised learner (ILC, SLC, ...) recovers a latent level only up to a relabelling
of its symbols.  Its accuracy is therefore measured after the *optimal* one-to-one
matching of predicted labels to true symbols (Hungarian algorithm on the confusion
matrix, :func:`scipy.optimize.linear_sum_assignment`).  Predicted labels ``< 0``
(unknown / unseen tuples) never match and count as errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .validation import check_int

__all__ = [
    "confusion",
    "match_labels",
    "matched_accuracy",
    "level_accuracies",
    "Probe",
    "train_probe",
    "raw_token_encoder",
    "synonym_clustering_score",
]


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


# ---------------------------------------------------------------------- trained probes
# Probes read a property (the root, a latent symbol) off *frozen* features.  They are the
# only place labels enter an SSL pipeline, so every model in the book uses these two.

import torch  # noqa: E402  (kept below the numpy-only metrics above)


@dataclass
class Probe:
    """A trained linear or MLP probe; ``predict``/``accuracy`` take features ``[N, d]``."""

    model: torch.nn.Module
    mean: torch.Tensor
    std: torch.Tensor
    val_accuracy: float
    steps: int
    history: list = field(default_factory=list)  # (step, validation accuracy)

    def _logits(self, x) -> torch.Tensor:
        x = _as_features(x).to(self.mean.device)
        self.model.eval()
        with torch.no_grad():
            return self.model((x - self.mean) / self.std)

    def predict(self, x) -> np.ndarray:
        """Predicted class of each row of ``x``."""
        return self._logits(x).argmax(dim=1).cpu().numpy()

    def accuracy(self, x, y) -> float:
        """Fraction of rows of ``x`` whose predicted class is ``y``."""
        y = np.asarray(y)
        return float((self.predict(x) == y).mean()) if y.size else float("nan")


def _as_features(x) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if x.ndim != 2:
        raise ValueError(f"features must have shape [N, d], got {tuple(x.shape)}")
    return x.detach().float()


def train_probe(
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    n_classes: int,
    kind: str = "linear",
    hidden: int | None = None,
    dropout: float = 0.1,
    lr: float = 1e-3,
    max_steps: int = 2000,
    batch_size: int = 256,
    eval_every: int = 50,
    patience: int = 10,
    seed: int = 0,
    device=None,
) -> Probe:
    """Train a probe on frozen features with Adam, keeping the weights of the best
    validation accuracy (early stopping after ``patience`` evaluations without progress).

    ``kind="linear"``: ``Linear(d, n_classes)``; ``kind="mlp"``: ``d -> hidden -> n_classes``
    with GELU and dropout (``hidden`` defaults to ``2 d``, as in the paper's probes).
    Features are standardised with the training mean and standard deviation.
    """
    if kind not in ("linear", "mlp"):
        raise ValueError(f"kind must be 'linear' or 'mlp', got {kind!r}")
    for name, value, low in (("n_classes", n_classes, 2), ("max_steps", max_steps, 1), ("batch_size", batch_size, 1),
                             ("eval_every", eval_every, 1), ("patience", patience, 1)):
        check_int(name, value, low)
    device = torch.device(device) if device is not None else torch.device("cpu")
    xt, xv = _as_features(x_train), _as_features(x_val)
    yt = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    yv = torch.as_tensor(np.asarray(y_val), dtype=torch.long)
    if xt.shape[0] != yt.shape[0] or xv.shape[0] != yv.shape[0] or xt.shape[0] == 0:
        raise ValueError("x_train/y_train and x_val/y_val must be non-empty and of matching lengths")
    if xt.shape[1] != xv.shape[1]:
        raise ValueError(f"x_val must have d = {xt.shape[1]} columns, got {xv.shape[1]}")
    for name, y in (("y_train", yt), ("y_val", yv)):
        if y.numel() and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} must hold classes in [0, {n_classes - 1}]")
    generator = torch.Generator().manual_seed(int(seed))
    d = xt.shape[1]
    if kind == "linear":
        model = torch.nn.Linear(d, n_classes)
    else:
        width = hidden if hidden is not None else 2 * d
        model = torch.nn.Sequential(
            torch.nn.Linear(d, width), torch.nn.GELU(), torch.nn.Dropout(dropout), torch.nn.Linear(width, n_classes)
        )
    with torch.no_grad():  # deterministic initialisation from the probe's own seed
        for p in model.parameters():
            bound = 1 / np.sqrt(p.shape[-1]) if p.ndim > 1 else 1 / np.sqrt(d)
            p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=generator))
    model.to(device)
    mean = xt.mean(dim=0).to(device)
    std = (xt.std(dim=0) + 1e-6).to(device) if xt.shape[0] > 1 else torch.ones(d, device=device)
    xt, yt, xv, yv = ((xt.to(device) - mean) / std), yt.to(device), ((xv.to(device) - mean) / std), yv.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    best_acc, best_state, best_step, stale, history = -1.0, None, 0, 0, []
    for step in range(1, max_steps + 1):
        model.train()
        index = torch.randint(0, xt.shape[0], (min(batch_size, xt.shape[0]),), generator=generator).to(device)
        loss = torch.nn.functional.cross_entropy(model(xt[index]), yt[index])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % eval_every == 0 or step == max_steps:
            model.eval()
            with torch.no_grad():
                acc = float((model(xv).argmax(dim=1) == yv).float().mean()) if yv.numel() else 0.0
            history.append((step, acc))
            if acc > best_acc:
                best_acc, best_step, stale = acc, step, 0
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            else:
                stale += 1
                if stale >= patience:
                    break
    model.load_state_dict(best_state)
    model.eval()
    return Probe(model=model, mean=mean, std=std, val_accuracy=best_acc, steps=best_step, history=history)


# ---------------------------------------------------------------------- synonym clustering score
def raw_token_encoder(v: int):
    """The raw-input baseline representation: flattened one-hot tokens."""
    from .rhm import one_hot

    return lambda tokens: one_hot(tokens, v).reshape(len(tokens), -1)


def _flat_features(features) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    features = np.asarray(features, dtype=np.float64)
    return features.reshape(features.shape[0], -1)


def synonym_clustering_score(encode, rhm, level: int, *, n_pairs: int = 2048, seed: int = 0,
                             exclude_current: bool = False) -> float:
    """``C_l = 1 - E||f(x) - f(x_syn)||^2 / E||f(x) - f(x')||^2``.

    ``x_syn`` is the level-``level`` synonym swap of ``x`` (:meth:`RHM.synonym_swap`: keep
    levels ``>= level``, redraw the productions of the level-``level`` nodes, regenerate
    below) and ``x'`` an independent string.  ``encode(tokens [N, s**L]) -> [N, ...]`` is the
    representation (flattened here).  ``C = 1``: synonyms map to one point; ``C = 0``:
    synonym swaps move ``f`` as much as unrelated strings.  Even raw tokens score above 0
    unless ``exclude_current=True`` (a swap keeps the production with probability ``1/m``):
    compare with :func:`raw_token_encoder`.
    """
    check_int("n_pairs", n_pairs, 2)
    seeds = np.random.SeedSequence(int(seed)).generate_state(3)
    x = rhm.sample(int(n_pairs), seed=int(seeds[0]))
    x_syn = rhm.synonym_swap(x, level, seed=int(seeds[1]), exclude_current=exclude_current)
    x_other = rhm.generic_swap(x, seed=int(seeds[2]))
    f, f_syn, f_other = (_flat_features(encode(s.tokens)) for s in (x, x_syn, x_other))
    synonym = ((f - f_syn) ** 2).sum(axis=1).mean()
    generic = ((f - f_other) ** 2).sum(axis=1).mean()
    if generic == 0:
        raise ValueError("encode maps unrelated strings to the same point: the score is undefined")
    return float(1 - synonym / generic)
