"""Exact laws and information quantities against independent computations (enumeration, closed forms)."""
import collections
import itertools

import numpy as np
import pytest
import refimpl
from hypothesis import assume, given
from hypothesis import strategies as st
from refimpl.laws import datasets, space
from refimpl.testing.strategies import laws, laws_with_partial, spaces
from scipy.special import xlogy

from tests.helpers import product_table, random_table


def brute_marginal(table, positions):
    """Marginal by a loop over all sequences (independent of the axis-sum implementation)."""
    vocab_size = table.shape[0]
    out = np.zeros((vocab_size,) * len(positions))
    for x in itertools.product(range(vocab_size), repeat=table.ndim):
        out[tuple(x[i] for i in positions)] += table[x]
    return out


def brute_entropy(table):
    return -float(xlogy(table, table).sum())


@given(laws(), st.data())
def test_marginal_matches_enumeration_and_marginal_of_marginal(table, data):
    length = table.ndim
    outer = data.draw(st.permutations(range(length)).map(lambda perm: perm[: max(1, len(perm) // 2 + 1)]))
    np.testing.assert_allclose(refimpl.marginal(table, outer), brute_marginal(table, outer), atol=1e-15)
    inner_idx = data.draw(st.lists(st.sampled_from(range(len(outer))), unique=True, min_size=1))
    inner = [outer[j] for j in inner_idx]
    via_outer = refimpl.marginal(refimpl.marginal(table, outer), inner_idx)
    np.testing.assert_allclose(via_outer, refimpl.marginal(table, inner), atol=1e-15)


@given(laws_with_partial())
def test_conditionals_sum_to_one_and_equal_joint_over_marginal(case):
    table, partial = case
    vocab_size, length = table.shape[0], table.ndim
    clean = [i for i in range(length) if partial[i] != vocab_size]
    masked = [i for i in range(length) if partial[i] == vocab_size]
    p_clean = brute_marginal(table, clean)[tuple(partial[i] for i in clean)]
    law = refimpl.conditional_law(table, partial)
    assert law.shape == (vocab_size,) * len(masked)
    assert abs(law.sum() - 1.0) < 1e-12
    for x_masked in itertools.product(range(vocab_size), repeat=len(masked)):
        x = np.array(partial)
        x[masked] = x_masked
        assert law[x_masked] == pytest.approx(table[tuple(x)] / p_clean, rel=1e-12, abs=1e-15)
    mu = refimpl.conditional_marginals(table, partial)
    np.testing.assert_allclose(mu.sum(axis=1), 1.0, atol=1e-12)
    for i in range(length):
        if i in masked:
            expected = brute_marginal(table, clean + [i])[tuple(partial[j] for j in clean)] / p_clean
        else:
            expected = np.eye(vocab_size)[partial[i]]
        np.testing.assert_allclose(mu[i], expected, rtol=1e-12, atol=1e-15)


@given(laws())
def test_chain_rule(table):
    """Checks proofs/one_token_exact.md."""
    vocab_size, length = table.shape[0], table.ndim
    total = 0.0
    for i in range(length):
        for prefix in itertools.product(range(vocab_size), repeat=i):
            partial = list(prefix) + [vocab_size] * (length - i)
            weight = brute_marginal(table, list(range(i)))[prefix] if i else 1.0
            if weight == 0:
                continue
            cond = refimpl.conditional_marginals(table, partial)[i]
            total += weight * brute_entropy(cond)
    assert refimpl.entropy(table) == pytest.approx(total, abs=1e-12)
    assert refimpl.entropy(table) == pytest.approx(brute_entropy(table), abs=1e-13)


@given(laws())
def test_total_correlation_is_kl_to_product_of_marginals_and_zero_only_for_products(table):
    """Checks proofs/factorization_barrier.md."""
    rows = np.stack([brute_marginal(table, [i]) for i in range(table.ndim)])
    prod = product_table(rows)
    tc = refimpl.total_correlation(table)
    assert tc >= -1e-13
    assert tc == pytest.approx(float(np.sum(xlogy(table, table) - xlogy(table, prod))), abs=1e-12)
    assert tc >= 2 * refimpl.tv(table, prod) ** 2 - 1e-12  # Pinsker: TC = 0 forces p = product
    assert refimpl.total_correlation(prod) == pytest.approx(0.0, abs=1e-12)
    assert refimpl.total_correlation(datasets.product(rows)) == pytest.approx(0.0, abs=1e-12)


@given(laws_with_partial())
def test_averaged_conditional_tc_is_the_mean_of_pointwise_values(case):
    table, partial = case
    vocab_size, length = table.shape[0], table.ndim
    clean = [i for i in range(length) if partial[i] != vocab_size]
    weights = brute_marginal(table, clean)
    expected = 0.0
    for x_clean in itertools.product(range(vocab_size), repeat=len(clean)):
        if weights[x_clean] > 0:
            z = np.array(partial)
            z[clean] = x_clean
            expected += weights[x_clean] * refimpl.total_correlation(table, z)
    assert refimpl.total_correlation(table, partial, average=True) == pytest.approx(expected, abs=1e-12)


@given(laws(min_length=2), st.data())
def test_mutual_information_and_tc_of_a_pair_agree(table, data):
    a, b = data.draw(st.permutations(range(table.ndim)))[:2]
    mi = refimpl.mutual_information(table, a, b)
    assert mi == pytest.approx(refimpl.total_correlation(table, positions=(a, b)), abs=1e-12)
    pair = brute_marginal(table, [a, b])
    prod = np.outer(pair.sum(1), pair.sum(0))
    assert mi == pytest.approx(float(np.sum(xlogy(pair, pair) - xlogy(pair, prod))), abs=1e-12)


@given(laws(zeros=False), st.integers(0, 2**32 - 1))
def test_kl_is_nonnegative_zero_iff_equal_and_tv_in_unit_interval(table, seed):
    other = random_table(np.random.default_rng(seed), table.shape[0], table.ndim)
    assert refimpl.kl(table, table) == 0.0
    d, t = refimpl.kl(table, other), refimpl.tv(table, other)
    assert d >= 2 * t**2 - 1e-12  # Pinsker, so KL = 0 forces equality
    assert 0.0 <= t <= 1.0
    assert t == pytest.approx(0.5 * sum(abs(a - b) for a, b in zip(table.ravel(), other.ravel())))
    assert d == pytest.approx(sum(a * np.log(a / b) for a, b in zip(table.ravel(), other.ravel()) if a > 0))


def test_kl_is_infinite_off_support_and_tv_reaches_one():
    p = np.array([1.0, 0.0])
    q = np.array([0.0, 1.0])
    assert refimpl.kl(p, q) == np.inf and refimpl.tv(p, q) == 1.0


@given(spaces(max_vocab=4, max_length=4), st.integers(1, 60), st.data())
def test_empirical_law_reproduces_counts(vl, n, data):
    vocab_size, length = vl
    rows = data.draw(st.lists(st.lists(st.integers(0, vocab_size - 1), min_size=length, max_size=length),
                              min_size=n, max_size=n))
    law = datasets.empirical(rows, vocab_size=vocab_size)
    counts = collections.Counter(tuple(r) for r in rows)
    for x in itertools.product(range(vocab_size), repeat=length):
        assert law.counts[x] == counts.get(x, 0)
        assert law.table[x] == counts.get(x, 0) / n
    assert int(law.counts.sum()) == n


@given(st.integers(2, 5), st.integers(2, 5))
def test_parity_closed_forms(vocab_size, length):
    assume(vocab_size**length <= 4000)
    law = datasets.parity(vocab_size, length)
    assert refimpl.entropy(law) == pytest.approx((length - 1) * np.log(vocab_size), abs=1e-12)
    assert refimpl.total_correlation(law) == pytest.approx(np.log(vocab_size), abs=1e-12)
    # any L-1 positions are independent and uniform
    dropped = tuple(range(1, length))
    np.testing.assert_allclose(refimpl.marginal(law, dropped), vocab_size ** -(length - 1), atol=1e-15)


@given(st.integers(2, 5), st.integers(1, 5))
def test_uniform_and_product_closed_forms(vocab_size, length):
    assume(vocab_size**length <= 4000)
    uniform = np.full((vocab_size,) * length, float(vocab_size) ** -length)
    assert refimpl.entropy(uniform) == pytest.approx(length * np.log(vocab_size), abs=1e-12)
    rows = np.random.default_rng(vocab_size * 10 + length).dirichlet(np.ones(vocab_size), size=length)
    law = datasets.product(rows)
    assert refimpl.total_correlation(law) == pytest.approx(0.0, abs=1e-12)
    assert refimpl.entropy(law) == pytest.approx(sum(brute_entropy(r) for r in rows), abs=1e-12)


def test_markov_chain_matches_product_of_transitions():
    rng = np.random.default_rng(5)
    pi0 = rng.dirichlet(np.ones(3))
    trans = rng.dirichlet(np.ones(3), size=3)
    law = datasets.markov_chain(pi0, trans, 4)
    for x in itertools.product(range(3), repeat=4):
        expected = pi0[x[0]] * np.prod([trans[a, b] for a, b in zip(x[:-1], x[1:])])
        assert law.table[x] == pytest.approx(expected, rel=1e-13)
    pi = datasets.stationary(trans)
    np.testing.assert_allclose(pi @ trans, pi, atol=1e-13)


def test_dirichlet_is_seeded_and_law_is_read_only():
    a = datasets.dirichlet(3, 3, np.random.default_rng(1), concentration=0.5)
    b = datasets.dirichlet(3, 3, np.random.default_rng(1), concentration=0.5)
    np.testing.assert_array_equal(a.table, b.table)
    with pytest.raises(ValueError):
        a.table[0, 0, 0] = 1.0
    assert np.asarray(a) is a.table


def test_coupled_pairs_law():
    law = datasets.coupled_pairs()
    assert law.table[0, 1] == 0.5 and law.table[2, 3] == 0.5 and law.table.sum() == 1.0
    assert refimpl.total_correlation(law) == pytest.approx(np.log(2))
    assert [space.decode(i, 4, 2).tolist() for i in np.flatnonzero(law.table.ravel())] == [[0, 1], [2, 3]]


def test_a_law_crosses_to_a_worker_process_whole():
    """A Law sent to a process pool (pickled in transit, never to a file) is rebuilt equal and still read-only."""
    import pickle

    law = refimpl.datasets.empirical(np.array([[0, 1], [1, 1], [1, 0]]), vocab_size=2, name="three")
    back = pickle.loads(pickle.dumps(law))
    np.testing.assert_array_equal(back.table, law.table)
    np.testing.assert_array_equal(back.counts, law.counts)
    assert back.name == "three"
    with pytest.raises(AttributeError, match="immutable"):
        back.name = "other"
