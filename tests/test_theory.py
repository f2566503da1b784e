"""Exact population quantities of ``ownlatents.theory`` against brute force and sampling."""

import numpy as np
import pytest

from ownlatents import theory as th
from ownlatents.rhm import RHM

TINY = [(3, 2, 2, 3, 0), (4, 2, 2, 3, 1), (4, 3, 2, 3, 5), (3, 2, 3, 2, 2)]


def _targets(rhm, level, tuple_pos):
    """Every node outside the tuple's own subtree."""
    for tl in range(rhm.L + 1):
        for tp in range(rhm.level_size(tl)):
            if tl <= level + 1 and tp // rhm.s ** (level + 1 - tl) == tuple_pos:
                continue
            yield tl, tp


@pytest.mark.parametrize("params", TINY)
def test_marginals_match_enumeration(params):
    rhm = RHM(*params)
    strings, prob = rhm.enumerate()
    for level in range(rhm.L + 1):
        exact = th.level_marginals(rhm, level)
        brute = np.stack(
            [np.bincount(strings[level][:, i], weights=prob, minlength=rhm.v) for i in range(rhm.level_size(level))]
        )
        np.testing.assert_allclose(exact, brute, atol=1e-13)
        np.testing.assert_allclose(th.node_marginal(rhm, level, rhm.level_size(level) - 1), brute[-1], atol=1e-13)


@pytest.mark.parametrize("params", TINY)
def test_every_joint_matches_enumeration(params):
    """Every (tuple position, target node) pair at every level: siblings, cousins, tokens,
    latents and ancestors (root) alike."""
    rhm = RHM(*params)
    n = 0
    for level in range(rhm.L):
        for u in range(rhm.level_size(level + 1)):
            for tl, tp in _targets(rhm, level, u):
                exact = th.tuple_target_joint(rhm, level, u, tl, tp)
                np.testing.assert_allclose(exact, th.brute_force_joint(rhm, level, u, tl, tp), atol=1e-13)
                n += 1
    assert n > 10


@pytest.mark.parametrize("params", TINY[:2])
def test_context_vectors_tuple_probs_and_correlation(params):
    rhm = RHM(*params)
    level = 0
    tuples, phi = th.context_vectors(rhm, level)
    np.testing.assert_array_equal(tuples, rhm.grammatical_tuples(level))
    cousin = 2 * rhm.s - 1
    brute = th.brute_force_joint(rhm, level, 0, level, cousin)
    p_t = brute.sum(1)
    np.testing.assert_allclose(th.tuple_probabilities(rhm, level, 0), p_t, atol=1e-13)
    live = p_t > 0
    np.testing.assert_allclose(phi[live], brute[live] / p_t[live, None], atol=1e-12)
    assert np.all(np.isnan(phi[~live]))
    corr = th.connected_correlation(rhm, level, 0, level, cousin)
    np.testing.assert_allclose(corr, brute - np.outer(p_t, brute.sum(0)), atol=1e-13)
    psi = th.centred_context_vectors(rhm, level)
    np.testing.assert_allclose(corr[live], p_t[live, None] * psi[live], atol=1e-13)


def test_context_vectors_match_sampling():
    """Empirical frequencies at P = 400k agree within 5 standard errors (binomial)."""
    rhm = RHM(8, 3, 2, 3, seed=0)
    _, phi = th.context_vectors(rhm, 0)
    counts, phi_hat = th.empirical_context_vectors(rhm, rhm.sample(400_000, seed=11), 0)
    se = np.sqrt(phi * (1 - phi) / counts[:, None]) + 1e-12
    assert np.all(np.abs(phi_hat - phi) <= 5 * se + 1e-3 / np.sqrt(counts[:, None]))
    p_t = th.tuple_probabilities(rhm, 0)
    np.testing.assert_allclose(counts / counts.sum(), p_t, atol=5 * np.sqrt(p_t.max() / 400_000))


@pytest.mark.parametrize("params", [(8, 4, 2, 4, 0), (16, 32, 3, 3, 4), (32, 16, 2, 6, 2)])
def test_lemma1_synonyms_share_context_vectors(params):
    rhm = RHM(*params)
    for level in range(rhm.L - 1):
        within, between = th.synonym_spread(rhm, level)
        assert within == 0.0
        assert between > 1e-3


def test_n_productions():
    rhm = RHM(4, 2, 2, 5, 0)
    assert th.n_productions(rhm, 0, 0, 0, 3) == 3  # cousin
    assert th.n_productions(rhm, 0, 0, 1, 1) == 2  # sibling latent
    assert th.n_productions(rhm, 0, 0, 5, 0) == 5  # root: supervised, L - level
    assert th.n_productions(rhm, 1, 0, 0, 3 * 2) == 4  # token below the level-1 cousin: l + 3
    with pytest.raises(ValueError, match="target"):
        th.n_productions(rhm, 0, 0, 0, 1)


def test_invalid_inputs():
    rhm = RHM(4, 2, 2, 3, 0)
    with pytest.raises(ValueError, match="cousin_pos"):
        th.context_vectors(rhm, 0, tuple_pos=0, cousin_pos=1)
    with pytest.raises(ValueError, match="level"):
        th.context_vectors(rhm, 3)
    with pytest.raises(ValueError, match="tuple_pos"):
        th.context_vectors(rhm, 0, tuple_pos=4)
    with pytest.raises(ValueError, match="f must"):
        th.sample_complexity("latent", 8, 4, 3, f=1.0)
    with pytest.raises(ValueError, match="objective"):
        th.sample_complexity("magic", 8, 4, 3)
    with pytest.raises(ValueError, match="delta"):
        th.theorem_bound(8, 4, 3, 0.5, delta=0.0)
    with pytest.raises(ValueError, match="P_grid"):
        th.estimation_error_curve(rhm, [0, 10], seed=0)


def test_sample_complexities():
    assert th.sample_complexity("supervised", 8, 4, 3) == 8 * 4**3
    assert th.sample_complexity("token", 8, 4, 3) == 8 * 4**4
    assert th.sample_complexity("latent", 8, 4, 3, f=0.5) == 2 * 8 * 4**3
    np.testing.assert_allclose(th.staged_token_complexity(8, 4, 4), [8 * 4**3, 8 * 4**4, 8 * 4**5])
    assert th.theorem_bound(8, 4, 3, 0.5, 0.1) > th.snr_crossing(8, 4, 0.5)


def test_signal_scale_and_lemma2_on_one_grammar():
    """Loose sanity bounds; the chapter fits the exponents on grids."""
    rhm = RHM(16, 8, 2, 3, 0)
    st = th.signal_stats(rhm)
    scale = (1 - rhm.f) / rhm.m**2
    assert 0.25 * scale < st.psi2 < 4 * scale
    assert st.sep_min <= st.sep_median
    curve = th.estimation_error_curve(rhm, [20_000, 80_000], seed=3)
    assert np.all(curve["n_dev2"] <= 1.0)  # E ||U||^2 <= 1/n (Lemma 2), averaged over tuples
    np.testing.assert_allclose(curve["rms"], curve["rms_pred"], rtol=0.15)


def test_level_profile_latent_flat_token_decays():
    prof = th.level_profile(RHM(16, 4, 2, 5, 0))
    assert prof["psi2_token"][0] == pytest.approx(prof["psi2_latent"][0])  # level 0: same target
    assert np.all(np.diff(np.log(prof["psi2_token"])) < 0)
    np.testing.assert_array_equal(prof["d_token"], prof["level"] + 3)
