"""Info-Gain at a token temperature (issue #37, rule R10): the kernels of the committed action's law against a brute
enumeration of every candidate sequence, the dynamic programme against the temperature-0 closed form, and the
sampler against its original's loop (tests/originals.py) at T > 0."""
import functools
import itertools

import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl import samplers as S
from refimpl.samplers.kernels.candidates import committed_law, drawn_candidate_law, first_candidate_law
from refimpl.samplers.kernels.tokens import temper
from refimpl.samplers.steps.lookahead import InfoGainStep

from tests import originals
from tests.samplers.test_info_gain import MODEL, TABLE, L, V, loop  # the same law, model and loop


def random_rows(seed, sources=2, count=3, vocab_size=2):
    rng = np.random.default_rng(seed)
    mu = rng.dirichlet(np.ones(vocab_size), size=(sources, count))
    mu[1, 1] = mu[1, 0]  # two positions with the same probabilities: confidences tie
    return mu, rng.dirichlet(np.ones(vocab_size), size=(sources, count))


def brute_first(mu, q, tie):
    """Every token vector: its probability to the most confident position under ``tie`` (split evenly for random)."""
    sources, count, vocab_size = mu.shape
    out = np.zeros(mu.shape)
    for n, y in itertools.product(range(sources), itertools.product(range(vocab_size), repeat=count)):
        chance = np.prod([q[n, k, y[k]] for k in range(count)])
        conf = np.array([mu[n, k, y[k]] for k in range(count)])
        top = np.flatnonzero(conf == conf.max())
        if tie == "exclude" and top.size > 1:
            continue
        chosen = {"lowest": top[:1], "highest": top[-1:], "random": top, "exclude": top}[tie]
        for j in chosen:
            out[n, j, y[j]] += chance / chosen.size
    return out


@pytest.mark.parametrize("tie", ["lowest", "highest", "random", "exclude"])
def test_candidate_zero_is_the_most_confident_of_its_own_draws(tie):
    mu, q = random_rows(1)
    np.testing.assert_allclose(first_candidate_law(mu, q, tie), brute_first(mu, q, tie), atol=1e-15)
    if tie != "exclude":
        np.testing.assert_allclose(first_candidate_law(mu, q, tie).sum(axis=(1, 2)), 1.0, atol=1e-14)


def test_a_drawn_candidate_is_a_softmax_of_its_own_confidences():
    mu, q = random_rows(2)
    tau = 0.3
    out = np.zeros(mu.shape)
    for n, y in itertools.product(range(2), itertools.product(range(2), repeat=3)):
        chance = np.prod([q[n, k, y[k]] for k in range(3)])
        weights = np.exp(np.array([mu[n, k, y[k]] for k in range(3)]) / tau)
        for j in range(3):
            out[n, j, y[j]] += chance * weights[j] / weights.sum()
    np.testing.assert_allclose(drawn_candidate_law(mu, q, tau), out, atol=1e-15)


def brute_committed(first, drawn, score, candidates):
    """Every sequence of candidate actions: repeats of a position dropped, the first of the best scores committed."""
    sources, count, vocab_size = first.shape
    out = np.zeros(first.shape)
    for n in range(sources):
        f, d, s = first[n].reshape(-1), drawn[n].reshape(-1), score[n].reshape(-1)
        for sequence in itertools.product(range(count * vocab_size), repeat=candidates):
            chance = f[sequence[0]] * np.prod(d[list(sequence[1:])])
            kept = []
            for a in sequence:
                if all(a // vocab_size != b // vocab_size for b in kept):
                    kept.append(a)
            best = kept[int(np.argmax(s[kept]))]
            out[n, best // vocab_size, best % vocab_size] += chance
    return out


@pytest.mark.parametrize("candidates", [1, 2, 4])
def test_the_committed_action_law_is_every_candidate_sequence_summed(candidates):
    mu, q = random_rows(3)
    first, drawn = first_candidate_law(mu, q), drawn_candidate_law(mu, q, 0.5)
    score = np.random.default_rng(4).normal(size=mu.shape)
    score[0, 0, 1] = score[0, 2, 0]  # a tie in J: the earlier candidate wins
    np.testing.assert_allclose(committed_law(first, drawn, score, candidates),
                               brute_committed(first, drawn, score, candidates), atol=1e-15)


@pytest.mark.parametrize("tie", ["lowest", "highest", "random"])
def test_at_temperature_0_the_programme_is_the_closed_form(tie):
    """One-hot drawing laws (the argmax) in the dynamic programme give the closed form of InfoGainStep.choice_law."""
    rng = np.random.default_rng(5)
    mu = rng.dirichlet(np.ones(3), size=(6, 4))
    mu[:3, 2] = mu[:3, 0]  # ties in confidence
    score = rng.normal(size=(6, 4))
    score[::2, 3] = score[::2, 1]  # and in score
    step = InfoGainStep(tuple([True] * 4), candidates_per_step=5, position_temperature=0.4, tie=tie)
    conf, tokens = mu.max(axis=2), np.argmax(mu, axis=2)
    closed = sum(weight[:, None] * step.choice_law(conf, score, first) for weight, first in step._firsts(conf))
    q = temper(mu, 0.0)
    law = committed_law(first_candidate_law(mu, q, tie), drawn_candidate_law(mu, q, 0.4),
                        np.repeat(score[:, :, None], 3, axis=2), 5)
    np.testing.assert_allclose(law.sum(axis=2), closed, atol=1e-13)
    assert np.all(law[np.arange(6)[:, None], np.arange(4)[None, :], tokens] == law.sum(axis=2))  # argmax tokens only


@pytest.mark.parametrize("settings, prompt", [
    (dict(steps=4, temperature=1.0, threshold=0.0, position_temperature=0.5), None),
    (dict(steps=4, temperature=0.7, threshold=0.5, candidates=3), None),
    (dict(steps=4, temperature=1.0, block_length=2, variant="lookum", position_temperature=1.0, original="dllm"),
     None),
    (dict(steps=3, temperature=1.0, candidates=4, threshold=0.0, tie="highest"), np.array([2, V, V, V])),
])
def test_the_loop_at_a_temperature_matches_the_exact_law_and_calls(settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded (the loop's ties: its first-occurrence argmax, which
    continuous draws meet with probability 0 here)."""
    loop_settings = {k: v for k, v in settings.items() if k != "tie"}
    rt.assert_sampler_matches(loop(**loop_settings), S.InfoGain(**settings), MODEL, TABLE, n=1000, seed=3,
                              prompt=prompt, blind_spots="ignore")


def test_the_temperature_check_can_fail():
    """The loop at T = 1 against the law at T = 0.4 (TV 0.24)."""
    with pytest.raises(AssertionError, match="do not follow the exact law"):
        rt.assert_sampler_matches(loop(steps=4, temperature=1.0, threshold=0.0), S.InfoGain(4, threshold=0.0,
                                  temperature=0.4), MODEL, TABLE, n=1000, seed=3, blind_spots="ignore")


def test_one_candidate_at_a_temperature_is_llada_one_at_a_time_and_the_bypass_draws():
    """candidates = 1: the most confident of the drawn tokens, one a step — LLaDA's low-confidence rule at the same
    temperature (its confidence is the untempered probability of its Gumbel draw); a bypass at threshold 0 fills the
    block at once with independent draws: the product of the tempered marginals."""
    one = S.InfoGain(4, candidates=1, threshold=0.0, temperature=0.8)
    np.testing.assert_allclose(refimpl.exact_law(MODEL, one, L, V),
                               refimpl.exact_law(MODEL, S.LLaDA(4, temperature=0.8), L, V), atol=1e-14)
    marginals = temper(MODEL(np.full((1, L), V))[0], 0.8)
    product = functools.reduce(np.multiply.outer, marginals)
    bypass = S.InfoGain(4, threshold=1e-9, temperature=0.8)
    np.testing.assert_allclose(refimpl.exact_law(MODEL, bypass, L, V), product, atol=1e-14)


@pytest.mark.parametrize("settings, prompt", [
    (dict(steps=4, threshold=0.0, position_temperature=0.5), None),
    (dict(steps=4, temperature=1.0, candidates=3, position_temperature=1.0), None),
    (dict(steps=3, temperature=0.7, threshold=0.0, original="dllm"), np.array([2, V, V, V])),
])
def test_the_lookahead_rows_are_the_loops_batch_sizes(settings, prompt):
    """refimpl.engine.calls.expected_rows against the mean of the batch sizes the loop's lookahead calls evaluate:
    a normal interval at level 1e-3 (seeded), which two candidates per step would fail."""
    from refimpl.engine.calls import expected_rows
    from scipy import stats

    exact = expected_rows(MODEL, S.InfoGain(**settings), L, V, prompt=prompt)
    n = 2000
    rows = np.zeros(n, dtype=np.int64)
    originals.info_gain(MODEL, n, np.random.default_rng(4), L, V, prompt, rows=rows, **settings)
    assert rows.max() > rows.min()  # (the count varies: the check has something to test)
    half = stats.norm.ppf(1 - 1e-3 / 2) * rows.std(ddof=1) / np.sqrt(n)
    assert abs(rows.mean() - exact) <= half, (rows.mean(), exact, half)
    fewer = expected_rows(MODEL, S.InfoGain(**dict(settings, candidates=2)), L, V, prompt=prompt)
    assert abs(rows.mean() - fewer) > half  # the check tells a wrong candidate count apart
