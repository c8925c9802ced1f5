"""The example laws of the theory of parallel decoding (issue #39, build 3): each one's support and closed forms as
the sources state them — ParallelBench's Replace Random and Shuffle (PB3, PB4), Chen-Cong-Li's subspaces and
Reed-Solomon codes (CCL6, CCL7), Wen-Liang-Lu's one-hot blocks (WLL8) — against refimpl's exact quantities."""
import itertools
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.laws import examples as E
from refimpl.laws import metrics
from refimpl.limits import ugc


def rank_mod(matrix, q):
    """The rank of an integer matrix over F_q (q prime), by Gaussian elimination."""
    m = np.array(matrix, dtype=np.int64) % q
    rank = 0
    for col in range(m.shape[1]):
        pivot = next((r for r in range(rank, m.shape[0]) if m[r, col]), None)
        if pivot is None:
            continue
        m[[rank, pivot]] = m[[pivot, rank]]
        m[rank] = m[rank] * pow(int(m[rank, col]), q - 2, q) % q
        for r in range(m.shape[0]):
            if r != rank and m[r, col]:
                m[r] = (m[r] - m[r, col] * m[rank]) % q
        rank += 1
    return rank


def test_the_supports_are_the_named_sets():
    assert np.count_nonzero(E.walk(4)) == 16 and E.walk(3)[0, 1, 2] == pytest.approx(1 / 8)
    assert np.count_nonzero(E.permutations(4)) == 24 and np.count_nonzero(E.balanced(6)) == 20
    assert np.count_nonzero(E.one_hot_blocks(2, 3)) == 9 and np.count_nonzero(E.reed_solomon(4, 2, 5)) == 25
    assert np.count_nonzero(E.repeated_bit(5, 3)) == 3
    for table in (E.walk(3), E.noisy_repeated_bit(4, 0.2), E.markov_order(2, 2, 5, np.random.default_rng(0))):
        assert table.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_PB3_replace_random_and_shuffle_have_their_total_correlations(n):
    """PB3 (in nats): Replace Random (one uniform one-hot block) C = (n-1)(log n - log(n-1)); Shuffle C = n log n -
    log n!, and with the pairs as the fixed partition L_{n/2} = log(n!!/(n-1)!!)."""
    assert refimpl.total_correlation(E.one_hot_blocks(1, n)) == pytest.approx((n - 1) * math.log(n / (n - 1)),
                                                                              abs=1e-12)
    shuffle = E.permutations(n)
    assert refimpl.total_correlation(shuffle) == pytest.approx(n * math.log(n) - math.lgamma(n + 1), abs=1e-12)
    if n % 2 == 0:
        pairs = [[2 * t, 2 * t + 1] for t in range(n // 2)]
        double = lambda m: math.prod(range(m, 0, -2))  # noqa: E731
        assert sum(metrics.reveal_decomposition(shuffle, pairs)) == pytest.approx(
            math.log(double(n) / double(n - 1)), abs=1e-12)


@pytest.mark.parametrize("n, k", [(4, 1), (4, 2), (4, 4), (6, 2), (6, 3)])
def test_PB4_random_k_decodes_a_permutation_with_the_stated_accuracy(n, k):
    """PB4: top-k random positions on Shuffle give a permutation with probability prod_i P(m_i, k) / m_i^k,
    m_i = n - (i-1)k — the mass refimpl's exact law of RandomK(k) puts on permutations."""
    shuffle = E.permutations(n)
    law = refimpl.exact_law(refimpl.oracle_denoiser(shuffle), refimpl.samplers.RandomK(k), n, n)
    expected = math.prod(math.perm(n - i * k, k) / (n - i * k) ** k for i in range(n // k))
    assert law[shuffle > 0].sum() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("matrix, q", [([[1, 0], [0, 1], [1, 1]], 2), ([[1, 0], [0, 1], [0, 0]], 2),
                                       ([[1, 2], [0, 1], [1, 1], [2, 0]], 3), ([[1], [2], [0]], 3),
                                       ([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], 2)])
def test_CCL6_a_subspace_has_its_total_and_dual_total_correlation(matrix, q):
    """CCL6 (Ex. 1): uniform on a d-dimensional subspace {M u} of F_q^n: TC = (n - d - k) log q with k the zero rows
    of M, DTC = (d - l) log q with l the rows outside the span of the others."""
    n, d = len(matrix), rank_mod(matrix, q)
    zero = sum(1 for row in matrix if not any(v % q for v in row))
    outside = sum(1 for i in range(n) if rank_mod([r for j, r in enumerate(matrix) if j != i], q) < d)
    table = E.subspace(matrix, q)
    assert refimpl.total_correlation(table) == pytest.approx((n - d - zero) * math.log(q), abs=1e-12)
    assert refimpl.dual_total_correlation(table) == pytest.approx((d - outside) * math.log(q), abs=1e-12)


@pytest.mark.parametrize("n, k, q", [(4, 2, 5), (3, 2, 3), (5, 3, 5), (3, 1, 3)])
def test_CCL7_a_reed_solomon_code_reveals_nothing_until_k_positions(n, k, q):
    """CCL7 (Prop. 20): on an MDS code every position is uniform given fewer than k others, so Z_j = log q [j > k];
    RS[4, 2] over F_5 has TC = DTC = 2 log 5."""
    table = E.reed_solomon(n, k, q)
    np.testing.assert_allclose(ugc.increments(table), math.log(q) * (np.arange(1, n + 1) > k), atol=1e-12)
    if (n, k, q) == (4, 2, 5):
        assert refimpl.total_correlation(table) == pytest.approx(2 * math.log(5), abs=1e-12)
        assert refimpl.dual_total_correlation(table) == pytest.approx(2 * math.log(5), abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(2, 4))
def test_CCL6_a_mixture_of_m_products_has_dual_total_correlation_at_most_log_m(seed, m, length):
    """CCL6 (Austin, Prop. 8.1): a mixture of m product laws has DTC <= log m."""
    rng = np.random.default_rng(seed)
    parts = [refimpl.datasets.product(rng.dirichlet(np.full(2, 0.3), size=length)).table for _ in range(m)]
    table = E.mixture(parts, rng.dirichlet(np.ones(m)))
    assert refimpl.dual_total_correlation(table) <= math.log(m) + 1e-12


@pytest.mark.parametrize("M", [2, 3, 5, 8])
def test_WLL8_a_batch_in_a_one_hot_block_costs_its_closed_form(M):
    """WLL8 (Lemma 10), in nats: k candidates of an unresolved one-hot block of M have
    TC = k h(1/M) - h(k/M) - (k/M) log k (h the binary entropy), and TC >= ((k-1)/M)^2 / (2e)."""
    table = E.one_hot_blocks(1, M)
    h = lambda x: 0.0 if x in (0, 1) else -x * math.log(x) - (1 - x) * math.log(1 - x)  # noqa: E731
    for k in range(1, M + 1):
        closed = k * h(1 / M) - h(k / M) - (k / M) * math.log(k)
        assert refimpl.total_correlation(table, positions=list(range(k))) == pytest.approx(closed, abs=1e-12)
        assert closed >= ((k - 1) / M) ** 2 / (2 * math.e) - 1e-12


@pytest.mark.parametrize("call, match", [
    (lambda: E.balanced(5), "even"), (lambda: E.subspace([[1, 0]], 4), "prime"),
    (lambda: E.reed_solomon(6, 2, 5), "k <= n <= q"), (lambda: E.markov_order(3, 2, 3, np.random.default_rng(0)),
                                                        "below the length"),
    (lambda: E.mixture([np.full((2, 2), 0.25)], [0.5]), "summing to 1"), (lambda: E.noisy_repeated_bit(3, 1.5), "eta")])
def test_bad_input_is_one_clear_error(call, match):
    with pytest.raises(refimpl.RefimplError, match=match):
        call()


def test_every_example_is_exact_on_its_smallest_instances():
    """The walk's law by its definition: every bit string once, each x_i the running sum."""
    for n in (1, 2, 3):
        expected = np.zeros((n + 1,) * n)
        for z in itertools.product((0, 1), repeat=n):
            expected[tuple(np.cumsum(z))] += 2.0 ** -n
        np.testing.assert_allclose(E.walk(n), expected, atol=1e-15)


def test_the_examples_are_named_data_laws():
    """``refimpl ... --data walk`` etc.: the named laws are the examples (V implied where the example fixes it)."""
    for name, expected in (("walk", E.walk(3)), ("permutation", E.permutations(3)), ("balanced", E.balanced(4)),
                           ("onehot", E.one_hot_blocks(1, 3)), ("repeated", E.repeated_bit(3, 3))):
        length = 4 if name == "balanced" else 3
        np.testing.assert_array_equal(refimpl.datasets.named(name, 3, length).table, expected)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_PB4_replace_random_in_one_step_and_shuffle_under_a_threshold(n):
    """PB4: Replace Random (one one-hot block) decoded in one step at temperature 1 is a one-hot vector with
    probability ((n-1)/n)^(n-1); Shuffle under a confidence threshold above 1/2 reveals one token per round and always
    outputs a permutation."""
    onehot = E.one_hot_blocks(1, n)
    law = refimpl.exact_law(refimpl.oracle_denoiser(onehot), refimpl.samplers.RandomK(n), n, 2)
    assert law[onehot > 0].sum() == pytest.approx(((n - 1) / n) ** (n - 1), abs=1e-12)
    shuffle = E.permutations(n)
    sampler = refimpl.samplers.Threshold(0.6, temperature=1.0)
    law = refimpl.exact_law(refimpl.oracle_denoiser(shuffle), sampler, n, n)
    assert law[shuffle > 0].sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_PB3_copy_given_its_input_is_a_point_mass(n):
    """PB3: Copy costs nothing — given the input half as a prompt, the output half is determined (C = 0), and one
    step decodes it exactly."""
    table = E.copy_task(n, 2)
    prompt = [1] * n + [2] * n  # the input all ones, the copy masked (V = 2: the mask is 2)
    assert refimpl.total_correlation(table, np.array(prompt), positions=list(range(n, 2 * n))) == 0.0
    law = refimpl.exact_law(refimpl.oracle_denoiser(table), refimpl.samplers.RandomK(n), 2 * n, 2, prompt=prompt)
    assert law[(1,) * (2 * n)] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(refimpl.datasets.named("copy", 2, 2 * n).table, table)
    with pytest.raises(refimpl.RefimplError, match="even length"):
        refimpl.datasets.named("copy", 2, 3)
