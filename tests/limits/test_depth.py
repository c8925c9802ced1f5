"""Wen-Liang-Lu's serial depth (issue #39; WLL0, WLL3-WLL6, WLL8, WLL9 of ../shared/THEORY.md, read in arXiv
2608.25505): the zero-error depth by dynamic programming against the paper's numbers, its examples and bounds; the
bisection schedule exact on order-m Markov laws; the walk's contiguous scans and the permutations' batch costs against
refimpl's exact laws of the same fixed schedules."""
import itertools
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.laws import examples as E
from refimpl.limits import adaptive_optima, fixed_set_optima, step_size_optima
from refimpl.limits.depth import bisection_schedule, zero_error_depth
from scipy import stats

LOG2 = math.log(2)


def schedule_kl(table, sets):
    """KL(p || q) of the fixed schedule ``sets`` with the oracle, in nats (refimpl's exact law)."""
    q = refimpl.exact_law(refimpl.oracle_denoiser(table), refimpl.samplers.FixedOrder(sets), table.ndim, table.shape[0])
    return refimpl.kl(table, q)


def contiguous(sizes):
    edges = np.cumsum([0] + list(sizes))
    return [list(range(a, b)) for a, b in zip(edges[:-1], edges[1:])]


def compositions(n):
    for cuts in itertools.product((0, 1), repeat=n - 1):
        sizes, run = [], 1
        for cut in cuts:
            if cut:
                sizes.append(run)
                run = 1
            else:
                run += 1
        yield sizes + [run]


@pytest.mark.parametrize("n, expected", [(1, 1.0), (2, 2.0), (3, 2.0), (4, 2.75), (5, 2.875), (6, 3.0)])
def test_WLL5_the_walks_zero_error_depths(n, expected):
    """WLL5 (§V-A): the Bernoulli walk's D_0 for n = 1..6 (n = 7's 3 in the slow tier: tests/tiers.py)
    (proofs/serial_depth.md)."""
    assert zero_error_depth(E.walk(n)) == pytest.approx(expected, abs=1e-12)


def test_WLL5_the_walks_zero_error_depth_at_seven():
    assert zero_error_depth(E.walk(7)) == pytest.approx(3.0, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 3), st.integers(2, 4))
def test_WLL0_WLL9_the_depths_order_and_their_examples(seed, vocab_size, length):
    """WLL0: D_0 <= Dbar_0 <= n; WLL9: independent coordinates have D_0 = 1, a copy chain 2, an affine subspace at
    most 2, a full-support generic law n. (proofs/serial_depth.md)"""
    rng = np.random.default_rng(seed)
    generic = rng.dirichlet(np.ones(vocab_size ** length)).reshape((vocab_size,) * length)
    assert zero_error_depth(generic) == pytest.approx(length) == zero_error_depth(generic, worst=True)
    independent = refimpl.datasets.product(rng.dirichlet(np.ones(vocab_size), size=length)).table
    assert zero_error_depth(independent) == 1.0
    maps = [rng.permutation(vocab_size) for _ in range(length - 1)]
    copy = np.zeros((vocab_size,) * length)
    for x in range(vocab_size):
        path = [x]
        for f in maps:
            path.append(int(f[path[-1]]))
        copy[tuple(path)] = 1.0 / vocab_size
    assert zero_error_depth(copy) == (1.0 if length == 1 else 2.0)
    matrix = rng.integers(0, 3, size=(length, 2))
    assert zero_error_depth(E.subspace(matrix, 3)) <= 2.0 + 1e-12
    table = rng.dirichlet(np.full(vocab_size ** length, 0.3)).reshape((vocab_size,) * length)
    assert zero_error_depth(table) <= zero_error_depth(table, worst=True) + 1e-12 <= length + 1e-12


@pytest.mark.parametrize("order, length", [(1, 4), (1, 6), (2, 5), (2, 6), (3, 6)])
def test_WLL3_bisection_is_exact_on_an_order_m_markov_law(order, length):
    """WLL3 (Theorem 2): recursive bisection by m-blocks has KL = 0 on an order-m Markov law, in at most
    m(ceil(log2(n/m)) + 1) rounds. (proofs/serial_depth.md)"""
    table = E.markov_order(order, 2, length, np.random.default_rng(length + order))
    sets = bisection_schedule(length, order)
    assert sorted(sum(sets, [])) == list(range(length))
    assert len(sets) <= order * (math.ceil(math.log2(length / order)) + 1)
    assert schedule_kl(table, sets) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_WLL4_the_walk_bisection_and_contiguous_scans(n):
    """WLL4 (Theorem 3): bisection is exact in ceil(log2(n+1)) rounds; every contiguous scan with batches B_t has
    KL = sum_t sum_{j=1}^{B_t} H(Bin(j, 1/2)) - n bits >= (n/2) log2(n/R) - c_0 n, c_0 = 1 + log2(e/pi)/2.  The
    proof's printed sum over j < B_t is a misprint: it gives -n bits for one-token batches (e.g. n = 1)
    (proofs/serial_depth.md)."""
    walk = E.walk(n)
    sets = bisection_schedule(n)
    assert len(sets) == math.ceil(math.log2(n + 1)) and schedule_kl(walk, sets) == pytest.approx(0.0, abs=1e-12)
    c0 = 1 + 0.5 * math.log2(math.e / math.pi)
    binomial = [stats.binom(j, 0.5).entropy() / LOG2 for j in range(n + 1)]
    for sizes in compositions(n):
        kl_bits = schedule_kl(walk, contiguous(sizes)) / LOG2
        statement = sum(sum(binomial[1:b + 1]) for b in sizes) - n
        printed = sum(sum(binomial[1:b]) for b in sizes) - n
        assert kl_bits == pytest.approx(statement, abs=1e-10)
        assert kl_bits >= n / 2 * math.log2(n / len(sizes)) - c0 * n - 1e-10
        if all(b == 1 for b in sizes):
            assert printed == pytest.approx(-n) and kl_bits == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n", [3, 4, 5])
def test_WLL6_a_permutations_cost_is_its_batch_sizes_and_the_three_optima_agree(n):
    """WLL6 (Remark 6, Theorem 7, Proposition 1, Lemma 8): any fixed schedule's KL on uniform permutations is
    sum_t g(M_t, B_t) bits, g(M, B) = log2(M^B/(M)_B), whatever the positions; E_{n,R} (min over compositions) is each
    of refimpl's optima at R steps (step sizes, fixed sets, adaptive); F_{n,R} = E_{n,R} + log2 n! follows its
    recursion; g(M,B) - g(M,A) - g(M-A,B-A) = (B - A) log2(M/(M-A)). (proofs/serial_depth.md)"""
    perm = E.permutations(n)
    g = lambda m, b: math.log2(m ** b / math.perm(m, b))  # noqa: E731
    best = {}
    for sizes in compositions(n):
        remaining = n - np.cumsum([0] + sizes[:-1])
        cost = sum(g(int(m), b) for m, b in zip(remaining, sizes))
        shuffled = np.random.default_rng(len(sizes)).permutation(n)
        sets = [sorted(int(shuffled[i]) for i in s) for s in contiguous(sizes)]  # other positions, same sizes
        assert schedule_kl(perm, sets) / LOG2 == pytest.approx(cost, abs=1e-10)
        best[len(sizes)] = min(best.get(len(sizes), np.inf), cost)
    a, b, c = step_size_optima(perm), fixed_set_optima(perm), adaptive_optima(perm).kls
    for r in range(1, n + 1):
        assert a[r - 1][0] / LOG2 == pytest.approx(best[r], abs=1e-10)
        assert b[r - 1][0] / LOG2 == pytest.approx(best[r], abs=1e-10)
        assert c[r - 1] / LOG2 == pytest.approx(best[r], abs=1e-10)
    for m, big_a, big_b in [(5, 1, 3), (6, 2, 4)]:
        assert g(m, big_b) - g(m, big_a) - g(m - big_a, big_b - big_a) == pytest.approx(
            (big_b - big_a) * math.log2(m / (m - big_a)), abs=1e-12)
    assert best_cost(n, 1) + math.log2(math.factorial(n)) == pytest.approx(n * math.log2(n), abs=1e-10)  # F_{n,1}


def best_cost(n, r):
    """E_{n,R} by brute force over the compositions of n into r parts."""
    g = lambda m, b: math.log2(m ** b / math.perm(m, b))  # noqa: E731
    costs = [sum(g(int(m), b) for m, b in zip(n - np.cumsum([0] + s[:-1]), s)) for s in compositions(n) if len(s) == r]
    return min(costs)


@pytest.mark.parametrize("n", [6, 8, 10])
def test_WLL6_the_recursion_and_pairs_first(n):
    """WLL6: F_{n,R} = min_{R-1 <= m <= n-1} {(n - m) log2 n + F_{m,R-1}}, F_{n,1} = n log2 n (Proposition 1);
    3s <= n gives E_{n,n-s} = sum_{j<s} log2((n-2j)/(n-2j-1)) (Theorem 9: pairs first). (proofs/serial_depth.md)"""
    def F(m, r):
        return best_cost(m, r) + math.log2(math.factorial(m))

    for r in range(2, min(n, 5) + 1):
        assert F(n, r) == pytest.approx(min((n - m) * math.log2(n) + F(m, r - 1) for m in range(r - 1, n)),
                                        abs=1e-9)
    for s in range(0, n // 3 + 1):
        assert best_cost(n, n - s) == pytest.approx(sum(math.log2((n - 2 * j) / (n - 2 * j - 1)) for j in range(s)),
                                                    abs=1e-10)


@pytest.mark.parametrize("blocks, block_length", [(2, 2), (2, 3), (3, 2)])
def test_WLL8_one_hot_blocks_clear_in_block_length_rounds(blocks, block_length):
    """WLL8 (Theorem 12's search schedule): independent one-hot blocks have Dbar_0 <= the block length
    (proofs/serial_depth.md)."""
    assert zero_error_depth(E.one_hot_blocks(blocks, block_length), worst=True) <= block_length + 1e-12


def permutation_profile(n, rounds):
    """(E_{n,R} in bits, an optimal composition) by dynamic programming over (remaining, rounds left)."""
    g = lambda m, b: math.log2(m ** b / math.perm(m, b))  # noqa: E731
    best = {(0, 0): (0.0, [])}
    for r in range(1, rounds + 1):
        for m in range(r, n + 1):
            options = [(g(m, b) + best[(m - b, r - 1)][0], [b] + best[(m - b, r - 1)][1])
                       for b in range(1, m - r + 2) if (m - b, r - 1) in best]
            best[(m, r)] = min(options)
    return best[(n, rounds)]


@pytest.mark.parametrize("n, profile", [(8, [3, 2, 2, 1]), (16, [6, 5, 3, 2]), (32, [12, 9, 7, 4])])
def test_WLL6_the_optimal_four_round_profiles(n, profile):
    """WLL6: the optimal 4-round batch profiles on uniform permutations (3,2,2,1) for n = 8, (6,5,3,2) for 16,
    (12,9,7,4) for 32 — the least cost over compositions (nonincreasing, Proposition 1(i)), found here by dynamic
    programming and checked against brute force where it is small (proofs/serial_depth.md)."""
    cost, found = permutation_profile(n, 4)
    assert found == profile
    if n == 8:
        assert cost == pytest.approx(best_cost(8, 4), abs=1e-12)


@pytest.mark.parametrize("n", [4, 6, 8])
def test_WLL6_every_trajectory_pays_at_least_log_n_over_r(n):
    """WLL6 (Proposition 3, Theorem 6's step 3): every composition into R rounds costs sum_t g(M_t, B_t) >=
    log2(n/R) and >= (n/R - 1)/(2 ln 2) bits (proofs/serial_depth.md)."""
    g = lambda m, b: math.log2(m ** b / math.perm(m, b))  # noqa: E731
    for sizes in compositions(n):
        cost = sum(g(int(m), b) for m, b in zip(n - np.cumsum([0] + sizes[:-1]), sizes))
        assert cost >= math.log2(n / len(sizes)) - 1e-12
        assert cost >= (n / len(sizes) - 1) / (2 * math.log(2)) - 1e-12


def test_a_law_too_large_is_refused_before_the_search():
    with pytest.raises(refimpl.MemoryLimitError, match="the zero-error depth"):
        with refimpl.memory_limit(10**6):
            zero_error_depth(np.full((2,) * 10, 2.0 ** -10))
