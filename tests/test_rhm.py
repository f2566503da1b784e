"""Tests of the Random Hierarchy Model: grammar, samplers, interventions, encodings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ownlatents.rhm import BLOCK_SIZE, RHM, RHMSample, encode_tuples, mask_id, one_hot, pad_id, token_ids


@st.composite
def grammars(draw, max_L=4):
    """Small random RHM parameters (f <= 1 by construction)."""
    s = draw(st.integers(2, 3))
    v = draw(st.integers(2, 6))
    m = draw(st.integers(1, min(v ** (s - 1), 8)))
    L = draw(st.integers(1, max_L if s == 2 else 3))
    seed = draw(st.integers(0, 2**31))
    return RHM(v, m, s, L, seed)


# ---------------------------------------------------------------- the grammar
@settings(max_examples=60, deadline=None)
@given(grammars())
def test_rules_are_distinct_and_unambiguous(rhm):
    for level in range(rhm.L):
        codes = rhm.grammatical_codes(level)
        assert codes.size == rhm.v * rhm.m
        assert np.unique(codes).size == codes.size  # each tuple has exactly one parent
        assert rhm.rules[level].min() >= 0 and rhm.rules[level].max() < rhm.v
        parents = rhm.parent_table(level)
        assert (parents >= 0).sum() == rhm.v * rhm.m
        np.testing.assert_array_equal(parents[codes], rhm.tuple_parents(level))
        np.testing.assert_array_equal(rhm.production_table(level)[codes], np.tile(np.arange(rhm.m), rhm.v))


def test_sizes():
    rhm = RHM(v=8, m=6, s=3, L=5, seed=0)
    assert rhm.n_tokens == 243
    assert rhm.n_internal == 121
    assert rhm.n_strings == 8 * 6**121  # exact, far beyond int64
    assert rhm.f == pytest.approx(6 / 64)


def test_grammar_seed_controls_rules_and_shares_lower_levels():
    a, b, c = RHM(8, 3, 2, 4, seed=1), RHM(8, 3, 2, 4, seed=1), RHM(8, 3, 2, 4, seed=2)
    for level in range(4):
        np.testing.assert_array_equal(a.rules[level], b.rules[level])
    assert any((a.rules[l] != c.rules[l]).any() for l in range(4))
    deeper = RHM(8, 3, 2, 6, seed=1)
    for level in range(4):
        np.testing.assert_array_equal(a.rules[level], deeper.rules[level])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(v=1, m=1, s=2, L=2), "v"),
        (dict(v=4, m=0, s=2, L=2), "m"),
        (dict(v=4, m=5, s=2, L=2), "m"),  # v*m > v**s
        (dict(v=4, m=2, s=1, L=2), "s"),
        (dict(v=4, m=2, s=2, L=0), "L"),
        (dict(v=4.0, m=2, s=2, L=2), "v"),
        (dict(v=4, m=2, s=2, L=True), "L"),
        (dict(v=4, m=2, s=2, L=2, seed=-1), "seed"),
    ],
)
def test_invalid_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        RHM(**kwargs)


def test_invalid_sample_arguments():
    rhm = RHM(4, 2, 2, 2, seed=0)
    with pytest.raises(ValueError, match="^P must"):
        rhm.sample(-1)
    with pytest.raises(ValueError, match="^P must"):
        rhm.sample(2.5)
    with pytest.raises(ValueError, match="^P must be <= n_strings"):
        rhm.sample(rhm.n_strings + 1, distinct=True)
    with pytest.raises(ValueError, match="^level must"):
        rhm.synonym_swap(rhm.sample(3), level=0)
    with pytest.raises(ValueError, match="^chunk_size must"):
        next(rhm.iter_samples(10, chunk_size=0))
    assert len(rhm.sample(0)) == 0


# ---------------------------------------------------------------- sampling
def assert_tree_is_grammatical(rhm, sample):
    """Every level-l tuple in the sample is a rule of its parent at level l+1."""
    assert len(sample.levels) == rhm.L + 1
    for level in range(rhm.L + 1):
        assert sample[level].shape == (len(sample), rhm.s ** (rhm.L - level))
        assert sample[level].dtype == np.uint8
    for level in range(rhm.L):
        tuples = sample[level].reshape(len(sample), -1, rhm.s)
        np.testing.assert_array_equal(rhm.parent(level, tuples), sample[level + 1])


@settings(max_examples=40, deadline=None)
@given(grammars(), st.integers(1, 300), st.integers(0, 2**31))
def test_samples_follow_the_rules(rhm, P, seed):
    assert_tree_is_grammatical(rhm, rhm.sample(P, seed))


@settings(max_examples=25, deadline=None)
@given(grammars(), st.integers(0, 2**31))
def test_same_seed_same_arrays_different_seed_differs(rhm, seed):
    a, b, c = rhm.sample(200, seed), rhm.sample(200, seed), rhm.sample(200, seed + 1)
    for level in range(rhm.L + 1):
        np.testing.assert_array_equal(a[level], b[level])
    if rhm.n_strings > 10**3:  # two samples of 200 strings essentially never coincide
        assert (a.tokens != c.tokens).any()


@settings(max_examples=20, deadline=None)
@given(grammars(max_L=3), st.integers(1, 2 * BLOCK_SIZE + 50), st.integers(1, 5000), st.integers(0, 100))
def test_chunked_and_one_shot_sampling_agree(rhm, P, chunk_size, seed):
    chunks = list(rhm.iter_samples(P, seed, chunk_size=chunk_size))
    assert all(len(c) <= chunk_size for c in chunks)
    joined = RHMSample.concatenate(chunks)
    whole = rhm.sample(P, seed)
    for level in range(rhm.L + 1):
        np.testing.assert_array_equal(joined[level], whole[level])


def test_prefix_property_across_block_boundaries():
    rhm = RHM(8, 3, 2, 4, seed=0)
    big, small = rhm.sample(BLOCK_SIZE + 10, seed=4), rhm.sample(BLOCK_SIZE - 3, seed=4)
    np.testing.assert_array_equal(big.tokens[: len(small)], small.tokens)


# ---------------------------------------------------------------- the nested-prefix stream
@settings(max_examples=30, deadline=None)
@given(grammars(), st.integers(1, 300), st.integers(0, 2**31))
def test_prefix_stream_is_grammatical_and_nested(rhm, P, seed):
    full = rhm.sample_prefix(P, seed)
    assert_tree_is_grammatical(rhm, full)
    for height in range(rhm.L + 1):
        part = rhm.sample_prefix(P, seed, height)
        assert part.L == height
        for j in range(height + 1):  # level j of the prefix = the first s**(height-j) symbols
            np.testing.assert_array_equal(part[j], full[j][:, : rhm.s ** (height - j)])


@settings(max_examples=15, deadline=None)
@given(grammars(max_L=3), st.integers(1, 2 * BLOCK_SIZE + 50), st.integers(1, 5000), st.integers(0, 100))
def test_prefix_stream_chunked_and_one_shot_agree(rhm, P, chunk_size, seed):
    height = rhm.L - 1
    whole = rhm.sample_prefix(P, seed, height)
    chunks = list(rhm.iter_prefix(P, seed, height, chunk_size=chunk_size))
    assert all(len(c) <= chunk_size for c in chunks)
    joined = RHMSample.concatenate(chunks)
    for level in range(height + 1):
        np.testing.assert_array_equal(joined[level], whole[level])
    tokens = np.concatenate(list(rhm.iter_prefix(P, seed, height, chunk_size=chunk_size, tokens_only=True)))
    np.testing.assert_array_equal(tokens, whole.tokens)


@pytest.mark.parametrize("m", [4, 32])  # two-level tables / plain path
def test_prefix_stream_has_the_rhm_distribution(m):
    """Same law as the i.i.d. stream: uniform root and productions at every level (chi-square),
    and the same joint law of the first and last tokens (two-sample chi-square)."""
    rhm = RHM(v=8, m=m, s=3, L=3, seed=1)
    assert (rhm._pair_tables is None) == (m == 32)
    sample = rhm.sample_prefix(60_000, seed=5)
    assert stats.chisquare(np.bincount(sample.root, minlength=8)).pvalue > 1e-3
    for level in range(rhm.L):
        production = rhm.production_table(level)[encode_tuples(sample[level], 3, 8)]
        assert stats.chisquare(np.bincount(production.ravel(), minlength=m)).pvalue > 1e-3
    other = rhm.sample(60_000, seed=5)
    assert (other.tokens != sample.tokens).any()  # an independent stream
    pair = [np.bincount(x.tokens[:, 0] * 8 + x.tokens[:, -1], minlength=64) for x in (sample, other)]
    table = np.array(pair)
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_prefix_stream_rejects_bad_height():
    rhm = RHM(8, 3, 2, 4, seed=0)
    with pytest.raises(ValueError, match="height"):
        rhm.sample_prefix(10, 0, height=5)
    with pytest.raises(ValueError, match="height"):
        next(rhm.iter_prefix(10, 0, height=-1))
    assert rhm.sample_prefix(0, 0, 2).tokens.shape == (0, 4)


def test_root_and_rule_choices_are_uniform():
    """Chi-square tests at a fixed seed: root uniform over v, productions uniform over m."""
    rhm = RHM(v=8, m=4, s=2, L=4, seed=3)  # uses the two-level fast path
    sample = rhm.sample(100_000, seed=11)
    root_counts = np.bincount(sample.root, minlength=rhm.v)
    assert stats.chisquare(root_counts).pvalue > 1e-3
    for level in range(rhm.L):
        codes = encode_tuples(sample[level], rhm.s, rhm.v)
        production = rhm.production_table(level)[codes]
        counts = np.bincount(production.ravel(), minlength=rhm.m)
        assert stats.chisquare(counts).pvalue > 1e-3
        # P[T = nu] = P[parent = par(nu)] / m: within each parent class the m synonyms are
        # equiprobable (only asymptotically is every tuple at 1/(v m): lower-level marginals
        # are not exactly uniform).  Pooled chi-square with v(m-1) degrees of freedom.
        tuple_counts = np.bincount(codes.ravel(), minlength=rhm.v**rhm.s)[rhm.grammatical_codes(level)]
        per_parent = tuple_counts.reshape(rhm.v, rhm.m)
        expected = per_parent.mean(axis=1, keepdims=True)
        chi2 = ((per_parent - expected) ** 2 / expected).sum()
        assert stats.chi2.sf(chi2, rhm.v * (rhm.m - 1)) > 1e-3


def test_odd_depth_and_large_grammars_are_uniform_too():
    rhm = RHM(v=8, m=32, s=3, L=3, seed=0)  # too large for the two-level tables: plain path
    assert rhm._pair_tables is None
    sample = rhm.sample(50_000, seed=2)
    assert_tree_is_grammatical(rhm, sample)
    production = rhm.production_table(0)[encode_tuples(sample[0], 3, 8)]
    assert stats.chisquare(np.bincount(production.ravel(), minlength=32)).pvalue > 1e-3


def test_spec_grids_generate_without_overflow():
    """L=5, s=3 has 8*32**121 strings: no int64 index may appear on the i.i.d. path."""
    rhm = RHM(v=8, m=32, s=3, L=5, seed=0)
    sample = rhm.sample(100, seed=0)
    assert_tree_is_grammatical(rhm, sample)
    distinct = rhm.sample(500, seed=1, distinct=True)
    assert np.unique(distinct.tokens, axis=0).shape[0] == 500


# ---------------------------------------------------------------- bijection and enumeration
@settings(max_examples=30, deadline=None)
@given(grammars(max_L=3))
def test_decode_is_a_bijection_onto_grammatical_strings(rhm):
    if rhm.n_strings > 20_000:
        return
    every, probs = rhm.enumerate()
    assert len(every) == rhm.n_strings
    assert np.unique(every.tokens, axis=0).shape[0] == rhm.n_strings  # injective
    assert_tree_is_grammatical(rhm, every)  # onto grammatical strings (count matches)
    np.testing.assert_allclose(probs.sum(), 1.0)


def test_distinct_sampling_is_exhaustive_and_uniform():
    rhm = RHM(v=3, m=2, s=2, L=2, seed=0)  # 3 * 2**3 = 24 strings
    every = rhm.sample(rhm.n_strings, seed=5, distinct=True)
    assert np.unique(every.tokens, axis=0).shape[0] == rhm.n_strings
    # Each string appears in a random half-size subset with probability 1/2.
    hits = np.zeros(rhm.n_strings)
    index = {row.tobytes(): i for i, row in enumerate(rhm.enumerate()[0].tokens)}
    for seed in range(400):
        for row in rhm.sample(12, seed=seed, distinct=True).tokens:
            hits[index[row.tobytes()]] += 1
    assert stats.chisquare(hits).pvalue > 1e-3


def test_distinct_stream_matches_one_shot():
    rhm = RHM(8, 3, 2, 4, seed=0)
    joined = RHMSample.concatenate(list(rhm.iter_samples(5000, 3, chunk_size=777, distinct=True)))
    np.testing.assert_array_equal(joined.tokens, rhm.sample(5000, 3, distinct=True).tokens)


def test_enumerate_refuses_large_grammars():
    with pytest.raises(ValueError, match="max_strings"):
        RHM(8, 4, 2, 4, seed=0).enumerate()


# ---------------------------------------------------------------- interventions
@settings(max_examples=25, deadline=None)
@given(grammars(), st.data())
def test_synonym_swap_keeps_upper_levels_and_stays_grammatical(rhm, data):
    level = data.draw(st.integers(1, rhm.L))
    sample = rhm.sample(200, seed=1)
    swapped = rhm.synonym_swap(sample, level, seed=2)
    assert_tree_is_grammatical(rhm, swapped)
    for upper in range(level, rhm.L + 1):
        np.testing.assert_array_equal(swapped[upper], sample[upper])


def test_synonym_swap_excluding_current_always_changes_the_tuple():
    rhm = RHM(8, 4, 2, 4, seed=0)
    sample = rhm.sample(1000, seed=1)
    for level in range(1, rhm.L + 1):
        swapped = rhm.synonym_swap(sample, level, seed=3, exclude_current=True)
        old = encode_tuples(sample[level - 1], 2, 8)
        new = encode_tuples(swapped[level - 1], 2, 8)
        assert (old != new).all()
        np.testing.assert_array_equal(rhm.parent_table(level - 1)[new], sample[level])
    plain = rhm.synonym_swap(sample, 1, seed=3)
    same = (encode_tuples(plain[0], 2, 8) == encode_tuples(sample[0], 2, 8)).mean()
    assert abs(same - 1 / rhm.m) < 0.02  # kept with probability 1/m


def test_generic_swap_is_an_independent_sample():
    rhm = RHM(8, 4, 2, 4, seed=0)
    sample = rhm.sample(500, seed=1)
    other = rhm.generic_swap(sample, seed=2)
    assert len(other) == 500 and (other.tokens != sample.tokens).any()
    assert_tree_is_grammatical(rhm, other)


# ---------------------------------------------------------------- encodings
def test_encodings():
    rhm = RHM(5, 2, 2, 3, seed=0)
    tokens = rhm.sample(7, seed=0).tokens
    x = one_hot(tokens, rhm.v)
    assert x.shape == (7, 5, 8) and x.dtype == np.float32
    np.testing.assert_array_equal(x.sum(axis=1), 1)
    np.testing.assert_array_equal(x.argmax(axis=1), tokens)
    mask = np.zeros(tokens.shape, dtype=bool)
    mask[:, 3] = True
    ids = token_ids(tokens, rhm.v, mask)
    assert (ids[:, 3] == mask_id(5)).all() and mask_id(5) == 5 and pad_id(5) == 6
    np.testing.assert_array_equal(ids[:, :3], tokens[:, :3])
    with pytest.raises(ValueError, match="tokens must"):
        one_hot(tokens, 3)
    with pytest.raises(ValueError, match="mask must"):
        token_ids(tokens, 5, mask[:, :2])


def test_encode_tuples():
    seq = np.array([[1, 2, 0, 3]])
    np.testing.assert_array_equal(encode_tuples(seq, 2, 4), [[1 * 4 + 2, 0 * 4 + 3]])
    with pytest.raises(ValueError, match="seq must"):
        encode_tuples(np.zeros((2, 5)), 2, 4)


def test_regroup_top_gives_the_same_strings_with_other_roots():
    rhm = RHM(v=3, m=2, s=2, L=2, seed=0)
    other = rhm.regroup_top(seed=1)
    a, _ = rhm.enumerate()
    b, _ = other.enumerate()
    assert {r.tobytes() for r in a.tokens} == {r.tobytes() for r in b.tokens}
    for level in range(rhm.L - 1):
        np.testing.assert_array_equal(rhm.rules[level], other.rules[level])
    np.testing.assert_array_equal(np.sort(rhm.grammatical_codes(1)), np.sort(other.grammatical_codes(1)))
    assert_tree_is_grammatical(other, other.sample(100, seed=0))


@settings(max_examples=20, deadline=None)
@given(grammars())
def test_parse_recovers_the_whole_tree(rhm):
    sample = rhm.sample(100, seed=3)
    parsed = rhm.parse(sample.tokens)
    for level in range(rhm.L + 1):
        np.testing.assert_array_equal(parsed[level], sample[level])


def test_parse_rejects_ungrammatical_strings():
    rhm = RHM(4, 1, 2, 2, seed=0)  # f = 1/4: most tuples are not grammatical
    bad = np.zeros((1, 4), dtype=np.uint8)
    bad[0] = [t for t in range(4) if rhm.parent_table(0)[t] < 0][0]  # code t < 4 is the tuple (0, t)
    bad[0, 0::2] = 0
    with pytest.raises(ValueError, match="grammatical"):
        rhm.parse(bad)
