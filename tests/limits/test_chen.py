"""Chen, Cong and Li's representation, schedules and misprints (issue #39; CCL2, CCL3, CCL5, CCL8-CCL10, LC1, ZC1
of ../shared/THEORY.md, read in the COLT 2026 PDF): each against refimpl's exact order-averaged and mixture KLs and
exact laws of fixed schedules, over random laws; the two printed forms that fail, on their smallest laws."""
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.laws import examples as E
from refimpl.limits import chen, order_averaged_kl, random_order_kl, schedule_law_kls
from refimpl.limits.information import information_profile
from refimpl.limits.ugc import increments
from refimpl.testing.strategies import laws

LAWS = laws(max_vocab=3, max_length=5, min_length=2, zeros=True)


def compositions(n):
    if n == 0:
        yield []
        return
    for first in range(1, n + 1):
        for rest in compositions(n - first):
            yield [first] + rest


@settings(max_examples=20, deadline=None)
@given(LAWS)
def test_CCL3_CCL8_LC1_the_expected_error_of_every_composition_and_its_bounds(table):
    """CCL3 (Theorem 16): the order-averaged KL of sizes s is sum_i sum_j (Z_{N'_{i-1}+j} - Z_{N'_{i-1}+1}), and the
    mixture's KL is at most it; CCL8/LC1 (Theorem 31): <= sum_i (s_i - 1)(Z_{N'_i} - Z_{N'_{i-1}}) <= (s_max - 1) Z_n
    <= (2^ceil(log2 s_max) - 1)(TC + DTC)/n (proofs/chen.md)."""
    n = table.ndim
    for sizes in compositions(n):
        averaged = order_averaged_kl(table, sizes)
        assert chen.schedule_error(table, sizes) == pytest.approx(averaged, abs=1e-12)
        first, second, third = chen.li_cai_chain(table, sizes)
        assert averaged <= first + 1e-12 <= second + 2e-12 <= third + 3e-12
    for sizes in ([n], [1] * n, [2] + [1] * (n - 2)):
        assert random_order_kl(table, sizes) <= order_averaged_kl(table, sizes) + 1e-12


@settings(max_examples=12, deadline=None)
@given(laws(max_vocab=2, max_length=8, min_length=6, zeros=True), st.sampled_from([0.05, 0.2, 0.6]),
       st.sampled_from([1.0, 1.7]))
def test_CCL5_the_tc_and_dtc_schedules_meet_theorem_9(table, eps, over):
    """CCL5 (Theorem 9): with estimates >= the truth, the TC schedule has E_S KL <= (eps/TC^) sum_{j<n} Z_j <= eps and
    the DTC schedule E_S KL <= (eps/DTC^) sum_j (Z_n - Z_j) <= eps, each in k <= 2 + (1 + log n)(1 + ceil(est/eps))
    steps (proofs/chen.md)."""
    n, z = table.ndim, increments(table)
    tc, dtc = refimpl.total_correlation(table), refimpl.dual_total_correlation(table)
    for estimate, schedule, middle in ((over * tc, chen.tc_schedule, z[:-1].sum()),
                                       (over * dtc, chen.dtc_schedule, (z[-1] - z).sum())):
        if estimate <= 0:
            continue
        sizes = schedule(n, estimate, eps)
        assert sum(sizes) == n and min(sizes) >= 1
        assert len(sizes) <= 2 + (1 + math.log(n)) * (1 + math.ceil(estimate / eps))
        assert order_averaged_kl(table, sizes) <= eps / estimate * middle + 1e-12
        assert eps / estimate * middle <= eps + 1e-12


@pytest.mark.parametrize("n", [3, 4, 5])
def test_CCL9_corollary_34s_printed_equality_only_bounds(n):
    """CCL9 (Corollary 34's proof): for k - 1 unit steps then one of n - k + 1, the printed KL = (n-k+1)(Z_n - Z_k) is
    only an upper bound; the exact value is sum_{j=1}^{n-k+1} (Z_{k-1+j} - Z_k).  Smallest law where the printed
    equality fails at k = 2: V = 2, L = 3, the parity (exact log 2, printed 2 log 2) (proofs/chen.md)."""
    rng = np.random.default_rng(n)
    for table in (refimpl.datasets.parity(2, n).table, rng.dirichlet(np.full(3 ** n, 0.4)).reshape((3,) * n)):
        z = np.concatenate([[0.0], increments(table)])
        for k in range(2, n + 1):
            exact = order_averaged_kl(table, [1] * (k - 1) + [n - k + 1])
            assert exact == pytest.approx(sum(z[k - 1 + j] - z[k] for j in range(1, n - k + 2)), abs=1e-12)
            assert exact <= (n - k + 1) * (z[n] - z[k]) + 1e-12
    parity = refimpl.datasets.parity(2, 3).table
    assert order_averaged_kl(parity, [1, 2]) == pytest.approx(math.log(2), abs=1e-12)
    z = increments(parity)
    assert 2 * (z[2] - z[1]) == pytest.approx(2 * math.log(2), abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(laws(max_vocab=3, max_length=3, min_length=1, zeros=True), st.integers(0, 2**32 - 1), st.floats(0.05, 0.6))
def test_CCL10_lemma_35_holds_with_the_laws_swapped_back(table, seed, mix):
    """CCL10 (Lemma 35): along fixed sets, KL(p || nu_hat) = KL(p || nu) + the learning error, nu from the oracle and
    nu_hat from a learned one; printed with nu and nu_hat swapped, which fails whenever the learned oracle errs
    (already at V = 2, L = 1) (proofs/chen.md)."""
    rng = np.random.default_rng(seed)
    n, vocab_size = table.ndim, table.shape[0]
    order = rng.permutation(n).tolist()
    cut = int(rng.integers(1, n + 1))
    sets = [order[:cut]] + ([order[cut:]] if cut < n else [])
    learned = refimpl.testing.perturbed_oracle(table, mix, seed)
    sampler = refimpl.samplers.FixedOrder(sets)
    nu = refimpl.exact_law(refimpl.oracle_denoiser(table), sampler, n, vocab_size)
    nu_hat = refimpl.exact_law(learned, sampler, n, vocab_size)
    error = chen.learning_error(table, learned, sets)
    assert refimpl.kl(table, nu_hat) == pytest.approx(refimpl.kl(table, nu) + error, abs=1e-10)
    assert error > 0  # so the printed KL(p || nu) = KL(p || nu_hat) + error fails


@settings(max_examples=15, deadline=None)
@given(LAWS, st.integers(0, 2**32 - 1))
def test_ZC1_a_size_markov_law_costs_its_recursion(table, seed):
    """ZC1 (DERIVED from CCL3): step sizes drawn independently of the tokens with a law rho(k | j) that depends on the
    number j already revealed average to V(0), V(n) = 0, V(j) = sum_k rho(k | j)[e(j, k) + V(j + k)]; the mixture's KL
    is at most it (proofs/chen.md)."""
    n, rng = table.ndim, np.random.default_rng(seed)
    rho = {j: rng.dirichlet(np.ones(n - j)) for j in range(n)}  # rho[j][k - 1] = P(size k | j revealed)
    e = information_profile(table)
    value = [0.0] * (n + 1)
    for j in range(n - 1, -1, -1):
        value[j] = sum(rho[j][k - 1] * (e[j, k] + value[j + k]) for k in range(1, n - j + 1))
    schedules = []
    for sizes in compositions(n):
        weight, j = 1.0, 0
        for s in sizes:
            weight *= rho[j][s - 1]
            j += s
        schedules.append((weight, sizes))
    found = schedule_law_kls(table, schedules)
    assert found["order_averaged"] == pytest.approx(value[0], abs=1e-12)
    assert found["random_order"] <= value[0] + 1e-12


def test_CCL7_CCL6_the_schedules_on_codes():
    """On RS[4, 2] over F_5 the TC schedule with the true TC and eps = TC meets its bound (a code reveals nothing
    until k positions)."""
    table = E.reed_solomon(4, 2, 5)
    tc = refimpl.total_correlation(table)
    sizes = chen.tc_schedule(4, tc, tc)
    assert order_averaged_kl(table, sizes) <= tc + 1e-12


@settings(max_examples=12, deadline=None)
@given(LAWS, st.integers(0, 2**32 - 1))
def test_ZC1_the_random_sizes_family_outputs_the_mixture_over_size_sequences(table, seed):
    """ZC1: refimpl.samplers.RandomSizes with a size law by number masked outputs exactly the mixture, over the size
    sequences it draws, of random-order decoding's laws; its KL is at most the order-and-size-averaged V(0) and its
    expected calls are the expected number of steps (proofs/chen.md)."""
    n, rng = table.ndim, np.random.default_rng(seed)
    law = tuple(tuple(rng.dirichlet(np.ones(m)).tolist()) for m in range(1, n + 1))
    sampler = refimpl.samplers.RandomSizes(law)
    oracle = refimpl.oracle_denoiser(table)
    q = refimpl.exact_law(oracle, sampler, n, table.shape[0])
    schedules, steps = [], 0.0
    for sizes in compositions(n):
        weight, m = 1.0, n
        for s in sizes:
            weight *= law[m - 1][s - 1]
            m -= s
        schedules.append((weight, sizes))
        steps += weight * len(sizes)
    found = schedule_law_kls(table, schedules)
    assert refimpl.kl(table, q) == pytest.approx(found["random_order"], abs=1e-10)
    assert refimpl.kl(table, q) <= found["order_averaged"] + 1e-12
    assert refimpl.expected_calls(oracle, sampler, n, table.shape[0]) == pytest.approx(steps, abs=1e-12)


@pytest.mark.parametrize("law", [((0.5,),), ((1.0,), (0.7, 0.7)), ((1.0,), (-0.5, 1.5)), "x"])
def test_a_bad_size_law_is_one_clear_error(law):
    with pytest.raises(refimpl.RefimplError):
        refimpl.samplers.RandomSizes(law)
