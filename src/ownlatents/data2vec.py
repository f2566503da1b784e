"""data2vec on the RHM: a small pre-LN transformer student on the masked string regresses the
average of its EMA teacher's top-K (layer-normalised) block outputs on the full string.

In the spirit of nanoGPT: a few explicit modules, no framework.  The pieces

* :class:`EncoderConfig`, :class:`Encoder` -- learned token and position embeddings, pre-LN
  blocks (attention + GELU MLP), a final LayerNorm; ``forward`` returns the final features and
  the residual stream after every block (index 0 = embeddings).
* :class:`Data2Vec` -- student, EMA teacher (``ema_decay`` constant), target = mean of the
  teacher's last ``top_k`` block outputs each LayerNorm'd (no affine, no final LN), linear
  regression head, smooth-L1 (``beta``) at masked positions only.
* :func:`make_mask` (span-1 Bernoulli masking from a ``torch.Generator``), :func:`train`
  (AdamW, constant lr, grad clipping), :func:`offline_batches` / :func:`online_batches`.
* Evaluation: :func:`layer_features`, :func:`root_probes`, :func:`target_probes`,
  :func:`clustering_scores` (built on :mod:`ownlatents.probes`).
* :func:`d2v_point` -- one sweep run (train on ``P`` strings, probe), used for data2vec and the
  masked-token baseline (:mod:`ownlatents.baselines`) alike.

Every training step logs the loss and the variance (over masked positions, averaged over
features) of the target and of the prediction: a collapsing representation shows as a
target variance going to zero.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .validation import check_float as _check_float
from .validation import check_int as _check_int
from .rhm import RHM, RHMSample, mask_id, token_ids

__all__ = [
    "default_device",
    "EncoderConfig",
    "Encoder",
    "Data2Vec",
    "make_mask",
    "configure_optimizer",
    "train",
    "offline_batches",
    "online_batches",
    "layer_features",
    "pooled_features",
    "root_probes",
    "target_probes",
    "clustering_scores",
    "run_seeds",
    "build_model",
    "d2v_point",
    "d2v_sweep",
    "layer_profile",
    "raw_token_scores",
    "load_scale_study",
]


def default_device() -> torch.device:
    """CUDA when available, else CPU (the same code runs on both)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# --------------------------------------------------------------------------- encoder
@dataclass(frozen=True)
class EncoderConfig:
    """Shape of the encoder.  ``v`` symbols plus the two specials ([MASK] = v, [PAD] = v+1)."""

    v: int
    n_positions: int
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 4
    d_ff: int = 512
    dropout: float = 0.1

    def __post_init__(self):
        _check_int("v", self.v, 2)
        _check_int("n_positions", self.n_positions, 1)
        _check_int("d_model", self.d_model, 1)
        _check_int("n_heads", self.n_heads, 1)
        _check_int("n_layers", self.n_layers, 1)
        _check_int("d_ff", self.d_ff, 1)
        _check_float("dropout", self.dropout, 0.0, 1.0, high_open=True)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be a multiple of n_heads={self.n_heads}, got {self.d_model}")

    @property
    def vocab_size(self) -> int:
        return self.v + 2


class Block(nn.Module):
    """Pre-LN transformer block: ``x + attn(ln1(x))`` then ``x + mlp(ln2(x))``."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc = nn.Linear(cfg.d_model, cfg.d_ff)
        self.fc_out = nn.Linear(cfg.d_ff, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.p_attn = cfg.dropout

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (t.view(B, T, self.n_heads, d // self.n_heads).transpose(1, 2) for t in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p_attn if self.training else 0.0)
        x = x + self.drop(self.proj(a.transpose(1, 2).reshape(B, T, d)))
        ffn = self.drop(self.fc_out(F.gelu(self.fc(self.ln2(x)))))
        return x + ffn, ffn


class Encoder(nn.Module):
    """Token + position embeddings, ``n_layers`` pre-LN blocks, a final LayerNorm.

    ``forward(ids)`` returns ``(final [B, T, d], hidden)`` where ``hidden[0]`` is the
    embedding and ``hidden[i]`` the residual stream after block ``i`` (``ffn=True``: the
    FFN outputs of the blocks instead, ``hidden[0]`` still the embedding).
    """

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.n_positions, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)

    def init_weights(self, generator: torch.Generator) -> None:
        """GPT-2-style init (normal 0.02, zero biases, unit LayerNorms) from an explicit generator."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.ndim >= 2:
                    p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
                elif name.endswith("weight"):
                    p.fill_(1.0)
                else:
                    p.zero_()

    def forward(self, ids: torch.Tensor, ffn: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        T = ids.shape[1]
        if T > self.cfg.n_positions:
            raise ValueError(f"ids must have at most n_positions={self.cfg.n_positions} columns, got {T}")
        x = self.drop(self.tok(ids) + self.pos(torch.arange(T, device=ids.device)))
        hidden = [x]
        for block in self.blocks:
            x, f = block(x)
            hidden.append(f if ffn else x)
        return self.ln_f(x), hidden


def _new_encoder(cfg: EncoderConfig, seed: int) -> Encoder:
    enc = Encoder(cfg)
    enc.init_weights(torch.Generator().manual_seed(int(seed)))
    return enc


# --------------------------------------------------------------------------- data2vec
class Data2Vec(nn.Module):
    """Student on the masked input, EMA teacher on the full input, linear regression head.

    ``forward(ids, mask)`` returns a dict with ``loss`` (smooth-L1 at the masked positions only,
    mean over positions and features), ``target_var`` and ``pred_var`` (per-feature variance
    over the masked positions, averaged over features; collapse makes them go to zero).
    """

    def __init__(self, cfg: EncoderConfig, *, top_k: int = 4, ema_decay: float = 0.99, beta: float = 4.0,
                 ema_scope: str = "all", target_repr: str = "residual", seed: int = 0):
        super().__init__()
        self.top_k = _check_int("top_k", top_k, 1, cfg.n_layers)
        self.ema_decay = _check_float("ema_decay", ema_decay, 0.0, 1.0)
        self.beta = _check_float("beta", beta, 0.0, math.inf, low_open=True)
        if ema_scope not in ("all", "blocks_only"):
            raise ValueError(f"ema_scope must be 'all' or 'blocks_only', got {ema_scope!r}")
        if target_repr not in ("residual", "ffn"):
            raise ValueError(f"target_repr must be 'residual' or 'ffn', got {target_repr!r}")
        self.ema_scope, self.target_repr = ema_scope, target_repr
        self.cfg = cfg
        gen = torch.Generator().manual_seed(int(seed))
        self.student = Encoder(cfg)
        self.student.init_weights(gen)
        self.head = nn.Linear(cfg.d_model, cfg.d_model)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=gen) * 0.02)
            self.head.bias.zero_()
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)

    @property
    def encoder(self) -> Encoder:
        """The encoder probed after training (the student)."""
        return self.student

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # the teacher never uses dropout
        return self

    @torch.no_grad()
    def targets(self, ids: torch.Tensor) -> torch.Tensor:
        """Y(x) = mean over the teacher's last ``top_k`` block outputs of LayerNorm(output), ``[B, T, d]``."""
        _, hidden = self.teacher(ids, ffn=self.target_repr == "ffn")
        d = self.cfg.d_model
        return torch.stack([F.layer_norm(h, (d,)) for h in hidden[-self.top_k:]]).mean(0)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> dict:
        final, _ = self.student(ids.masked_fill(mask, mask_id(self.cfg.v)))
        pred = self.head(final[mask])
        target = self.targets(ids)[mask]
        loss = F.smooth_l1_loss(pred, target, beta=self.beta)
        return {"loss": loss, "target_var": target.var(0).mean().detach(), "pred_var": pred.var(0).mean().detach()}

    @torch.no_grad()
    def ema_update(self) -> None:
        """teacher <- mu * teacher + (1 - mu) * student (``ema_scope="blocks_only"``: embeddings and
        final LN are copied from the student instead of averaged)."""
        mu = self.ema_decay
        for (name, pt), ps in zip(self.teacher.named_parameters(), self.student.parameters()):
            if self.ema_scope == "blocks_only" and not name.startswith("blocks."):
                pt.copy_(ps)
            else:
                pt.lerp_(ps, 1.0 - mu)

    def after_step(self) -> None:
        self.ema_update()


# --------------------------------------------------------------------------- masking and training
def make_mask(shape: tuple[int, int], p: float, generator: torch.Generator, *, min_masked: int = 1,
              device=None) -> torch.Tensor:
    """Boolean mask ``[B, T]``: each position masked independently with probability ``p`` (span 1);
    rows with fewer than ``min_masked`` masked positions get random extra ones."""
    p = _check_float("p", p, 0.0, 1.0, low_open=True)
    B, T = shape
    min_masked = _check_int("min_masked", min_masked, 0, T)
    u = torch.rand((B, T), generator=generator)
    mask = u < p
    if min_masked:
        # force the min_masked positions with the smallest u (already masked ones stay masked)
        rank = u.argsort(dim=1).argsort(dim=1)
        mask |= rank < min_masked
    return mask.to(device) if device is not None else mask


def configure_optimizer(model: nn.Module, lr: float, weight_decay: float = 0.01, betas=(0.9, 0.98)):
    """AdamW; weight decay on matrices only (not on biases, LayerNorms)."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)


def offline_batches(tokens: np.ndarray, v: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """Endless epochs over a fixed set of strings (a new permutation per epoch); id tensors ``[B, T]``."""
    ids = torch.as_tensor(token_ids(tokens, v), dtype=torch.long)
    if ids.shape[0] == 0:
        raise ValueError("tokens must hold at least one string")
    batch_size = _check_int("batch_size", batch_size, 1)
    gen = torch.Generator().manual_seed(int(seed))
    while True:
        perm = torch.randperm(ids.shape[0], generator=gen)
        if ids.shape[0] <= batch_size:  # tiny sets: one batch is (a permutation of) the whole set
            yield ids[perm]
            continue
        for start in range(0, ids.shape[0] - batch_size + 1, batch_size):
            yield ids[perm[start:start + batch_size]]


def online_batches(rhm: RHM, steps: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """A fresh i.i.d. batch every step (P = steps * batch_size samples seen)."""
    for chunk in rhm.iter_samples(steps * batch_size, seed, chunk_size=batch_size):
        yield torch.as_tensor(token_ids(chunk.tokens, rhm.v), dtype=torch.long)


def train(model: nn.Module, batches: Iterator[torch.Tensor], *, steps: int, lr: float = 1e-4,
          weight_decay: float = 0.01, clip: float = 1.0, mask_prob: float = 0.15, min_masked: int = 1,
          mask_seed: int = 0, log_every: int = 50, device=None,
          callback: Callable[[int, nn.Module], None] | None = None) -> list[dict]:
    """Train ``model`` (``forward(ids, mask) -> dict(loss, ...)``, optional ``after_step()``) for
    ``steps`` AdamW steps at constant ``lr``.  Returns log rows ``{step, loss, ...}`` averaged
    over the last ``log_every`` steps; ``callback(step, model)`` runs at every log step."""
    steps = _check_int("steps", steps, 0)
    log_every = _check_int("log_every", log_every, 1)
    device = torch.device(device) if device is not None else default_device()
    model.to(device).train()
    opt = configure_optimizer(model, lr, weight_decay)
    gen = torch.Generator().manual_seed(int(mask_seed))
    log, acc, n = [], {}, 0
    for step in range(1, steps + 1):
        ids = next(batches).to(device)
        mask = make_mask(tuple(ids.shape), mask_prob, gen, min_masked=min_masked, device=device)
        out = model(ids, mask)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if hasattr(model, "after_step"):
            model.after_step()
        for k, t in out.items():
            acc[k] = acc.get(k, 0.0) + float(t.detach())
        n += 1
        if step % log_every == 0 or step == steps:
            log.append({"step": step, **{k: t / n for k, t in acc.items()}})
            acc, n = {}, 0
            if callback is not None:
                callback(step, model)
                model.train()
    model.eval()
    return log


# --------------------------------------------------------------------------- evaluation
@torch.no_grad()
def layer_features(encoder: Encoder, tokens: np.ndarray, *, batch_size: int = 1024, final: bool = False) -> list:
    """Residual stream after every block on the unmasked input: list (embedding, block 1, ...) of
    float32 arrays ``[N, T, d]`` (``final=True``: one array, the LayerNorm'd final layer)."""
    encoder.eval()
    device = next(encoder.parameters()).device
    ids = torch.as_tensor(token_ids(np.asarray(tokens), encoder.cfg.v), dtype=torch.long)
    outs = None
    for start in range(0, ids.shape[0], batch_size):
        fin, hidden = encoder(ids[start:start + batch_size].to(device))
        parts = [fin] if final else hidden
        outs = [[] for _ in parts] if outs is None else outs
        for o, h in zip(outs, parts):
            o.append(h.float().cpu().numpy())
    if outs is None:
        raise ValueError("tokens must hold at least one string")
    res = [np.concatenate(o) for o in outs]
    return res[0] if final else res


def pooled_features(encoder: Encoder, tokens: np.ndarray) -> np.ndarray:
    """Frozen final-layer features mean-pooled over positions, ``[N, d]`` (the paper's root-probe input)."""
    return layer_features(encoder, tokens, final=True).mean(axis=1)


def root_probes(encoder: Encoder, train: RHMSample, val: RHMSample, test: RHMSample, v: int, *,
                kinds: Sequence[str] = ("linear", "mlp"), max_steps: int = 2000, seed: int = 0) -> dict:
    """Test accuracy of root probes on mean-pooled frozen features: ``{kind: accuracy}``."""
    from .probes import train_probe

    xt, xv, xs = (pooled_features(encoder, s.tokens) for s in (train, val, test))
    out = {}
    for kind in kinds:
        probe = train_probe(xt, train.root, xv, val.root, n_classes=v, kind=kind, max_steps=max_steps, seed=seed)
        out[kind] = probe.accuracy(xs, test.root)
    return out


def _position_labels(sample: RHMSample, level: int, s: int) -> np.ndarray:
    """z_i^(l): the level-``level`` ancestor of every visible position, ``[N, s**L]``."""
    return np.repeat(np.asarray(sample[level]), s**level, axis=1)


def target_probes(model: Data2Vec, train: RHMSample, val: RHMSample, test: RHMSample, *, v: int, s: int,
                  levels: Sequence[int], max_rows: int = 32768, max_steps: int = 2000, seed: int = 0) -> dict:
    """Linear probes (shared over positions) reading z_i^(l) from the teacher target Y_i(x) on the
    unmasked input: ``{level: test accuracy}``.  At most ``max_rows`` (string, position) rows train."""
    from .probes import train_probe

    model.eval()
    device = next(model.parameters()).device

    def feats(sample):
        ids = torch.as_tensor(token_ids(sample.tokens, v), dtype=torch.long)
        Y = torch.cat([model.targets(ids[i:i + 1024].to(device)).cpu() for i in range(0, len(ids), 1024)])
        return Y.reshape(-1, Y.shape[-1])

    rng = np.random.default_rng(seed)
    (Xt, Xv, Xs) = (feats(x) for x in (train, val, test))
    keep = rng.permutation(Xt.shape[0])[:max_rows]
    out = {}
    for level in levels:
        yt, yv, ys = (_position_labels(x, level, s).reshape(-1) for x in (train, val, test))
        probe = train_probe(Xt[keep], yt[keep], Xv, yv, n_classes=v, kind="linear", max_steps=max_steps, seed=seed)
        out[level] = probe.accuracy(Xs, ys)
    return out


def clustering_scores(encoder: Encoder, rhm: RHM, *, levels: Sequence[int], layers: Sequence[int],
                      n_pairs: int = 2048, seed: int = 0, exclude_current: bool = True) -> dict:
    """Synonym clustering score C_l (:func:`ownlatents.probes.synonym_clustering_score`) of the
    residual stream after block ``layer`` (0 = embeddings), flattened over positions:
    ``{(layer, level): C}``.  The same pairs are used for every layer."""
    from .probes import synonym_clustering_score

    out = {}
    for layer in layers:
        _check_int("layer", layer, 0, encoder.cfg.n_layers)

        def encode(tokens, layer=layer):
            return layer_features(encoder, tokens)[layer]

        for level in levels:
            out[(layer, level)] = synonym_clustering_score(encode, rhm, level, n_pairs=n_pairs, seed=seed,
                                                           exclude_current=exclude_current)
    return out


# --------------------------------------------------------------------------- one sweep run
def run_seeds(seed: int) -> dict:
    """Independent seeds of one run (grammar, strings, model init, masks/batches, probes, C_l pairs)."""
    keys = ("grammar", "sample", "model", "mask", "batch", "probe", "pairs")
    state = np.random.SeedSequence(_check_int("seed", seed, 0)).generate_state(len(keys))
    return {k: int(x) % 2**31 for k, x in zip(keys, state)}


def build_model(objective: str, cfg: EncoderConfig, *, seed: int, top_k: int = 4, ema_decay: float = 0.99,
                beta: float = 4.0, ema_scope: str = "all", target_repr: str = "residual") -> nn.Module:
    """``objective="data2vec"``: :class:`Data2Vec`; ``"mlm"``: :class:`ownlatents.baselines.MaskedLM`."""
    if objective == "data2vec":
        return Data2Vec(cfg, top_k=top_k, ema_decay=ema_decay, beta=beta, ema_scope=ema_scope,
                        target_repr=target_repr, seed=seed)
    if objective == "mlm":
        from .baselines import MaskedLM

        return MaskedLM(cfg, seed=seed)
    raise ValueError(f"objective must be 'data2vec' or 'mlm', got {objective!r}")


def d2v_point(P: int, seed: int, *, objective: str = "data2vec", regime: str = "offline", v: int = 16,
              m: int = 3, s: int = 2, L: int = 4, d_model: int = 128, n_heads: int = 4, n_layers: int = 4,
              d_ff: int = 512, dropout: float = 0.1, top_k: int = 4, ema_decay: float = 0.99, beta: float = 4.0,
              steps: int = 2000, batch_size: int = 256, lr: float = 1e-4, mask_prob: float = 0.15,
              n_val: int = 1024, n_test: int = 4096, probe_steps: int = 2000, probe_kinds=("linear", "mlp"),
              cl_levels=(1, 2, 3), cl_layers=None, n_pairs: int = 1024, target_levels=(1, 2, 3),
              control: bool = True, device=None) -> dict:
    """Train ``objective`` on the RHM and probe it.  ``regime="offline"``: a fixed set of ``P``
    distinct strings, ``steps`` steps of batch ``batch_size`` (epochs over the set);
    ``regime="online"``: a fresh batch per step and ``P = steps * batch_size``.

    Probe protocol (both objectives, and the random-init control with the same seeds):
    offline probes train on the ``P`` pretraining strings with their root labels; online on
    ``n_val`` extra labelled strings.  ``n_val`` and ``n_test`` further distinct strings are
    validation (probe early stopping) and test.  Metrics: ``root_<kind>`` (and ``init_root_<kind>``),
    ``C_<layer>_<level>`` (and ``init_C_...``), ``target_<level>`` (data2vec only, and
    ``init_target_<level>``), final ``loss``, ``target_var``, ``pred_var``, ``samples``, ``step_s``.
    """
    if regime not in ("offline", "online"):
        raise ValueError(f"regime must be 'offline' or 'online', got {regime!r}")
    P = _check_int("P", P, 1)
    sd = run_seeds(seed)
    torch.manual_seed(sd["model"])  # only dropout draws from the global generator
    device = torch.device(device) if device is not None else default_device()
    rhm = RHM(v, m, s, L, seed=sd["grammar"])
    cfg = EncoderConfig(v=v, n_positions=s**L, d_model=d_model, n_heads=n_heads, n_layers=n_layers, d_ff=d_ff,
                        dropout=dropout)
    n_fixed = P if regime == "offline" else n_val
    data = rhm.sample(n_fixed + n_val + n_test, sd["sample"], distinct=True)
    train_set = data.select(slice(0, n_fixed))
    val_set = data.select(slice(n_fixed, n_fixed + n_val))
    test_set = data.select(slice(n_fixed + n_val, None))
    if regime == "offline":
        batches = offline_batches(train_set.tokens, v, batch_size, sd["batch"])
    else:
        steps = max(1, P // batch_size)
        batches = online_batches(rhm, steps, batch_size, sd["batch"] + 1)
    cl_layers = list(range(n_layers + 1)) if cl_layers is None else list(cl_layers)

    def evaluate(model, prefix):
        enc = model.encoder.to(device)
        out = {f"{prefix}root_{k}": a for k, a in root_probes(enc, train_set, val_set, test_set, v, kinds=probe_kinds,
                                                             max_steps=probe_steps, seed=sd["probe"]).items()}
        for (layer, level), c in clustering_scores(enc, rhm, levels=cl_levels, layers=cl_layers, n_pairs=n_pairs,
                                                   seed=sd["pairs"]).items():
            out[f"{prefix}C_{layer}_{level}"] = c
        if isinstance(model, Data2Vec) and target_levels:
            for level, a in target_probes(model.to(device), train_set, val_set, test_set, v=v, s=s,
                                          levels=target_levels, max_steps=probe_steps, seed=sd["probe"]).items():
                out[f"{prefix}target_{level}"] = a
        return out

    kw = dict(top_k=top_k, ema_decay=ema_decay, beta=beta) if objective == "data2vec" else {}
    metrics = {}
    if control:
        metrics.update(evaluate(build_model(objective, cfg, seed=sd["model"], **kw).to(device).eval(), "init_"))
    model = build_model(objective, cfg, seed=sd["model"], **kw)
    t0 = time.perf_counter()
    log = train(model, batches, steps=steps, lr=lr, mask_prob=mask_prob, mask_seed=sd["mask"], device=device,
                log_every=max(1, steps // 20))
    train_s = time.perf_counter() - t0
    metrics.update(evaluate(model, ""))
    last = log[-1] if log else {}
    metrics.update({k: last[k] for k in ("loss", "target_var", "pred_var") if k in last})
    metrics.update(samples=steps * batch_size, train_steps=steps, step_s=train_s / max(steps, 1), train_s=train_s,
                   epochs=steps * batch_size / n_fixed if regime == "offline" else 1.0,
                   log=[{k: round(x, 6) if isinstance(x, float) else x for k, x in r.items()} for r in log])
    return metrics


def d2v_sweep(cfg: dict, *, path=None, progress: bool = True):
    """Run one sweep section of the ``data2vec`` preset: keys ``m`` (list), ``lo, hi, per_decade``
    (P grid in units of v m^3), ``seeds``, ``objectives`` and any :func:`d2v_point` keyword."""
    from .sweeps import param_grid, run_sweep, scaled_grid

    cfg = dict(cfg)
    lo, hi, per_decade = cfg.pop("lo"), cfg.pop("hi"), cfg.pop("per_decade")
    seeds = cfg.pop("seeds")
    ms = cfg.pop("m")
    objectives = cfg.pop("objectives", ["data2vec"])
    cfg.pop("desc", None)

    def grid(p):
        return scaled_grid(p["v"] * p["m"] ** 3, lo, hi, per_decade)

    params = [dict(cfg, **p) for p in param_grid(objective=objectives, m=ms)]
    return run_sweep(d2v_point, P_grid=grid, params=params, seeds=list(seeds), path=path, desc="data2vec",
                     progress=progress, meta={"section": dict(cfg, m=ms, lo=lo, hi=hi, per_decade=per_decade,
                                                              objectives=objectives, seeds=seeds)})


def layer_profile(row: dict, levels: Sequence[int], prefix: str = "") -> np.ndarray:
    """C_l per encoder layer from a sweep row: array ``[n_layers + 1, len(levels)]`` (row 0 = embeddings)."""
    layers = sorted({int(k[len(prefix) + 2:].split("_")[0]) for k in row if k.startswith(prefix + "C_")})
    return np.array([[row[f"{prefix}C_{la}_{le}"] for le in levels] for la in layers])


def raw_token_scores(v: int, m: int, s: int, L: int, *, levels: Sequence[int], seed: int, n_pairs: int = 2048,
                     exclude_current: bool = True) -> dict:
    """C_l of the raw one-hot input (the baseline every C_l curve is compared with): ``{level: C}``."""
    from .probes import raw_token_encoder, synonym_clustering_score

    sd = run_seeds(seed)
    rhm = RHM(v, m, s, L, seed=sd["grammar"])
    return {le: synonym_clustering_score(raw_token_encoder(v), rhm, le, n_pairs=n_pairs, seed=sd["pairs"],
                                         exclude_current=exclude_current) for le in levels}


def load_scale_study(path) -> list[dict]:
    """Checkpoint rows of ``benchmarks/bench_data2vec.py scale`` runs (``results/data2vec_scale.json``),
    each with the run's ``objective``, ``m``, ``P``, ``d_model``, ``n_layers``, ``lr``, ``ms_per_step``."""
    import json
    from pathlib import Path

    rows = []
    for run in json.loads(Path(path).read_text()):
        if run.get("steps_done", 1) == 0:  # killed before its first trained checkpoint
            continue
        a = run["args"]
        for c in run["checkpoints"]:
            rows.append(dict(c, objective=a["objective"], m=a["m"], P=run["P"], d_model=a["d_model"],
                             n_layers=a["n_layers"], lr=a["lr"], batch=a["batch"], ms_per_step=run["ms_per_step"]))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run sweep sections of the ``data2vec`` preset in force and store them under ``results/``.

    ``OWNLATENTS_PRESET=full python -m ownlatents.data2vec [offline] [online]``
    """
    from .sweeps import run_preset_sweeps

    def sweep_sections(cfg):
        return [k for k in cfg if isinstance(cfg[k], dict) and "lo" in cfg[k]]

    run_preset_sweeps("data2vec", d2v_sweep, sweep_sections, argv)


if __name__ == "__main__":
    main()
