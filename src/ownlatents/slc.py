"""Stacked Latent Clustering (SLC): predictor–clusterer modules that learn their own latents.

The network of Sec. 4 / App. C of the paper (spec §4).  ``L-1`` identical modules; module
``l`` reads the level-``l`` codes ``h[l]`` (``[B, d_h, s**(L-l)]``, channels first) and

* its **predictor** (Conv1d with kernel = stride = s on each patch of ``s`` codes, then two
  1x1 convolutions, BatchNorm+ReLU between) outputs, for every patch, a distribution over
  ``d_h`` codes for each of the ``s*(s-1)`` *cousin* tokens under the same grandparent,
  one slice per possible position ``r`` of the patch in its grandparent (weight sharing);
* its **clusterer** (two 1x1 convolutions on the flattened prediction, softmax at
  temperature ``T``) turns the prediction into the next level's code ``h[l+1]``.

Losses per module: the cross-entropy of the prediction against the **EMA teacher's** codes
of the cousins (one-hot tokens at level 0), and a contrastive clustering loss on
``N_compare`` sampled elements (merge codes of elements whose teacher predictions are
similar, separate dissimilar ones, reward peaked codes).  The ``2(L-1)`` losses are
combined by UPGrad (``torchjd``) and the step is taken by AdamW; the teacher follows the
student by an exponential moving average.

Everything is batched over samples and patches (no Python loop over samples); one
teacher forward per batch serves every module.  CPU by default, CUDA when available.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .probes import matched_accuracy
from .rhm import RHM, RHMSample

__all__ = [
    "SLCConfig", "SLCModule", "SLC", "prediction_loss", "clustering_loss", "ema_update",
    "backward_losses", "default_device", "split_sample", "SLCTrainer", "tuple_features",
    "evaluate", "run_slc", "slc_sweep", "ABLATIONS", "run_seeds", "ablation_name", "encode", "describe", "history_arrays", "first_epoch_above",
]

# the four conditions of the paper's local-learning ablation (Fig. 9)
ABLATIONS = {
    "EMA, end-to-end": dict(ema=True, stopgrad_between_layers=False, stopgrad_pred_to_clust=False),
    "EMA + layer SG": dict(ema=True, stopgrad_between_layers=True, stopgrad_pred_to_clust=False),
    "no EMA, layer SG": dict(ema=False, stopgrad_between_layers=True, stopgrad_pred_to_clust=False),
    "no EMA, layer SG + pred→clust SG": dict(ema=False, stopgrad_between_layers=True, stopgrad_pred_to_clust=True),
}


def default_device() -> torch.device:
    """CUDA when available, else CPU (the code path is the same)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def run_seeds(seed: int) -> dict:
    """The independent seeds of one run: grammar, data sample, model (init, batches, pairs)."""
    return dict(grammar=seed, sample=10_000 + seed, model=20_000 + seed)


@dataclass
class SLCConfig:
    """Hyper-parameters; defaults = the paper's table (App. C.1) and the spec's choices for gaps.

    ``d_h=None`` means ``codebook``: ``"mv"`` (d_h = m v), ``"max128"`` (max(128, m v)).
    """

    v: int
    m: int
    s: int
    L: int
    d_h: int | None = None
    codebook: str = "mv"
    d_h2: int = 150
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-3
    alpha_ema: float = 0.015
    S_m: float = 0.8
    lambda_sep: float = 0.5
    lambda_spars: float = 1e-2
    N_compare: int = 300
    T: float = 1.0
    epochs: int = 30
    aggregator: str = "upgrad"
    ema: bool = True
    stopgrad_between_layers: bool = False
    stopgrad_pred_to_clust: bool = False
    teacher_bn: str = "ema_buffers_eval"
    early_stop: str = "val_pred"

    def __post_init__(self):
        for name, low in (("v", 2), ("m", 1), ("s", 2), ("L", 3), ("d_h2", 1), ("batch_size", 2),
                          ("N_compare", 2), ("epochs", 1)):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {val!r}")
        if self.m > self.v ** (self.s - 1):
            raise ValueError(f"m must be in [1, v**(s-1) = {self.v ** (self.s - 1)}], got {self.m}")
        if self.codebook not in ("mv", "max128"):
            raise ValueError(f"codebook must be 'mv' or 'max128', got {self.codebook!r}")
        if self.d_h is None:
            self.d_h = self.m * self.v if self.codebook == "mv" else max(128, self.m * self.v)
        if isinstance(self.d_h, bool) or not isinstance(self.d_h, (int, np.integer)) or self.d_h < self.v:
            raise ValueError(f"d_h must be an integer >= v = {self.v} (tokens are one-hot padded), got {self.d_h!r}")
        for name in ("lr", "T"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("weight_decay", "lambda_sep", "lambda_spars"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 < self.alpha_ema <= 1:
            raise ValueError(f"alpha_ema must be in (0, 1], got {self.alpha_ema!r}")
        if not -1 <= self.S_m <= 1:
            raise ValueError(f"S_m must be in [-1, 1], got {self.S_m!r}")
        if self.aggregator not in ("upgrad", "mean"):
            raise ValueError(f"aggregator must be 'upgrad' or 'mean', got {self.aggregator!r}")
        if self.teacher_bn not in ("ema_buffers_eval", "copy_buffers"):
            raise ValueError(f"teacher_bn must be 'ema_buffers_eval' or 'copy_buffers', got {self.teacher_bn!r}")
        if self.early_stop not in ("val_pred", "none"):
            raise ValueError(f"early_stop must be 'val_pred' or 'none', got {self.early_stop!r}")


# --------------------------------------------------------------------------- the network


class _BNReLU(nn.Module):
    """A = ReLU o BatchNorm over the feature axis of ``[B, n, C]`` (statistics over B and n)."""

    def __init__(self, c: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(c)

    def forward(self, x):
        return F.relu(self.bn(x.reshape(-1, x.shape[-1])).view(x.shape))


class SLCModule(nn.Module):
    """One predictor–clusterer module: codes ``[B, n, d_h]`` → (log-prediction, next codes).

    Codes are channels-last; the paper's Conv1d layers (kernel = stride = s for CNN1, 1 for the
    others) are written as Linear layers on patches, which is the same map and faster on CPU.
    ``logphi``: ``[B, n/s, s, s-1, s, d_h]`` (patch; slot r, cousin patch, token, code),
    ``q``: ``[B, n/s, d_h]`` (softmax at temperature T over the code axis).
    """

    def __init__(self, s: int, d_h: int, d_h2: int, T: float = 1.0):
        super().__init__()
        self.s, self.d_h, self.T = s, d_h, T
        d_out = s * (s - 1) * s * d_h
        self.pred = nn.Sequential(
            nn.Linear(s * d_h, d_h2), _BNReLU(d_h2),  # CNN1, A
            nn.Linear(d_h2, d_h2), _BNReLU(d_h2),  # CNN2, A
            nn.Linear(d_h2, d_out),  # CNN3
        )
        self.clust = nn.Sequential(nn.Linear(d_out, d_h2), _BNReLU(d_h2), nn.Linear(d_h2, d_h))  # CNN4, A, CNN5

    def forward(self, h: torch.Tensor, stopgrad_pred_to_clust: bool = False):
        B, n, d_h = h.shape
        s = self.s
        logits = self.pred(h.reshape(B, n // s, s * d_h))  # [B, n/s, s*(s-1)*s*d_h]
        logphi = F.log_softmax(logits.view(B, n // s, s, s - 1, s, d_h), dim=-1)
        phi = logphi.exp().reshape(B, n // s, -1)
        q = F.softmax(self.clust(phi.detach() if stopgrad_pred_to_clust else phi) / self.T, dim=-1)
        return logphi, q


class SLC(nn.Module):
    """The stack of ``L-1`` modules.  ``forward(h0)`` returns the codes of every level
    ``[h0, q1, ..., q_{L-1}]`` (``[B, s**(L-l), d_h]``) and the log-predictions of every module."""

    def __init__(self, cfg: SLCConfig):
        super().__init__()
        self.cfg = cfg
        self.blocks = nn.ModuleList(SLCModule(cfg.s, cfg.d_h, cfg.d_h2, cfg.T) for _ in range(cfg.L - 1))

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Level-0 input: one-hot tokens padded to ``d_h`` channels, ``[B, s**L, d_h]``."""
        return F.one_hot(tokens.long(), self.cfg.d_h).float()

    def forward(self, h0: torch.Tensor):
        codes, logphis = [h0], []
        h = h0
        for block in self.blocks:
            logphi, q = block(h, self.cfg.stopgrad_pred_to_clust)
            codes.append(q)
            logphis.append(logphi)
            h = q.detach() if self.cfg.stopgrad_between_layers else q
        return codes, logphis


# --------------------------------------------------------------------------- losses


def _cousin_index(s: int, device=None) -> torch.Tensor:
    """``[s, s-1]``: for slot r, the cousin patches r' != r in increasing order."""
    return torch.tensor([[r2 for r2 in range(s) if r2 != r] for r in range(s)], device=device)


def prediction_loss(logphi: torch.Tensor, target: torch.Tensor, s: int) -> torch.Tensor:
    """Cross-entropy of each patch's cousin predictions against the target codes.

    ``logphi [B, n/s, s, s-1, s, d_h]``, ``target [B, n, d_h]`` (probability vectors);
    sum over cousin patches, tokens and codes, mean over samples, grandparents and slots.
    Only slot r of patch u = g s + r is used (the patch's own position in its grandparent).
    """
    B, n, d_h = target.shape
    if n % (s * s):
        raise ValueError(f"target length must be a multiple of s**2 = {s * s}, got {n}")
    G = n // (s * s)
    lp = torch.diagonal(logphi.reshape(B, G, s, s, s - 1, s, d_h), dim1=2, dim2=3)  # [B, G, s-1, t, d_h, r]
    tg = target.reshape(B, G, s, s, d_h)[:, :, _cousin_index(s, target.device)]  # [B, G, r, s-1, t, d_h]
    return -(tg.permute(0, 1, 3, 4, 5, 2) * lp).sum(dim=(2, 3, 4)).mean()


def clustering_loss(phi_teacher: torch.Tensor, q: torch.Tensor, idx: torch.Tensor | None,
                    S_m: float, lambda_sep: float, lambda_spars: float) -> torch.Tensor:
    """Contrastive clustering loss on the elements ``idx`` (all when None), all pairs i != j.

    ``phi_teacher [N, D]`` teacher predictions (centred here over all N elements),
    ``q [N, d_h]`` student codes.  S_ij = (1 + cos)/2;
    L = <|q_i - q_j|^2 relu(S_ij - S_m) + lambda_sep (q_i.q_j)(1 - S_ij)>_{i!=j} - lambda_spars <q_i.q_i>_i.
    """
    phi = phi_teacher - phi_teacher.mean(dim=0, keepdim=True)
    if idx is not None:
        phi, q = phi[idx], q[idx]
    n = q.shape[0]
    if n < 2:
        raise ValueError(f"clustering_loss needs at least 2 elements, got {n}")
    phi = F.normalize(phi, dim=1)
    S = 0.5 * (1.0 + phi @ phi.T)
    G = q @ q.T
    sq = G.diagonal()
    dist2 = sq[:, None] + sq[None, :] - 2 * G
    off = ~torch.eye(n, dtype=torch.bool, device=q.device)
    pair = dist2 * F.relu(S - S_m) + lambda_sep * G * (1 - S)
    return pair[off].mean() - lambda_spars * sq.mean()


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, alpha: float, buffers: str = "ema_buffers_eval") -> None:
    """W_T <- (1 - alpha) W_T + alpha W_S for parameters; BatchNorm buffers by EMA or copied."""
    for pt, ps in zip(teacher.parameters(), student.parameters()):
        pt.lerp_(ps, alpha)
    for bt, bs in zip(teacher.buffers(), student.buffers()):
        if bt.dtype.is_floating_point and buffers == "ema_buffers_eval":
            bt.lerp_(bs, alpha)
        else:
            bt.copy_(bs)


def backward_losses(losses: Sequence[torch.Tensor], params: Sequence[torch.Tensor], aggregator: str = "upgrad") -> None:
    """Write ``.grad`` of ``params`` from several losses: UPGrad (torchjd 0.18 Jacobian descent:
    ``backward`` fills ``.jac``, ``jac_to_grad`` aggregates) or the plain mean of the losses."""
    if aggregator == "mean":
        torch.stack(list(losses)).mean().backward()
    elif aggregator == "upgrad":
        from torchjd.aggregation import UPGrad
        from torchjd.autojac import backward, jac_to_grad

        backward(list(losses), inputs=list(params))
        jac_to_grad(list(params), UPGrad())
    else:
        raise ValueError(f"aggregator must be 'upgrad' or 'mean', got {aggregator!r}")


# --------------------------------------------------------------------------- training


def split_sample(rhm: RHM, P: int, n_val: int, n_test: int, seed: int) -> tuple[RHMSample, RHMSample, RHMSample]:
    """Disjoint train / validation / test sets: P + n_val + n_test distinct strings, split."""
    for name, val, low in (("P", P, 1), ("n_val", n_val, 1), ("n_test", n_test, 1)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {val!r}")
    total = P + n_val + n_test
    if total > rhm.n_strings:
        raise ValueError(f"P + n_val + n_test must be <= the number of strings {rhm.n_strings}, got {total}")
    data = rhm.sample(total, seed=seed, distinct=True)
    idx = np.arange(total)
    return data.select(idx[:P]), data.select(idx[P:P + n_val]), data.select(idx[P + n_val:])


class SLCTrainer:
    """Student, EMA teacher, AdamW; ``fit`` trains on a fixed set of token strings for
    ``cfg.epochs`` epochs (``ceil(P/batch)`` steps each) and keeps the checkpoint with the
    lowest validation sum of prediction losses (``early_stop="val_pred"``)."""

    def __init__(self, cfg: SLCConfig, seed: int = 0, device: torch.device | str | None = None):
        self.cfg = cfg
        self.device = torch.device(device) if device is not None else default_device()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.student = SLC(cfg).to(self.device)
        self.teacher = copy.deepcopy(self.student).eval() if cfg.ema else None
        if self.teacher is not None:
            self.teacher.requires_grad_(False)
        self.params = [p for p in self.student.parameters()]
        self.opt = torch.optim.AdamW(self.params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.gen = torch.Generator().manual_seed(seed + 1)
        self.history: list[dict] = []
        self.step_times: list[float] = []

    def losses(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """The 2(L-1) losses [pred_0, clust_0, pred_1, clust_1, ...] on one batch."""
        cfg, s = self.cfg, self.cfg.s
        h0 = self.student.embed(tokens)
        codes, logphis = self.student(h0)
        if self.teacher is not None:
            with torch.no_grad():
                t_codes, t_logphis = self.teacher(h0)
        else:  # teacher = the current student, detached
            t_codes = [c.detach() for c in codes]
            t_logphis = [lp.detach() for lp in logphis]
        out = []
        for l, (logphi, q) in enumerate(zip(logphis, codes[1:])):
            out.append(prediction_loss(logphi, t_codes[l], s))
            B, n, d_h = q.shape
            phi_t = t_logphis[l].exp().reshape(B * n, -1)
            q_flat = q.reshape(B * n, d_h)
            idx = None
            if B * n > cfg.N_compare:
                idx = torch.randperm(B * n, generator=self.gen)[: cfg.N_compare].to(q.device)
            out.append(clustering_loss(phi_t, q_flat, idx, cfg.S_m, cfg.lambda_sep, cfg.lambda_spars))
        return out

    def step(self, tokens: torch.Tensor) -> list[float]:
        """One optimisation step (losses, aggregation, AdamW, EMA); returns the loss values."""
        t0 = time.perf_counter()
        self.student.train()
        losses = self.losses(tokens)
        self.opt.zero_grad(set_to_none=True)
        backward_losses(losses, self.params, self.cfg.aggregator)
        self.opt.step()
        if self.teacher is not None:
            ema_update(self.teacher, self.student, self.cfg.alpha_ema, self.cfg.teacher_bn)
        self.step_times.append(time.perf_counter() - t0)
        return [float(x.detach()) for x in losses]

    def encoder(self) -> SLC:
        """The network used for evaluation (the student)."""
        return self.student

    def fit(self, train: RHMSample, val: RHMSample | None = None, *, callback=None) -> "SLCTrainer":
        cfg = self.cfg
        X = torch.as_tensor(np.asarray(train.tokens, dtype=np.int64), device=self.device)
        P = X.shape[0]
        best, best_state = math.inf, None
        for epoch in range(cfg.epochs):
            perm = torch.randperm(P, generator=self.gen).to(self.device)
            n_batches = math.ceil(P / cfg.batch_size)
            run = np.zeros(2 * (cfg.L - 1))
            for b in range(n_batches):
                idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                if idx.numel() < 2:  # BatchNorm needs two samples; drop a singleton tail
                    continue
                run += np.asarray(self.step(X[idx]))
            rec = {"epoch": epoch + 1, "train_losses": (run / n_batches).tolist()}
            if val is not None:
                ev = evaluate(self.student, val, probes=False)
                rec.update(val_pred_loss=ev["pred_loss"], val_level_acc=ev["level_acc"])
                score = float(np.sum(ev["pred_loss"]))
                if cfg.early_stop == "val_pred" and score < best:
                    best, best_state = score, copy.deepcopy(self.student.state_dict())
                    rec["best"] = True
            self.history.append(rec)
            if callback is not None:
                callback(rec)
        if best_state is not None:
            self.student.load_state_dict(best_state)
        return self


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def encode(model: SLC, tokens: np.ndarray, chunk: int = 2048):
    """Eval-mode codes of every level ``[N, n_l, d_h]`` (l = 1..L-1) and per-module
    prediction losses against the model's own codes."""
    model.eval()
    dev = next(model.parameters()).device
    X = torch.as_tensor(np.asarray(tokens, dtype=np.int64))
    codes, losses, total = None, None, 0
    for i in range(0, len(X), chunk):
        xb = X[i:i + chunk].to(dev)
        c, lps = model(model.embed(xb))
        part = [prediction_loss(lp, t, model.cfg.s) * len(xb) for lp, t in zip(lps, c[:-1])]
        cpu = [q.cpu() for q in c[1:]]
        codes = cpu if codes is None else [torch.cat([a, b]) for a, b in zip(codes, cpu)]
        losses = part if losses is None else [a + b for a, b in zip(losses, part)]
        total += len(xb)
    return codes, [float(x) / total for x in losses]


def tuple_features(top_codes: np.ndarray, vocab: np.ndarray | None = None, max_vocab: int = 512):
    """One-hot id of the tuple of hard top codes, ``[N, len(vocab)]``; unseen tuples → zero row.

    ``top_codes [N, s]`` ints.  ``vocab`` (sorted tuple ids) is built from these codes when
    None: the ``max_vocab`` most frequent tuples (a linear softmax on this feature can
    express any tuple → root map).  Note: ``train_probe`` standardises features, so an unseen
    tuple gets the probe's response to the all-zero row, not exactly a uniform prediction.
    """
    top_codes = np.asarray(top_codes, dtype=np.int64)
    if top_codes.ndim != 2 or (top_codes.size and (top_codes.min() < 0 or top_codes.max() >= 4096)):
        raise ValueError("top_codes must be a [N, s] array of codes in [0, 4095]")
    ids = np.zeros(len(top_codes), dtype=np.int64)
    for k in range(top_codes.shape[1]):
        ids = ids * 4096 + top_codes[:, k]
    if vocab is None:
        uniq, counts = np.unique(ids, return_counts=True)
        vocab = np.sort(uniq[np.argsort(-counts, kind="stable")[:max_vocab]])
    pos = np.searchsorted(vocab, ids)
    pos = np.clip(pos, 0, max(len(vocab) - 1, 0))
    hit = (len(vocab) > 0) & (vocab[pos] == ids) if len(vocab) else np.zeros(len(ids), bool)
    X = np.zeros((len(ids), max(len(vocab), 1)), dtype=np.float32)
    X[np.nonzero(hit)[0], pos[hit]] = 1.0
    return X, vocab


def evaluate(model: SLC, test: RHMSample, *, probes: bool = False, train: RHMSample | None = None,
             val: RHMSample | None = None, probe_seed: int = 0, probe_kw: dict | None = None) -> dict:
    """Per-module matched accuracy of the hard codes and prediction loss on ``test``; with
    ``probes`` also the linear h^(L-1) probe and the tuple-one-hot root probe, trained on
    the frozen features of ``train`` with early stopping on ``val`` (``ownlatents.probes.train_probe``)."""
    cfg = model.cfg
    codes, pred_loss = encode(model, test.tokens)
    level_acc = [matched_accuracy(c.argmax(-1).numpy(), np.asarray(test[l + 1]), cfg.v, n_pred=cfg.d_h)
                 for l, c in enumerate(codes)]
    out = {"level_acc": level_acc, "pred_loss": pred_loss}
    if not probes:
        return out
    if train is None or val is None:
        raise ValueError("train and val must be given when probes=True")
    from .probes import train_probe

    kw = dict(probe_kw or {})
    dev = next(model.parameters()).device
    feats = {name: encode(model, d.tokens)[0][-1] for name, d in (("train", train), ("val", val))}
    feats["test"] = codes[-1]
    top = {name: np.asarray(d[cfg.L - 1]) for name, d in (("train", train), ("val", val), ("test", test))}
    # h^(L-1) probe: linear d_h -> v on each final code, shared over the s positions
    flat = {k: f.reshape(-1, cfg.d_h) for k, f in feats.items()}
    pr = train_probe(flat["train"], torch.as_tensor(top["train"].reshape(-1)), flat["val"],
                     torch.as_tensor(top["val"].reshape(-1)), n_classes=cfg.v, kind="linear",
                     seed=probe_seed, device=dev, **kw)
    out["probe_acc"] = float(pr.accuracy(flat["test"], torch.as_tensor(top["test"].reshape(-1))))
    # root probe: linear softmax on the one-hot id of the tuple of hard top codes
    hard = {k: f.argmax(-1).numpy() for k, f in feats.items()}
    Xtr, vocab = tuple_features(hard["train"])
    Xva, _ = tuple_features(hard["val"], vocab)
    Xte, _ = tuple_features(hard["test"], vocab)
    roots = {name: torch.as_tensor(np.asarray(d.root).astype(np.int64)) for name, d in
             (("train", train), ("val", val), ("test", test))}
    rp = train_probe(torch.as_tensor(Xtr), roots["train"], torch.as_tensor(Xva), roots["val"],
                     n_classes=cfg.v, kind="linear", seed=probe_seed + 1, device=dev, **kw)
    out["root_acc"] = float(rp.accuracy(torch.as_tensor(Xte), roots["test"]))
    out["root_vocab"] = int(len(vocab))
    return out


def run_slc(P: int, seed: int, *, v: int, m: int, s: int, L: int, n_val: int = 2000, n_test: int = 2000,
            probes: bool = True, device=None, history: bool = True, **options) -> dict:
    """One SLC training + evaluation (a ``run_sweep`` function).

    Seeds from :func:`run_seeds`.  Returns ``probe_acc`` (linear h^(L-1) probe), ``root_acc``,
    per-level ``level_acc`` and ``pred_loss`` of the hard codes, timing and the epoch history
    when ``history``."""
    sd = run_seeds(seed)
    cfg = SLCConfig(v=v, m=m, s=s, L=L, **options)
    key = repr((P, seed, n_val, n_test, probes, history, str(device), sorted(asdict(cfg).items())))
    if key in _RUN_CACHE:  # the same training requested by two sweeps (e.g. main and ablation)
        return copy.deepcopy(_RUN_CACHE[key])
    rhm = RHM(v, m, s, L, seed=sd["grammar"])
    train, val, test = split_sample(rhm, P, n_val, n_test, sd["sample"])
    t0 = time.perf_counter()
    tr = SLCTrainer(cfg, seed=sd["model"], device=device).fit(train, val)
    t_train = time.perf_counter() - t0
    ev = evaluate(tr.encoder(), test, probes=probes, train=train, val=val, probe_seed=sd["model"])
    ev.update(train_s=t_train, threads=torch.get_num_threads(), device=str(tr.device), step_s=float(np.median(tr.step_times)) if tr.step_times else math.nan,
              n_steps=len(tr.step_times), best_epoch=max([r["epoch"] for r in tr.history if r.get("best")] or [cfg.epochs]),
              d_h=cfg.d_h)
    if history:
        ev["history"] = tr.history
    if len(_RUN_CACHE) >= 256:  # bounded: drop the oldest result
        _RUN_CACHE.pop(next(iter(_RUN_CACHE)))
    _RUN_CACHE[key] = copy.deepcopy(ev)
    return ev


_RUN_CACHE: dict[str, dict] = {}


def slc_sweep(cfg: dict, *, path=None, progress: bool = True, desc: str | None = None):
    """Run one sweep section of the ``slc`` preset: keys ``v, s, L, m`` (scalars or lists),
    ``seeds``, ``lo, hi, per_decade`` (P grid in units of v m^3) and model options in ``options``;
    ``variants`` (list of option dicts) for the ablation."""
    from .sweeps import param_grid, run_sweep, scaled_grid

    lists = {k: (cfg[k] if isinstance(cfg[k], list) else [cfg[k]]) for k in ("v", "s", "L", "m")}
    base = param_grid(**lists)
    variants = cfg.get("variants", [{}])
    params = [dict(p, **cfg.get("options", {}), **var) for p in base for var in variants]
    for p in params:
        p.setdefault("n_val", cfg.get("n_val", 2000))
        p.setdefault("n_test", cfg.get("n_test", 2000))

    def grid(p):
        if "P" in cfg:
            return list(cfg["P"])
        return scaled_grid(p["v"] * p["m"] ** 3, cfg["lo"], cfg["hi"], cfg["per_decade"])

    return run_sweep(run_slc, P_grid=grid, params=params, seeds=list(cfg["seeds"]), path=path,
                     desc=desc, progress=progress, meta={"section": "slc"})


def describe(cfg: SLCConfig) -> list[dict]:
    """The layers of one module and of the stack, for a table: name, input → output width,
    the positions it runs on, and its parameter count."""
    s, d_h, d2 = cfg.s, cfg.d_h, cfg.d_h2
    d_out = s * (s - 1) * s * d_h
    rows = [
        ("CNN1 (kernel = stride = s)", s * d_h, d2, "patch"), ("A = ReLU∘BatchNorm", d2, d2, "patch"),
        ("CNN2 (1×1)", d2, d2, "patch"), ("A", d2, d2, "patch"),
        ("CNN3 (1×1) + softmax over d_h", d2, d_out, "patch → s·(s−1)·s cousin-token distributions"),
        ("CNN4 (1×1)", d_out, d2, "patch"), ("A", d2, d2, "patch"),
        ("CNN5 (1×1) + softmax(·/T)", d2, d_h, "patch → code ĥ^(ℓ+1)"),
    ]
    net = SLC(cfg)
    n_mod = sum(p.numel() for p in net.blocks[0].parameters())
    out = [dict(layer=name, d_in=a, d_out=b, acts_on=w) for name, a, b, w in rows]
    out.append(dict(layer=f"one module: {n_mod} parameters; L−1 = {cfg.L - 1} modules", d_in=s * d_h, d_out=d_h,
                    acts_on=f"level ℓ: {s}^(L−ℓ) codes → {s}^(L−ℓ−1) codes"))
    return out


def history_arrays(row) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epochs ``[E]``, validation per-level accuracy ``[E, L-1]``, validation prediction loss
    ``[E, L-1]``) from the ``history`` of a :func:`run_slc` result row."""
    hist = row["history"]
    ep = np.array([h["epoch"] for h in hist])
    return ep, np.array([h["val_level_acc"] for h in hist]), np.array([h["val_pred_loss"] for h in hist])


def first_epoch_above(acc: np.ndarray, level: float) -> np.ndarray:
    """Per level (column), the first epoch (1-based) whose accuracy is >= level; inf if never."""
    acc = np.asarray(acc)
    hit = acc >= level
    return np.where(hit.any(0), hit.argmax(0) + 1.0, np.inf)


def ablation_name(row) -> str:
    """The name (a key of :data:`ABLATIONS`) of a sweep row's local-learning condition."""
    flags = {k: bool(row.get(k, SLCConfig.__dataclass_fields__[k].default)) for k in ABLATIONS["EMA, end-to-end"]}
    for name, cond in ABLATIONS.items():
        if cond == flags:
            return name
    return ", ".join(f"{k}={v}" for k, v in flags.items())


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m ownlatents.slc SECTION [--preset fast|full]``: run one section of the ``slc``
    preset and store it as ``results/slc_<section>_<preset>.json`` (resumable)."""
    import argparse

    from .presets import get_preset, preset_name
    from .sweeps import results_dir

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("section", help="main, depth, ablation, dynamics or medium_main")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=None, help="output JSON (default results/slc_<section>_<preset>.json)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    name = preset_name(args.preset)
    cfg = get_preset("slc", name)
    if args.section not in cfg:
        raise ValueError(f"section must be one of {sorted(cfg)}, got {args.section!r}")
    tag = "medium" if args.section.startswith("medium_") else name
    section = args.section.removeprefix("medium_")
    out = args.out or results_dir() / f"slc_{section}_{tag}.json"
    slc_sweep(cfg[args.section], path=out, desc=f"slc {args.section} ({name})")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
