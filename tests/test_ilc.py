"""Tests of Iterative Latent Clustering (small grammars, a few seconds in all)."""

import numpy as np
import pytest

from ownlatents.ilc import ILC, ILCPathSweep, fit_path, ilc_point
from ownlatents.probes import matched_accuracy
from ownlatents.rhm import RHM, encode_tuples

V, M, S, L = 8, 4, 3, 3


@pytest.fixture(scope="module")
def rhm():
    return RHM(V, M, S, L, seed=0)


@pytest.fixture(scope="module")
def test_sample(rhm):
    return rhm.sample(3000, seed=99)


@pytest.mark.parametrize(
    "options", [{}, {"pool_blocks": True}, {"context": "all"}, {"tuple_pos": 2, "cousin_pos": 0}, {"oracle": True}]
)
def test_recovers_every_level_at_large_P(rhm, test_sample, options):
    train = rhm.sample(100 * V * M**3, seed=1)
    est = ILC(V, S, L, **options).fit(train.tokens, train if options.get("oracle") else None)
    assert est.score(test_sample) == [1.0, 1.0]
    # the level-0 clusters are exactly the synonym classes (up to relabelling)
    codes = rhm.grammatical_codes(0)
    assert matched_accuracy(est.tables_[0][codes], rhm.parent_table(0)[codes], V) == 1.0
    assert est.n_seen_ == [V * M, V * M]


def test_small_P_is_near_chance(rhm, test_sample):
    est = ILC(V, S, L).fit(rhm.sample(30, seed=1).tokens)
    assert est.score(test_sample)[-1] < 0.5


@pytest.mark.parametrize("cache_bytes", [0, 2**28])  # regenerated prefixes per level / one cached pass
@pytest.mark.parametrize("options", [{}, {"pool_blocks": True}, {"oracle": True}])
def test_stream_chunking_and_path_agree(rhm, cache_bytes, options):
    P_grid = [500, 2000, 6000]
    fits = fit_path(rhm, P_grid, seed=3, chunk_size=777, cache_bytes=cache_bytes, **options)
    for P, est in zip(P_grid, fits):
        train = rhm.sample_prefix(P, seed=3)
        direct = ILC(V, S, L, **options).fit(train.tokens, train if options else None, chunk_size=4096)
        for a, b in zip(est.tables_, direct.tables_):
            assert np.array_equal(a, b)
    if not options:
        single = ILC(V, S, L).fit_rhm(rhm, 2000, seed=3)
        assert all(np.array_equal(a, b) for a, b in zip(single.tables_, fits[1].tables_))


def test_transform_shapes_and_unknown(rhm, test_sample):
    est = ILC(V, S, L).fit(rhm.sample(20000, seed=1).tokens)
    out = est.transform(test_sample.tokens)
    assert [o.shape for o in out] == [(3000, 9), (3000, 3)]
    bad = test_sample.tokens[:5].copy()
    # an ungrammatical first tuple is unknown (-1) and so is everything above it
    ungrammatical = np.flatnonzero(rhm.parent_table(0) < 0)[0]
    bad[:, :S] = (ungrammatical // V ** np.arange(S - 1, -1, -1)) % V
    out = est.transform(bad)
    assert np.all(out[0][:, 0] == -1) and np.all(out[1][:, 0] == -1)
    assert np.all(out[0][:, 1:] >= 0)


def test_unseen_guess_labels_everything_and_keeps_the_clusters(rhm, test_sample):
    tokens = rhm.sample(40, seed=1).tokens  # far too few strings: most tuples unseen
    err = ILC(V, S, L).fit(tokens)
    guess = ILC(V, S, L, unseen="guess").fit(tokens)
    assert np.any(err.tables_[0] < 0) and np.all(guess.tables_[0] >= 0)
    seen = err.tables_[0] >= 0
    assert np.array_equal(guess.tables_[0][seen], err.tables_[0][seen])  # same clusters where seen
    out = guess.transform(test_sample.tokens)
    assert all(np.all((o >= 0) & (o < V)) for o in out)  # nothing unknown at any level
    acc_err, acc_guess = err.score(test_sample), guess.score(test_sample)
    # unknowns count as wrong ("error") or as a uniform guess: chance ~ 1/v instead of ~0
    assert acc_err[-1] < 0.5 / V < 0.8 / V < acc_guess[-1] < 0.5
    again = ILC(V, S, L, unseen="guess").fit(tokens)  # the guesses are seeded
    assert all(np.array_equal(a, b) for a, b in zip(again.tables_, guess.tables_))
    with pytest.raises(ValueError, match="unseen"):
        ILC(V, S, L, unseen="nearest")


def test_tables_are_consistent_with_transform(rhm, test_sample):
    est = ILC(V, S, L).fit(rhm.sample(20000, seed=1).tokens)
    out = est.transform(test_sample.tokens)
    codes = encode_tuples(test_sample.tokens, S, V)
    assert np.array_equal(out[0], est.tables_[0][codes])


def test_ilc_point_and_sweep_cache(rhm):
    metrics = ilc_point(P=5000, seed=0, v=V, m=M, s=S, L=L, n_test=500)
    assert set(metrics) >= {"accuracy", "acc_levels", "n_seen"} and len(metrics["acc_levels"]) == L - 1
    fn = ILCPathSweep(lambda p: [1000, 5000], n_test=500)
    a = fn(P=5000, seed=0, v=V, m=M, s=S, L=L)
    assert a["acc_levels"] == metrics["acc_levels"]


def test_bad_input(rhm, test_sample):
    with pytest.raises(ValueError, match="cousin_pos"):
        ILC(V, S, L, cousin_pos=1)
    with pytest.raises(ValueError, match="cousin_pos"):
        ILC(V, S, L, cousin_pos=9)
    with pytest.raises(ValueError, match="context"):
        ILC(V, S, L, context="two")
    with pytest.raises(ValueError, match="tuple_pos"):
        ILC(V, S, L, tuple_pos=3)
    with pytest.raises(ValueError, match="L must"):
        ILC(V, S, 1)
    with pytest.raises(ValueError, match="tokens must have shape"):
        ILC(V, S, L).fit(np.zeros((10, 26), dtype=np.uint8))
    with pytest.raises(ValueError, match="tokens must hold"):
        ILC(V, S, L).fit(np.full((10, 27), 8))
    with pytest.raises(ValueError, match="latents"):
        ILC(V, S, L, oracle=True).fit(test_sample.tokens)
    with pytest.raises(ValueError, match="not fitted"):
        ILC(V, S, L).transform(test_sample.tokens)
    with pytest.raises(ValueError, match="P must be >= 1"):
        ILC(V, S, L).fit_rhm(rhm, 0, 0)
    with pytest.raises(ValueError, match="does not match"):
        fit_path(rhm, [10], seed=0, estimators=[ILC(V, S, L + 1)])


@pytest.mark.parametrize("options", [{}, {"pool_blocks": True}])
def test_streaming_memory_does_not_grow_with_P(options):
    """With the in-memory cache off, a fit holds one chunk at a time: its peak allocation is
    set by chunk_size, not by P (the property that lets P = 10^7 strings run in < 2 GB)."""
    import tracemalloc

    rhm = RHM(V, M, S, 4, seed=0)

    def peak(P):
        tracemalloc.start()
        fit_path(rhm, [P], seed=0, chunk_size=1024, cache_bytes=0, **options)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(20_000)  # warm-up: the first call also imports k-means
    small, large = peak(20_000), peak(200_000)
    assert large < 1.5 * small, (small, large)  # 10x more strings, about the same peak
    assert large < 200_000 * rhm.n_tokens / 3   # far below holding the stream (1 byte per token)
