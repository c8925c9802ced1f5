"""The limits of parallel decoding (issue #23): information quantities against their definitions, the
order-averaged KL against every reveal order's own exact law, the optima against brute force over every
schedule, every sequence of sets and every adaptive policy (L <= 5), and the closed forms."""
import itertools
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from refimpl import limits
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError, MemoryLimitError
from refimpl.laws import datasets
from refimpl.laws.quantities import dual_total_correlation
from refimpl.testing.strategies import laws

from tests.helpers import random_table


def entropy_of(table, positions):
    return refimpl.entropy(refimpl.marginal(table, tuple(sorted(positions)))) if positions else 0.0


def partial_with_clean(length, vocab_size, clean):
    """A partial sequence whose clean set is ``clean`` (tokens 0: only the pattern matters for averages)."""
    z = np.full(length, vocab_size)
    z[list(clean)] = 0
    return z


def test_subset_entropies_are_the_marginals_entropies():
    table = random_table(np.random.default_rng(1), 3, 4, concentration=0.5)
    h = limits.subset_entropies(table)
    for bits in range(16):
        assert h[bits] == pytest.approx(entropy_of(table, [i for i in range(4) if bits >> i & 1]), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(laws(max_vocab=3, max_length=4, min_length=2))
def test_dual_total_correlation_by_its_definition_and_its_bounds(law):
    """DTC = H(X) - sum_i H(X_i | X_rest) from the entropies of marginals; equal to TC for two positions;
    TC <= (n - 1) DTC and DTC <= (n - 1) TC; the average conditional form the mean of the pointwise one."""
    table = np.asarray(law)
    length, vocab_size = table.ndim, table.shape[0]
    every = tuple(range(length))
    whole = entropy_of(table, every)
    dtc = whole - sum(whole - entropy_of(table, [j for j in every if j != i]) for i in every)
    assert dual_total_correlation(table) == pytest.approx(dtc, abs=1e-10)
    tc = refimpl.total_correlation(table)
    assert tc <= (length - 1) * dual_total_correlation(table) + 1e-10
    assert dual_total_correlation(table) <= (length - 1) * tc + 1e-10
    if length == 2:
        assert dual_total_correlation(table) == pytest.approx(tc, abs=1e-10)
    clean = (0,)
    average = dual_total_correlation(table, partial_with_clean(length, vocab_size, clean), average=True)
    first = table.sum(axis=tuple(range(1, length)))
    pointwise = sum(first[v] * dual_total_correlation(table, np.r_[v, np.full(length - 1, vocab_size)])
                    for v in range(vocab_size) if first[v] > 0)
    assert average == pytest.approx(pointwise, abs=1e-10)


def direct_profile(table):
    """e(j, k) as its definition: TC(X_S | X_C) averaged over every C of size j and S of size k disjoint."""
    length, vocab_size = table.ndim, table.shape[0]
    out = {}
    for j in range(length):
        for k in range(1, length - j + 1):
            values = []
            for known in itertools.combinations(range(length), j):
                rest = [i for i in range(length) if i not in known]
                for revealed in itertools.combinations(rest, k):
                    if j == 0:
                        values.append(refimpl.total_correlation(table, positions=revealed))
                    else:
                        z = partial_with_clean(length, vocab_size, known)
                        values.append(refimpl.total_correlation(table, z, positions=revealed, average=True))
            out[j, k] = float(np.mean(values))
    return out


@pytest.mark.parametrize("seed, vocab_size, length", [(0, 2, 5), (1, 3, 4), (2, 4, 3)])
def test_the_profile_is_the_average_conditional_total_correlation(seed, vocab_size, length):
    """proofs/limits.md."""
    table = random_table(np.random.default_rng(seed), vocab_size, length, concentration=0.4)
    e = limits.information_profile(table)
    for (j, k), value in direct_profile(table).items():
        assert e[j, k] == pytest.approx(value, abs=1e-12)


def orders(length, sizes):
    """Every reveal order as the sequence of sets that random-order decoding with ``sizes`` would use."""
    for perm in itertools.permutations(range(length)):
        cut = np.cumsum((0,) + tuple(sizes))
        yield [tuple(perm[cut[t]:cut[t + 1]]) for t in range(len(sizes))]


@pytest.mark.parametrize("sizes", [(4,), (2, 2), (3, 1), (1, 2, 1), (1, 1, 1, 1)])
def test_the_order_averaged_kl_and_the_mixture_over_every_order(sizes):
    """Every order's own exact law (FixedOrder with the oracle): their KLs averaged are the profile's sum; their
    laws averaged are RandomK's exact law; its KL is at most the average (convexity). (proofs/limits.md)"""
    table = random_table(np.random.default_rng(3), 3, 4, concentration=0.4)
    oracle = refimpl.oracle_denoiser(table)
    per_order = [refimpl.exact_law(oracle, S.FixedOrder(sets), 4, 3) for sets in orders(4, sizes)]
    averaged = np.mean([refimpl.kl(table, q) for q in per_order])
    assert limits.order_averaged_kl(table, sizes) == pytest.approx(averaged, abs=1e-12)
    mixture = np.mean(per_order, axis=0)
    np.testing.assert_allclose(limits.random_order_law(table, sizes), mixture, atol=1e-14)
    assert limits.random_order_kl(table, sizes) <= averaged + 1e-12
    both = limits.schedule_law_kls(table, [(0.25, sizes), (0.75, (1, 1, 1, 1))])
    assert both["order_averaged"] == pytest.approx(0.25 * averaged, abs=1e-12)
    exact = refimpl.kl(table, 0.25 * mixture + 0.75 * limits.random_order_law(table, (1, 1, 1, 1)))
    assert both["random_order"] == pytest.approx(exact, abs=1e-12)


def compositions(length, steps):
    for cuts in itertools.combinations(range(1, length), steps - 1):
        edges = (0,) + cuts + (length,)
        yield tuple(b - a for a, b in zip(edges, edges[1:]))


def ordered_partitions(positions, steps):
    """Every sequence of ``steps`` nonempty disjoint sets covering ``positions``."""
    if steps == 1:
        yield [tuple(positions)]
        return
    for size in range(1, len(positions) - steps + 2):
        for first in itertools.combinations(positions, size):
            rest = [i for i in positions if i not in first]
            for tail in ordered_partitions(rest, steps - 1):
                yield [first] + tail


@pytest.mark.parametrize("vocab_size, length", [(3, 4), (2, 5)])
def test_step_sizes_and_fixed_sets_against_brute_force(vocab_size, length):
    """(a) against every composition of L; (b) against every sequence of T sets, each's KL from the engine's
    exact law of FixedOrder with the oracle. (proofs/limits.md)"""
    table = random_table(np.random.default_rng(5), vocab_size, length, concentration=0.4)
    oracle = refimpl.oracle_denoiser(table)
    a, b = limits.step_size_optima(table), limits.fixed_set_optima(table)
    for steps in range(1, length + 1):
        kls = {sizes: limits.order_averaged_kl(table, sizes) for sizes in compositions(length, steps)}
        assert a[steps - 1][0] == pytest.approx(min(kls.values()), abs=1e-12)
        assert kls[a[steps - 1][1]] == pytest.approx(a[steps - 1][0], abs=1e-12)
        fixed = [refimpl.kl(table, refimpl.exact_law(oracle, S.FixedOrder(sets), length, vocab_size))
                 for sets in ordered_partitions(list(range(length)), steps)]
        assert b[steps - 1][0] == pytest.approx(min(fixed), abs=1e-12)
        chosen = refimpl.exact_law(oracle, S.FixedOrder(b[steps - 1][1]), length, vocab_size)
        assert refimpl.kl(table, chosen) == pytest.approx(b[steps - 1][0], abs=1e-12)


def policy_laws(table, z, steps):
    """Every deterministic adaptive policy from the partial sequence z with ``steps`` left, as the law over
    complete sequences it produces (an array (V,)*L), by enumeration: each first set, then every combination
    of sub-policies, one per outcome of that set."""
    vocab_size, length = table.shape[0], table.ndim
    masked = [i for i in range(length) if z[i] == vocab_size]
    if not masked:
        out = np.zeros(table.shape)
        out[tuple(z)] = 1.0
        return [out]
    conditional = refimpl.conditional_marginals(table, z) if refimpl.marginal(
        table, [i for i in range(length) if i not in masked])[tuple(z[i] for i in range(length) if i not in masked)] \
        > 0 else np.full((length, vocab_size), 1.0 / vocab_size)
    laws_out = []
    for size in range(1, len(masked) + 1) if steps > 1 else [len(masked)]:
        for revealed in itertools.combinations(masked, size):
            outcomes = list(itertools.product(range(vocab_size), repeat=size))
            subs = []
            for tokens in outcomes:
                nxt = z.copy()
                nxt[list(revealed)] = tokens
                subs.append(policy_laws(table, nxt, steps - 1))
            weights = [math.prod(conditional[i, v] for i, v in zip(revealed, tokens)) for tokens in outcomes]
            for combo in itertools.product(*subs):
                laws_out.append(sum(w * q for w, q in zip(weights, combo)))
    return laws_out


@pytest.mark.parametrize("length, max_steps", [(3, 3), (4, 4), (5, 3)])
def test_the_adaptive_optimum_against_every_policy(length, max_steps):
    """(c) against the least KL over every deterministic adaptive policy (each policy's own law), V = 2; the
    optimum's own law has its KL; (c) <= (b) <= (a), all zero at T = L. (proofs/limits.md)"""
    table = random_table(np.random.default_rng(length), 2, length, concentration=0.4)
    c = limits.adaptive_optima(table)
    a, b = limits.step_size_optima(table), limits.fixed_set_optima(table)
    for steps in range(1, max_steps + 1):
        brute = min(refimpl.kl(table, q) for q in policy_laws(table, np.full(length, 2), steps))
        assert c.kls[steps - 1] == pytest.approx(brute, abs=1e-12)
        assert refimpl.kl(table, c.law(steps)) == pytest.approx(c.kls[steps - 1], abs=1e-12)
    for steps in range(length):
        assert c.kls[steps] <= b[steps][0] + 1e-12 <= a[steps][0] + 2e-12
    assert c.kls[-1] == b[-1][0] == a[-1][0] == 0.0


@settings(max_examples=25, deadline=None)
@given(laws(max_vocab=3, max_length=5, min_length=2))
def test_the_optima_are_ordered_and_fall_to_zero(law):
    """proofs/limits.md."""
    table = np.asarray(law)
    rows = limits.parallelism_profile(table)
    for row in rows:
        assert row["adaptive_kl"] <= row["fixed_set_kl"] + 1e-12 <= row["order_averaged_kl"] + 2e-12
        assert row["random_order_kl"] <= row["order_averaged_kl"] + 1e-12
    assert rows[-1]["adaptive_kl"] == rows[-1]["fixed_set_kl"] == rows[-1]["order_averaged_kl"] == 0.0
    for key in ("adaptive_kl", "fixed_set_kl", "order_averaged_kl"):
        values = [row[key] for row in rows]
        assert all(later <= earlier + 1e-12 for earlier, later in zip(values, values[1:]))


def test_closed_forms_product_laws_and_coupled_pairs():
    """A product law: every optimum 0 at T = 1 (the profile is 0).  Two independent coupled pairs (AB or CD at
    positions 0, 1 and again at 2, 3): one step loses 2 log 2; (b) and (c) need exactly two (one of each pair,
    then the rest), and random-order decoding loses at every T < L (any step of two or more may pick a pair
    together).  Parity of 4 bits: one step loses log 2; three positions then one loses nothing, in any order."""
    product = datasets.product(np.array([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    assert np.nanmax(np.abs(limits.information_profile(product))) < 1e-12
    first = limits.parallelism_profile(product)[0]
    assert max(first["order_averaged_kl"], first["fixed_set_kl"], first["adaptive_kl"]) < 1e-12
    pair = np.asarray(datasets.coupled_pairs())
    two = np.einsum("ab,cd->abcd", pair, pair)
    rows = limits.parallelism_profile(two)
    assert rows[0]["adaptive_kl"] == pytest.approx(2 * np.log(2), abs=1e-12)
    assert rows[1]["fixed_set_kl"] < 1e-12 and rows[1]["adaptive_kl"] < 1e-12
    assert sorted(map(sorted, rows[1]["fixed_sets"]))[0] in ([0, 2], [0, 3], [1, 2], [1, 3])
    assert rows[1]["order_averaged_kl"] > 0.1 and rows[1]["random_order_kl"] > 0.1
    assert limits.fewest_steps(rows, 1e-9, "adaptive_kl") == 2 == limits.fewest_steps(rows, 1e-9, "fixed_set_kl")
    assert limits.fewest_steps(rows, 1e-9, "order_averaged_kl") == 4
    assert all(len(row["fixed_sets"]) == row["steps"] and all(row["fixed_sets"]) for row in rows)
    assert limits.fewest_steps(limits.parallelism_profile(pair), 1e-9, "adaptive_kl") == 2
    parity = limits.parallelism_profile(datasets.parity(2, 4))  # any 3 positions independent, the 4th their sum
    assert parity[0]["adaptive_kl"] == pytest.approx(np.log(2), abs=1e-12)
    assert parity[1]["step_sizes"] == [3, 1] and max(parity[1]["order_averaged_kl"], parity[1]["adaptive_kl"]) < 1e-12


def test_the_mixture_can_beat_every_deterministic_policy():
    """Random-order decoding's law is a mixture, and KL is convex: on this law its two-step law is closer to p
    than the best deterministic adaptive policy of two steps. (proofs/limits.md)"""
    table = random_table(np.random.default_rng(0), 3, 4, concentration=0.5)
    two = limits.parallelism_profile(table)[1]
    assert two["random_order_kl"] < two["adaptive_kl"] < two["order_averaged_kl"]


def test_bad_input_is_refused():
    table = random_table(np.random.default_rng(0), 2, 3)
    rows = limits.parallelism_profile(table)
    for epsilon in (0, -1.0, float("nan"), "x"):
        with pytest.raises(InvalidParameterError, match="epsilon must be a finite number > 0"):
            limits.fewest_steps(rows, epsilon, "adaptive_kl")
    with pytest.raises(InvalidParameterError, match="max_steps"):
        limits.adaptive_optima(table, max_steps=0)
    with pytest.raises(InvalidParameterError, match="add up to the length 3"):
        limits.order_averaged_kl(table, (1, 1))
    with pytest.raises(InvalidParameterError, match="weights must be >= 0 and add up to 1"):
        limits.schedule_law_kls(table, [(0.5, (1, 2))])
    big = random_table(np.random.default_rng(0), 3, 9)
    with refimpl.memory_limit(1 << 20):
        with pytest.raises(MemoryLimitError, match="best adaptive policy for V=3, L=9.*operations"):
            limits.adaptive_optima(big)
        with pytest.raises(MemoryLimitError, match="best fixed reveal sets for V=3, L=9"):
            limits.fixed_set_optima(big)
