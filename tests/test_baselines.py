"""Tests of the masked-token (MLM) baseline."""

import torch
import torch.nn.functional as F

from ownlatents import data2vec
from ownlatents.baselines import MaskedLM
from ownlatents.data2vec import EncoderConfig, offline_batches, train
from ownlatents.rhm import RHM, mask_id

CFG = EncoderConfig(v=8, n_positions=8, d_model=16, n_heads=2, n_layers=2, d_ff=32, dropout=0.0)


def test_shares_the_data2vec_encoder():
    model = MaskedLM(CFG, seed=0)
    assert type(model.encoder) is data2vec.Encoder
    d2v = data2vec.Data2Vec(CFG, top_k=2, seed=0)
    # same seed, same init of the encoder
    assert all(torch.equal(a, b) for a, b in zip(model.encoder.parameters(), d2v.encoder.parameters()))


def test_cross_entropy_only_at_masked_positions():
    model = MaskedLM(CFG, seed=0)
    ids = torch.randint(0, 8, (6, 8), generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(6, 8, dtype=torch.bool)
    mask[:, 2] = True
    out = model(ids, mask)
    final, _ = model.encoder(ids.masked_fill(mask, mask_id(8)))
    assert torch.allclose(out["loss"], F.cross_entropy(model.head(final[:, 2]), ids[:, 2]), atol=1e-6)
    # changing an unmasked token's *target* cannot matter: only masked ids enter the loss as labels
    assert 0.0 <= float(out["accuracy"]) <= 1.0


def test_mlm_learns_a_tiny_grammar():
    rhm = RHM(8, 1, 2, 2, seed=0)  # m = 1: every symbol has one production, siblings determine the token
    torch.manual_seed(0)
    model = MaskedLM(CFG.__class__(v=8, n_positions=4, d_model=16, n_heads=2, n_layers=2, d_ff=32, dropout=0.0),
                     seed=0)
    log = train(model, offline_batches(rhm.sample(8, 0, distinct=True).tokens, 8, 8, 0), steps=300, lr=3e-3,
                log_every=50, device="cpu")
    assert log[-1]["loss"] < 0.5 * log[0]["loss"]
