"""Tests of the shared label-matching metrics."""

import numpy as np
import pytest

from ownlatents.probes import confusion, level_accuracies, match_labels, matched_accuracy


def test_permuted_labels_are_perfect():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 5, size=(100, 7))
    perm = rng.permutation(5)
    assert matched_accuracy(perm[true], true, 5) == 1.0
    assert np.array_equal(match_labels(perm[true], true, 5)[perm], np.arange(5))


def test_unknown_labels_count_as_errors():
    true = np.array([0, 1, 2, 3])
    pred = np.array([1, 0, -1, -1])
    assert matched_accuracy(pred, true, 4) == 0.5
    C = confusion(pred, true, 4)
    assert C.shape == (4, 4) and C.sum() == 2


def test_one_to_one_matching():
    # two labels can not both map to symbol 0: the best matching gets 3 of 4
    true = np.array([0, 0, 0, 1])
    pred = np.array([0, 0, 1, 1])
    assert matched_accuracy(pred, true, 2) == 0.75
    # more labels than symbols: extra labels stay unmatched
    assert matched_accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1]), 2) == 0.75


def test_chance_level():
    rng = np.random.default_rng(1)
    true = rng.integers(0, 8, size=20000)
    pred = rng.integers(0, 8, size=20000)
    assert 1 / 8 - 0.01 < matched_accuracy(pred, true, 8) < 1 / 8 + 0.03


def test_level_accuracies_and_errors():
    assert level_accuracies([np.array([1, 0])], [np.array([0, 1])], 2) == [1.0]
    with pytest.raises(ValueError, match="same shape"):
        matched_accuracy(np.zeros(3, int), np.zeros(4, int), 2)
    with pytest.raises(ValueError, match="true"):
        matched_accuracy(np.zeros(3, int), np.full(3, 5), 2)
    with pytest.raises(ValueError, match="v must"):
        confusion(np.zeros(3, int), np.zeros(3, int), 0)
    with pytest.raises(ValueError, match="same length"):
        level_accuracies([np.zeros(2, int)], [], 2)


# ---------------------------------------------------------------- trained probes and C_l
from ownlatents.probes import raw_token_encoder, synonym_clustering_score, train_probe  # noqa: E402
from ownlatents.rhm import RHM, one_hot  # noqa: E402


def _blobs(n, d, n_classes, noise, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, d)) * 3
    y = rng.integers(0, n_classes, size=n)
    return centres[y] + noise * rng.normal(size=(n, d)), y


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_train_probe_learns_separable_classes_and_is_deterministic(kind):
    x, y = _blobs(1200, 10, 4, 0.5, seed=0)
    a = train_probe(x[:800], y[:800], x[800:1000], y[800:1000], n_classes=4, kind=kind, max_steps=400, seed=1)
    b = train_probe(x[:800], y[:800], x[800:1000], y[800:1000], n_classes=4, kind=kind, max_steps=400, seed=1)
    assert a.accuracy(x[1000:], y[1000:]) > 0.95
    np.testing.assert_array_equal(a.predict(x[1000:]), b.predict(x[1000:]))
    assert a.val_accuracy == b.val_accuracy and 0 < a.steps <= 400


def test_train_probe_is_at_chance_on_random_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 5))
    y = rng.integers(0, 4, size=3000)
    probe = train_probe(x[:2000], y[:2000], x[2000:2500], y[2000:2500], n_classes=4, max_steps=300, seed=0)
    assert abs(probe.accuracy(x[2500:], y[2500:]) - 0.25) < 0.08  # 500 test points: 4 standard errors


def test_train_probe_validation():
    x, y = _blobs(50, 3, 2, 0.1, seed=0)
    with pytest.raises(ValueError, match="kind"):
        train_probe(x, y, x, y, n_classes=2, kind="svm")
    with pytest.raises(ValueError, match="y_train"):
        train_probe(x, y + 5, x, y, n_classes=2)
    with pytest.raises(ValueError, match="n_classes"):
        train_probe(x, y, x, y, n_classes=1)


def test_synonym_clustering_score_limits():
    rhm = RHM(v=8, m=4, s=2, L=4, seed=0)
    for level in (1, 2, 3):
        # A representation that is the level-l latent itself ignores level-l synonym swaps: C = 1.
        invariant = lambda tokens, level=level: one_hot(rhm.parse(tokens)[level], rhm.v)
        assert synonym_clustering_score(invariant, rhm, level, n_pairs=512, seed=1) == pytest.approx(1.0)

    # A representation that scatters every string to an unrelated random point cannot tell
    # synonym swaps from generic swaps: C ~ 0 (up to sampling noise of 512 pairs).
    def scatter(tokens):
        return np.stack([np.random.default_rng(list(row.astype(int))).normal(size=16) for row in tokens])

    c = synonym_clustering_score(scatter, rhm, 1, n_pairs=512, seed=2, exclude_current=True)
    assert abs(c) < 0.1
    # Raw tokens: a swap keeps the production with probability 1/m, so C_1 > 0 unless excluded.
    raw = raw_token_encoder(rhm.v)
    assert synonym_clustering_score(raw, rhm, 1, n_pairs=1024, seed=3) > synonym_clustering_score(
        raw, rhm, 1, n_pairs=1024, seed=3, exclude_current=True
    )
