"""Samplers: Monte Carlo against the exact law, and the theorems of proofs/ as property tests."""
import itertools

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl import samplers as S
from refimpl.laws import datasets, metrics
from refimpl.testing.strategies import laws

from tests.helpers import engine_run, random_table, sampler_law_and_denoisers

FALSE_ALARM = 1e-3  # per chi-square test below; every test is seeded, so a run is reproducible
N_SAMPLES = 20000

TABLE, DENOISERS = sampler_law_and_denoisers()


@given(laws(max_states=81, min_length=2), st.data())
def test_one_parallel_step_samples_the_product_of_conditional_marginals(table, data):
    """proofs/factorization_barrier.md (a): one step revealing S draws prod_{i in S} mu_i, and the best
    product law is the conditional marginals, at KL = TC(X_S | z)."""
    vocab_size, length = table.shape[0], table.ndim
    support = np.argwhere(table > 0)
    x = support[data.draw(st.integers(0, len(support) - 1))]
    reveal = data.draw(st.lists(st.booleans(), min_size=length, max_size=length).filter(lambda r: sum(r) >= 1))
    prompt = np.where(reveal, vocab_size, x)
    chosen = [i for i in range(length) if reveal[i]]
    q = refimpl.exact_law(refimpl.oracle_denoiser(table), S.FixedOrder([chosen]), length, vocab_size, prompt=prompt)
    mu = refimpl.conditional_marginals(table, prompt)
    expected = datasets.product(mu).table  # clean positions are one-hot rows
    np.testing.assert_allclose(q, expected, atol=1e-13)
    target = metrics.conditioned(table, prompt)
    tc = refimpl.total_correlation(table, prompt)
    assert refimpl.kl(target, q) == pytest.approx(tc, abs=1e-10)
    rows = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).dirichlet(np.ones(vocab_size), size=length)
    rows[~np.array(reveal)] = np.eye(vocab_size)[x[~np.array(reveal)]]
    assert refimpl.kl(target, datasets.product(rows).table) >= tc - 1e-10


ONE_AT_A_TIME = [S.LeftToRight(), S.FirstHitting(), S.RandomK(1), S.SemiAR(2, S.RandomK(1)),
                 S.LLaDA(4, remasking="random", temperature=1.0), S.SemiAR(1, S.Dream(1, "entropy", 1.0))]


@settings(max_examples=15)
@given(laws(max_states=256, min_length=4, max_length=4), st.sampled_from(ONE_AT_A_TIME),
       st.permutations(range(4)))
def test_one_token_per_step_in_a_value_independent_order_is_exact(table, sampler, order):
    """proofs/one_token_exact.md: the chain rule."""
    vocab_size = table.shape[0]
    oracle = refimpl.oracle_denoiser(table)
    for smp in (sampler, S.FixedOrder([[i] for i in order])):
        q = refimpl.exact_law(oracle, smp, 4, vocab_size)
        assert refimpl.tv(table, q) < 1e-12


def ordered_partitions(positions, sizes):
    """All ordered set partitions of ``positions`` with block sizes ``sizes`` (each once)."""
    seen = set()
    for perm in itertools.permutations(positions):
        blocks, start = [], 0
        for size in sizes:
            blocks.append(tuple(sorted(perm[start:start + size])))
            start += size
        key = tuple(blocks)
        if key not in seen:
            seen.add(key)
            yield key


@given(laws(max_states=256, min_length=2), st.data())
def test_fixed_schedule_kl_is_the_sum_of_conditional_total_correlations(table, data):
    """proofs/kl_decomposition.md: KL(p || q) = sum_k E[TC(X_{S_k} | X_{S<k})] for a fixed schedule."""
    vocab_size, length = table.shape[0], table.ndim
    order = data.draw(st.permutations(range(length)))
    cuts = sorted(data.draw(st.sets(st.integers(1, length - 1), max_size=length - 1)))
    sets = [order[a:b] for a, b in zip([0] + cuts, cuts + [length])]
    q = refimpl.exact_law(refimpl.oracle_denoiser(table), S.FixedOrder(sets), length, vocab_size)
    assert refimpl.kl(table, q) == pytest.approx(sum(metrics.reveal_decomposition(table, sets)), abs=1e-10)


@pytest.mark.parametrize("tokens_per_step", [2, [1, 3], [2, 1, 1]])
def test_random_value_independent_schedules_are_mixtures_bounded_by_the_expected_sum(tokens_per_step):
    """RandomK is the uniform mixture of fixed schedules, so by convexity KL <= E[sum of TCs].
    Checks proofs/kl_decomposition.md."""
    table = random_table(np.random.default_rng(12), 3, 4, concentration=0.3)
    oracle = refimpl.oracle_denoiser(table)
    sizes = [tokens_per_step] * (4 // tokens_per_step) if isinstance(tokens_per_step, int) else tokens_per_step
    schedules = list(ordered_partitions(range(4), sizes))
    mixture = np.mean([refimpl.exact_law(oracle, S.FixedOrder(s), 4, 3) for s in schedules], axis=0)
    q = refimpl.exact_law(oracle, S.RandomK(tokens_per_step), 4, 3)
    np.testing.assert_allclose(q, mixture, atol=1e-14)
    expected_sum = np.mean([sum(metrics.reveal_decomposition(table, s)) for s in schedules])
    assert refimpl.kl(table, q) <= expected_sum + 1e-12
    assert refimpl.kl(table, q) < expected_sum - 1e-4  # strictly, for this coupled law


def test_llada_low_confidence_one_token_per_step_is_not_exact():
    """proofs/one_token_exact.md, counterexample: choosing *which* token to reveal by the confidence of the
    drawn value makes the order value-dependent, and the chain rule no longer applies."""
    table = random_table(np.random.default_rng(3), 3, 3, concentration=0.5)
    oracle = refimpl.oracle_denoiser(table)
    q = refimpl.exact_law(oracle, S.LLaDA(3, temperature=1.0), 3, 3)
    assert refimpl.kl(table, q) > 1e-3
    exact = refimpl.exact_law(oracle, S.LLaDA(3, temperature=1.0, remasking="random"), 3, 3)
    assert refimpl.tv(table, exact) < 1e-12


@given(laws(max_states=256, min_length=2))
def test_revealing_everything_at_once_loses_the_total_correlation(table):
    """Checks proofs/factorization_barrier.md."""
    vocab_size, length = table.shape[0], table.ndim
    oracle = refimpl.oracle_denoiser(table)
    tc = refimpl.total_correlation(table)
    for sampler in (S.RandomK(length), S.Ancestral(steps=1), S.LLaDA(1, temperature=1.0),
                    S.FixedOrder([list(range(length))])):
        q = refimpl.exact_law(oracle, sampler, length, vocab_size)
        assert refimpl.kl(table, q) == pytest.approx(tc, abs=1e-10)


def test_metrics_name_incoherent_mass_and_infinite_reverse_kl():
    law = datasets.coupled_pairs()
    q = refimpl.exact_law(refimpl.oracle_denoiser(law), S.RandomK(2), 2, 4)
    m = metrics.law_metrics(law, q)
    assert m["incoherent_mass"] == pytest.approx(0.5) and m["kl_q_p"] == np.inf
    assert m["kl_p_q"] == pytest.approx(np.log(2)) and m["tv"] == pytest.approx(0.5)


@pytest.mark.parametrize("make, needle", [
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.LLaDA(2, block_length=3), 4, 3), "does not divide"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.Threshold(0.5, block_length=3), 4, 3), "does not divide"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.SemiAR(3, S.RandomK(1)), 4, 3), "does not divide"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.LLaDA(3, block_length=2), 4, 3), "multiple of the number of blocks"),
    (lambda: S.RandomK(0), "at least 1"),
    (lambda: S.RandomK([2, 0]), "at least 1"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.RandomK([1, 2]), 4, 3), "adds up to 3"),
    (lambda: S.Threshold(0.0), "threshold must lie in (0, 1]"),
    (lambda: S.Threshold(1.5), "threshold must lie in (0, 1]"),
    (lambda: S.Factor(0.0), "factor must be a finite number > 0"),
    (lambda: S.Factor(float("nan")), "factor must be a finite number > 0"),
    (lambda: S.Factor("much"), "factor must be a finite number > 0"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.Factor(1.0, block_length=3), 4, 3), "does not divide"),
    (lambda: S.LLaDA(4, remasking="high_confidence"), "remasking"),
    (lambda: S.Dream(4, alg="greedy"), "alg"),
    (lambda: S.Dream(4, top_p=0.0), "top_p must lie in (0, 1]"),
    (lambda: S.Dream(4, top_p=1.5), "top_p must lie in (0, 1]"),
    (lambda: S.Dream(4, top_k=0), "top_k must be at least 1"),
    (lambda: S.Dream(4, top_k=1.5), "top_k must be an integer"),
    (lambda: S.Dream(4, "entropy", alg_temp=-1.0), "alg_temp must be finite and >= 0"),
    (lambda: S.LLaDA(4, temperature=-1), "temperature"),
    (lambda: S.Ancestral(steps=4, eps=0.01), "noise_removal"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.RandomK(1), 4, 3, prompt=[3, 3, 3]), "length 4"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.RandomK(1), 4, 3, prompt=[0, 4, 3, 3]), "token 4"),
    (lambda: refimpl.sample(DENOISERS["oracle"], S.RandomK(1), 5, np.random.default_rng(0), 4, 3,
                            prompt=[0, 1, 3]), "length 4"),
    (lambda: refimpl.exact_law(DENOISERS["oracle"], S.RandomK(1), 3, 3), "tabulated denoiser is for V=3, L=4"),
    (lambda: S.FixedOrder([[0, 1], [1]]), "overlap"),
])
def test_bad_sampler_input(make, needle):
    with pytest.raises(refimpl.RefimplError) as info:
        make()
    assert needle in str(info.value)


def test_truncation_follows_dreams_top_p_then_top_k():
    from refimpl.samplers.steps import truncate

    p = np.array([0.5, 0.3, 0.2])
    assert truncate(p) is p and truncate(p, top_p=1.0) is p
    # top_p: kept while the mass ranked ahead is <= top_p; the token crossing it stays, the first always
    np.testing.assert_allclose(truncate(p, top_p=0.6), [0.625, 0.375, 0.0], atol=1e-15)
    np.testing.assert_allclose(truncate(p, top_p=0.5), [0.625, 0.375, 0.0], atol=1e-15)  # 0.5 ahead: kept
    np.testing.assert_allclose(truncate(p, top_p=0.49), [1.0, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(truncate(p, top_p=0.1), [1.0, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(truncate(p, top_p=0.81), p, atol=1e-15)
    np.testing.assert_allclose(truncate(p, top_k=2), [0.625, 0.375, 0.0], atol=1e-15)
    # ties: top_p ranks the lower token first, top_k keeps every token tied with the k-th
    tied = np.array([0.2, 0.4, 0.4])
    np.testing.assert_allclose(truncate(tied, top_p=0.3), [0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(truncate(tied, top_k=1), [0.0, 0.5, 0.5], atol=1e-15)
    # top_k after top_p, counting removed tokens as 0; along any axis
    np.testing.assert_allclose(truncate(p, top_p=0.6, top_k=3), [0.625, 0.375, 0.0], atol=1e-15)
    rows = np.array([[0.5, 0.1], [0.3, 0.2], [0.2, 0.7]])  # tokens on axis 0
    np.testing.assert_allclose(truncate(rows, top_k=1, axis=0), [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]], atol=1e-15)


def test_dream_truncation_at_temperature_0_changes_confidences_not_tokens():
    """Dream's sample_tokens truncates before its argmax: the argmax stays, its probability (the
    confidence) is renormalised — so the order in which positions are committed can change."""
    rows = [np.array([0.52, 0.46, 0.02]), np.array([0.74, 0.13, 0.13]), np.array([0.6, 0.4, 0.0])]
    p = np.einsum("a,b,c->abc", *rows)  # independent positions: every conditional is the marginal
    oracle = refimpl.oracle_denoiser(p)
    first = engine_run(oracle, S.Dream(2, "maskgit_plus", 0.0, eps=0.1), 3, 3, reveals=True)
    second = engine_run(oracle, S.Dream(2, "maskgit_plus", 0.0, eps=0.1, top_p=0.5), 3, 3, reveals=True)
    (q_plain, plain), (q_cut, cut) = (first.law, first.reveals), (second.law, second.reveals)
    # step 1 commits int(3 (1 - 0.55)) = 1 token: untruncated the most confident is position 2 (0.74);
    # top_p = 0.5 keeps only each argmax, every confidence becomes 1 and the tie goes to position 1
    committed = lambda seen: {key: value for key, value in seen.items() if value > 0}  # noqa: E731
    assert committed(plain[0]) == {((0, 1, 2), (1,)): 1.0} and committed(cut[0]) == {((0, 1, 2), (0,)): 1.0}
    assert q_plain[0, 0, 0] == 1.0 and q_cut[0, 0, 0] == 1.0  # the tokens are the argmaxes either way


@given(laws(max_vocab=4, min_length=2, max_length=2))
@settings(max_examples=25, deadline=None)
def test_factor_rule_reveals_the_last_two_masks_together(table):
    """Fast-dLLM's factor rule never commits n - 1 of n: with two masks it commits both, so on L = 2 it
    samples the product of the marginals and loses the total correlation (theorem (e);
    proofs/confidence_rules.md, part 2)."""
    for factor in (0.1, 1.0, 3.0):
        q = refimpl.exact_law(refimpl.oracle_denoiser(table), S.Factor(factor, temperature=1.0), 2, table.shape[0])
        np.testing.assert_allclose(q, np.outer(table.sum(axis=1), table.sum(axis=0)), atol=1e-14)


def test_factor_rule_first_step_on_three_positions_by_enumeration():
    """With three masks the first step commits one token, or all three when the second most confident
    drawn token reaches 1 - factor/3 (rank 2 is the last, so its test does not count;
    proofs/confidence_rules.md, part 2)."""
    rng = np.random.default_rng(3)
    rows = [rng.dirichlet(np.ones(4)) for _ in range(3)]
    table = np.einsum("a,b,c->abc", *rows)  # independent positions: every conditional is the marginal
    for factor, temperature in [(1.0, 1.0), (0.4, 1.0), (1.0, 0.5)]:
        reveals = engine_run(refimpl.oracle_denoiser(table), S.Factor(factor, temperature=temperature), 3, 4,
                                     reveals=True).reveals
        tempered = [r ** (1 / temperature) / np.sum(r ** (1 / temperature)) for r in rows]
        expected = 0.0
        for x in itertools.product(range(4), repeat=3):
            confidence = sorted((rows[i][x[i]] for i in range(3)), reverse=True)
            if confidence[1] >= 1 - factor / 3:
                expected += np.prod([tempered[i][x[i]] for i in range(3)])
        assert reveals[0].get(((0, 1, 2), (0, 1, 2)), 0.0) == pytest.approx(expected, abs=1e-14)
        assert sum(reveals[0].values()) == pytest.approx(1.0, abs=1e-14)
        assert all(len(revealed) in (1, 3) for _, revealed in reveals[0])


def test_dream_alg_temp_limits():
    """alg_temp -> 0 ranks the positions (Dream's topk); alg_temp -> inf picks them uniformly, which is
    RandomK with Dream's counts (here 1 then 3 of 4 masks) — proofs/confidence_rules.md, part 3."""
    oracle = DENOISERS["oracle"]
    ranked = refimpl.exact_law(oracle, S.Dream(2, "maskgit_plus", 0.7), 4, 3)
    nearly_ranked = refimpl.exact_law(oracle, S.Dream(2, "maskgit_plus", 0.7, alg_temp=1e-6), 4, 3)
    np.testing.assert_allclose(nearly_ranked, ranked, atol=1e-12)
    uniform = refimpl.exact_law(oracle, S.RandomK([1, 3], temperature=0.7), 4, 3)
    nearly_uniform = refimpl.exact_law(oracle, S.Dream(2, "maskgit_plus", 0.7, alg_temp=1e9), 4, 3)
    np.testing.assert_allclose(nearly_uniform, uniform, atol=1e-8)
    assert refimpl.tv(ranked, uniform) > 0.05  # the limits differ, so both checks have something to show


def test_sampler_must_be_a_sampler():
    with pytest.raises(refimpl.InvalidTypeError, match="refimpl.samplers"):
        refimpl.exact_law(DENOISERS["oracle"], "llada", 4, 3)


def test_llada_counterexample_of_the_proof():
    """proofs/one_token_exact.md: the hand-computed counterexample, q = (0.65, 0.26, 0, 0.09)."""
    p = np.array([[0.5, 0.2], [0.0, 0.3]])
    q = refimpl.exact_law(refimpl.oracle_denoiser(p), S.LLaDA(2, temperature=1.0), 2, 2)
    np.testing.assert_allclose(q, [[0.65, 0.26], [0.0, 0.09]], atol=1e-15)
    assert refimpl.kl(p, q) == pytest.approx(0.5 * np.log(0.5 / 0.65) + 0.2 * np.log(0.2 / 0.26)
                                             + 0.3 * np.log(0.3 / 0.09), abs=1e-15)
