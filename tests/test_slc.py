"""Tests of the SLC network (ownlatents.slc): losses on hand-made inputs, EMA, stop-gradients, shapes."""

import itertools
import math

import numpy as np
import pytest
import torch

from ownlatents.rhm import RHM
from ownlatents.slc import (
    SLC, SLCConfig, SLCTrainer, backward_losses, clustering_loss, ema_update, evaluate, prediction_loss,
    run_slc, split_sample, tuple_features,
)


def _cfg(**kw):
    base = dict(v=4, m=2, s=2, L=3, d_h2=8, batch_size=8, N_compare=20, epochs=1)
    base.update(kw)
    return SLCConfig(**base)


def test_prediction_loss_matches_definition():
    """Sum over cousin patches r' != r, tokens t, codes a of -target * log phi[slot r]; mean over g, r."""
    g = torch.Generator().manual_seed(0)
    for s in (2, 3):
        B, G, d = 2, 2, 3
        n = G * s * s
        logphi = torch.log_softmax(torch.randn(B, G * s, s, s - 1, s, d, generator=g), dim=-1)
        target = torch.softmax(torch.randn(B, n, d, generator=g), dim=-1)
        expect = 0.0
        for b, gg, r in itertools.product(range(B), range(G), range(s)):
            u = gg * s + r
            for rho, r2 in enumerate([x for x in range(s) if x != r]):
                for t in range(s):
                    i = (gg * s + r2) * s + t
                    expect -= float((target[b, i] * logphi[b, u, r, rho, t]).sum())
        expect /= B * G * s
        assert math.isclose(float(prediction_loss(logphi, target, s)), expect, rel_tol=1e-5)


def test_prediction_loss_rejects_bad_length():
    with pytest.raises(ValueError, match="multiple of s"):
        prediction_loss(torch.zeros(1, 3, 2, 1, 2, 4), torch.zeros(1, 6, 4), 2)


def test_clustering_loss_hand_made():
    """Three elements: two with identical predictions (S = 1), one opposite (S = 0)."""
    phi = torch.tensor([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])  # mean (1/3, 0); centred directions: +, +, -
    q = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    S_m, lam_sep, lam_sp = 0.8, 0.5, 0.1
    S = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    total, npairs = 0.0, 0
    for i, j in itertools.permutations(range(3), 2):
        d2 = float(((q[i] - q[j]) ** 2).sum())
        total += d2 * max(float(S[i, j]) - S_m, 0.0) + lam_sep * float(q[i] @ q[j]) * (1 - float(S[i, j]))
        npairs += 1
    expect = total / npairs - lam_sp * float((q * q).sum(1).mean())
    got = float(clustering_loss(phi, q, None, S_m, lam_sep, lam_sp))
    assert math.isclose(got, expect, rel_tol=1e-6)
    # a subset of elements uses only those pairs (and centres over all elements)
    got2 = float(clustering_loss(phi, q, torch.tensor([0, 1]), S_m, lam_sep, lam_sp))
    d2 = 0.5
    assert math.isclose(got2, d2 * (1 - S_m) - lam_sp * float((q[:2] * q[:2]).sum(1).mean()), rel_tol=1e-6)


def test_ema_update():
    a, b = SLC(_cfg()), SLC(_cfg())
    ta = [p.detach().clone() for p in a.parameters()]
    tb = [p.detach().clone() for p in b.parameters()]
    ema_update(a, b, 0.25)
    for p, x, y in zip(a.parameters(), ta, tb):
        torch.testing.assert_close(p.detach(), 0.75 * x + 0.25 * y)
    ba = [x.clone() for x in a.buffers()]
    b.blocks[0].pred[1].bn.running_mean.fill_(1.0)
    ema_update(a, b, 0.5, buffers="copy_buffers")
    torch.testing.assert_close(a.blocks[0].pred[1].bn.running_mean, torch.ones_like(ba[0][: a.cfg.d_h2]))


@pytest.mark.parametrize("s,L", [(2, 3), (2, 4), (3, 3), (3, 4)])
def test_shapes(s, L):
    cfg = _cfg(s=s, L=L, v=4, m=2)
    net = SLC(cfg)
    x = torch.randint(0, cfg.v, (5, s ** L))
    codes, logphis = net(net.embed(x))
    assert len(codes) == L and len(logphis) == L - 1
    for l, c in enumerate(codes):
        assert c.shape == (5, s ** (L - l), cfg.d_h)
    for l, lp in enumerate(logphis):
        assert lp.shape == (5, s ** (L - l - 1), s, s - 1, s, cfg.d_h)
        torch.testing.assert_close(lp.exp().sum(-1), torch.ones(lp.shape[:-1]))
    tr = SLCTrainer(cfg, seed=0, device="cpu")
    losses = tr.losses(x)
    assert len(losses) == 2 * (L - 1) and all(torch.isfinite(t) for t in losses)


def _module_grads(cfg, loss_index):
    tr = SLCTrainer(cfg, seed=0, device="cpu")
    x = torch.randint(0, cfg.v, (8, cfg.s ** cfg.L), generator=torch.Generator().manual_seed(1))
    tr.student.train()
    tr.student.zero_grad(set_to_none=True)
    tr.losses(x)[loss_index].backward()

    def norm(mod):
        return sum(float(p.grad.abs().sum()) for p in mod.parameters() if p.grad is not None)

    b0, b1 = tr.student.blocks[0], tr.student.blocks[1]
    return dict(b0=norm(b0), b0_pred=norm(b0.pred), b0_clust=norm(b0.clust), b1=norm(b1))


def test_stopgrad_switches_really_stop_gradients():
    # loss 2 = prediction loss of module 1 (reads module 0's codes); loss 1 = clustering loss of module 0
    e2e = _module_grads(_cfg(), 2)
    assert e2e["b0"] > 0 and e2e["b1"] > 0
    sg = _module_grads(_cfg(stopgrad_between_layers=True), 2)
    assert sg["b0"] == 0.0 and sg["b1"] > 0
    c = _module_grads(_cfg(), 1)
    assert c["b0_pred"] > 0 and c["b0_clust"] > 0
    c_sg = _module_grads(_cfg(stopgrad_pred_to_clust=True), 1)
    assert c_sg["b0_pred"] == 0.0 and c_sg["b0_clust"] > 0


def test_no_ema_teacher_is_detached_student():
    cfg = _cfg(ema=False)
    tr = SLCTrainer(cfg, device="cpu")
    assert tr.teacher is None
    before = [p.detach().clone() for p in tr.student.parameters()]
    tr.step(torch.randint(0, cfg.v, (8, cfg.s ** cfg.L), generator=torch.Generator().manual_seed(0)))
    assert any(not torch.equal(a, p) for a, p in zip(before, tr.student.parameters()))


def test_ema_teacher_follows_student():
    cfg = _cfg(alpha_ema=0.5)
    tr = SLCTrainer(cfg, device="cpu")
    t0 = [p.detach().clone() for p in tr.teacher.parameters()]
    tr.step(torch.randint(0, cfg.v, (8, cfg.s ** cfg.L), generator=torch.Generator().manual_seed(0)))
    for pt, p0, ps in zip(tr.teacher.parameters(), t0, tr.student.parameters()):
        torch.testing.assert_close(pt, 0.5 * p0 + 0.5 * ps.detach())
        assert not pt.requires_grad


def test_upgrad_equals_mean_without_conflict():
    """Identical per-loss gradients: UPGrad's aggregate equals their mean."""
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    for agg in ("upgrad", "mean"):
        w.grad = None
        if hasattr(w, "jac"):
            del w.jac
        y = (w ** 2).sum()
        backward_losses([y, 1.0 * (w ** 2).sum()], [w], agg)
        torch.testing.assert_close(w.grad, 2 * w.detach(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="aggregator"):
        backward_losses([w.sum()], [w], "sum")


def test_deterministic_training_on_cpu():
    cfg = _cfg()
    rhm = RHM(cfg.v, cfg.m, cfg.s, cfg.L, seed=0)
    x = torch.as_tensor(np.asarray(rhm.sample(16, seed=1).tokens, dtype=np.int64))
    runs = []
    for _ in range(2):
        tr = SLCTrainer(cfg, seed=3, device="cpu")
        runs.append([tr.step(x[:8]), tr.step(x[8:])])
    assert runs[0] == runs[1]


def test_config_validation():
    with pytest.raises(ValueError, match="m must be"):
        SLCConfig(v=4, m=5, s=2, L=3)
    with pytest.raises(ValueError, match="L must be"):
        SLCConfig(v=4, m=2, s=2, L=2)
    with pytest.raises(ValueError, match="d_h must be"):
        SLCConfig(v=8, m=2, s=2, L=3, d_h=4)
    with pytest.raises(ValueError, match="aggregator"):
        SLCConfig(v=4, m=2, s=2, L=3, aggregator="sum")
    with pytest.raises(ValueError, match="alpha_ema"):
        SLCConfig(v=4, m=2, s=2, L=3, alpha_ema=0.0)
    assert SLCConfig(v=10, m=10, s=3, L=4).d_h == 100
    assert SLCConfig(v=4, m=2, s=2, L=3, codebook="max128").d_h == 128


def test_split_sample_disjoint():
    rhm = RHM(4, 2, 2, 3, seed=0)
    tr, va, te = split_sample(rhm, 50, 20, 30, seed=1)
    keys = [set(map(bytes, np.ascontiguousarray(d.tokens))) for d in (tr, va, te)]
    assert [len(k) for k in keys] == [50, 20, 30]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    with pytest.raises(ValueError, match="n_test"):
        split_sample(rhm, 10, 10, 0, seed=1)


def test_tuple_features():
    codes = np.array([[0, 1], [0, 1], [2, 3], [5, 5]])
    X, vocab = tuple_features(codes, max_vocab=2)
    assert X.shape == (4, 2) and X.sum() == 3  # the rarest tuple falls out of the vocabulary
    Xn, _ = tuple_features(np.array([[0, 1], [7, 7]]), vocab)
    assert Xn.sum() == 1 and Xn[1].sum() == 0


def test_run_slc_end_to_end_small():
    out = run_slc(P=64, seed=0, v=4, m=2, s=2, L=3, n_val=32, n_test=32, epochs=2, d_h2=8, batch_size=16,
                  device="cpu")
    for key in ("probe_acc", "root_acc", "level_acc", "pred_loss", "step_s"):
        assert key in out
    assert 0.0 <= out["probe_acc"] <= 1.0 and len(out["level_acc"]) == 2


def test_run_slc_reuses_identical_runs():
    kw = dict(P=32, seed=0, v=4, m=2, s=2, L=3, n_val=16, n_test=16, epochs=1, d_h2=8, batch_size=16, device="cpu")
    a = run_slc(**kw)
    b = run_slc(**kw, ema=True)  # the default, spelled out: same configuration, served from the cache
    assert a == b and a is not b
