"""refimpl.expected_calls — the exact expected number of model calls (NFE) of a sampler's original loop —
against the originals' loops counting their calls (tests/originals.py), and against closed forms."""
import dataclasses
import functools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.diffusion import schedules as sch
from refimpl.laws import datasets
from scipy import stats

from tests import originals
from tests.helpers import engine_run, random_denoiser, sampler_law_and_denoisers

_, DENOISERS = sampler_law_and_denoisers()

FALSE_ALARM = 1e-3  # per comparison of a mean number of calls with its exact expectation; seeded
N_SAMPLES = 20000
PROMPT = np.array([2, 3, 3, 3])  # V = 3: token 3 is the mask
INFILL = np.array([3, 1, 3, 3])
FILLED_BLOCK = np.array([3, 3, 0, 1])  # with blocks of 2 the second block holds no mask

CASES = [  # (original counting its calls, the refimpl sampler that claims its semantics, prompt)
    (functools.partial(originals.llada, steps=4, temperature=1.0), S.LLaDA(4, temperature=1.0), None),
    (functools.partial(originals.llada, steps=6, block_length=2, temperature=1.0),
     S.LLaDA(6, block_length=2, temperature=1.0), None),
    (functools.partial(originals.dream, steps=3, alg="maskgit_plus", temperature=1.0),
     S.Dream(3, "maskgit_plus", 1.0), None),
    (functools.partial(originals.fast_dllm, threshold=0.4, temperature=1.0), S.Threshold(0.4, temperature=1.0), None),
    (functools.partial(originals.fast_dllm, threshold=0.6, block_length=2, temperature=0.6),
     S.Threshold(0.6, block_length=2, temperature=0.6), None),
    (functools.partial(originals.fast_dllm, threshold=0.5, temperature=1.0), S.Threshold(0.5, temperature=1.0), PROMPT),
    (functools.partial(originals.fast_dllm, threshold=0.5, block_length=2, temperature=1.0),
     S.Threshold(0.5, block_length=2, temperature=1.0), FILLED_BLOCK),
    (functools.partial(originals.fast_dllm, factor=1.0, temperature=1.0), S.Factor(1.0, temperature=1.0), None),
    (functools.partial(originals.fast_dllm, factor=3.0, temperature=1.0), S.Factor(3.0, temperature=1.0), None),
    (functools.partial(originals.fast_dllm, factor=2.0, block_length=2, temperature=1.0),
     S.Factor(2.0, block_length=2, temperature=1.0), None),
    (functools.partial(originals.mdlm, steps=3), S.Ancestral(steps=3), None),
    (functools.partial(originals.mdlm, steps=6, cache=True), S.Ancestral(steps=6, cache=True), None),
    (functools.partial(originals.mdlm, steps=8, cache=True), S.Ancestral(steps=8, cache=True), INFILL),
    (functools.partial(originals.mdlm, steps=5, eps=1e-3, noise_removal=True, cache=True),
     S.Ancestral(steps=5, eps=1e-3, noise_removal=True, cache=True), PROMPT),
]


@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", CASES, ids=originals.case_name)
def test_expected_calls_agree_with_the_originals_counts(case, which):
    """The originals' loops count their calls; the mean is refimpl's exact expectation (proofs/model_calls.md)."""
    original, sampler, prompt = case
    denoiser = DENOISERS[which]
    exact = refimpl.expected_calls(denoiser, sampler, 4, 3, prompt=prompt)
    calls = np.zeros(N_SAMPLES, dtype=np.int64)
    original(denoiser, N_SAMPLES, np.random.default_rng(5), 4, 3, prompt, calls=calls)
    spread = calls.std(ddof=1)
    if spread == 0:  # a fixed number of calls: it must be the exact one
        assert exact == pytest.approx(calls[0], abs=1e-12)
        return
    z = stats.norm.ppf(1 - FALSE_ALARM / 2)  # two-sided normal interval for the mean of 20000 counts
    assert abs(calls.mean() - exact) <= z * spread / np.sqrt(N_SAMPLES), (calls.mean(), exact)


def _ancestral_cached_calls(sampler, masked):
    """Closed form: a masked position is revealed at step t with probability d_t = m_t - m_{t+1} (the mask
    probabilities of the grid, m_0 = 1; on the float32 grid m_{t+1} = m_t (1 - u_t), u_t the step's unmasking
    probability), independently of the others, so with ``masked`` masks the cached sampler calls the model
    on the first step and after each step that revealed one: 1 + sum (1 - (1 - d)^m)."""
    if sampler.grid == "float64":
        move = sampler.schedule.mask_prob(np.linspace(1.0, sampler.eps, sampler.steps + 1))
    else:
        move = np.cumprod([1.0] + [1.0 - u for u in sampler.unmask_probs()])
    drop = move[:-2] - move[1:-1]  # the steps whose outcome decides a later call
    return 1 + float(np.sum(1 - (1 - drop) ** masked)) + (1 if sampler.noise_removal else 0)


@pytest.mark.parametrize("grid", ["float32", "float64"])
@pytest.mark.parametrize("sampler, prompt, masked", [
    (S.Ancestral(steps=6, cache=True), None, 4),
    (S.Ancestral(sch.Cosine(), steps=9, cache=True), INFILL, 3),
    (S.Ancestral(sch.Cosine(), steps=4, eps=1e-3, noise_removal=True, cache=True), PROMPT, 3),
])
@pytest.mark.parametrize("which", ["oracle", "random"])
def test_mdlm_cache_calls_follow_the_closed_form_for_any_denoiser(sampler, prompt, masked, which, grid):
    """MDLM's cache: 1 + sum_t (1 - (1 - d_t)^m) calls, whatever the denoiser (proofs/model_calls.md (4))."""
    sampler = dataclasses.replace(sampler, grid=grid)
    exact = refimpl.expected_calls(DENOISERS[which], sampler, 4, 3, prompt=prompt)
    expected = _ancestral_cached_calls(sampler, masked)
    assert exact == pytest.approx(expected, rel=1e-12)
    uncached = dataclasses.replace(sampler, cache=False)
    assert refimpl.expected_calls(DENOISERS[which], uncached, 4, 3, prompt=prompt) == sampler.steps + sampler.noise_removal


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("threshold, temperature", [(0.3, 1.0), (0.5, 0.5), (0.8, 2.0)])
def test_threshold_on_two_positions_calls_twice_unless_both_reach_it(seed, threshold, temperature):
    """L = 2, one block: the first call commits the most confident, and the other too iff its drawn token's
    (untempered) probability reaches the threshold; otherwise a second call commits it (proofs/model_calls.md (5))."""
    rng = np.random.default_rng(seed)
    denoiser = random_denoiser(rng, 4, 2, sharpness=1.0)
    mu = denoiser(np.array([[4, 4]]))[0]  # (L, V) at the all-mask start
    drawn = refimpl.samplers.steps.temper(mu, temperature)
    both = np.prod([(drawn[i] * (mu[i] >= threshold)).sum() for i in range(2)])
    sampler = S.Threshold(threshold, temperature=temperature)
    assert refimpl.expected_calls(denoiser, sampler, 2, 4) == pytest.approx(2 - both, abs=1e-14)


def test_threshold_extremes_and_the_factor_rule_on_two_positions():
    table = np.asarray(datasets.dirichlet(3, 4, np.random.default_rng(3), concentration=2.0))
    oracle = refimpl.oracle_denoiser(table)
    assert np.all(table > 0)  # full support: no conditional is 1, so only the most confident is committed at 1
    assert refimpl.expected_calls(oracle, S.Threshold(1.0, temperature=1.0), 4, 3) == pytest.approx(4, abs=1e-12)
    assert refimpl.expected_calls(oracle, S.Threshold(1.0, 2, temperature=1.0), 4, 3) == pytest.approx(4, abs=1e-12)
    tiny = table.min() ** 2  # below every conditional probability: everything goes at the first call
    assert refimpl.expected_calls(oracle, S.Threshold(tiny, temperature=1.0), 4, 3) == pytest.approx(1, abs=1e-12)
    assert refimpl.expected_calls(oracle, S.Threshold(tiny, 2, temperature=1.0), 4, 3) == pytest.approx(2, abs=1e-12)
    pair = datasets.dirichlet(3, 2, np.random.default_rng(4))
    for factor in (0.1, 1.0, 5.0):  # Fast-dLLM's factor rule commits the last two masks together
        assert refimpl.expected_calls(refimpl.oracle_denoiser(pair), S.Factor(factor, temperature=1.0), 2, 3) == 1.0


def test_a_block_the_prompt_fills_costs_one_call_that_reveals_nothing():
    """Fast-dLLM calls the model once in a block before testing whether it is done (proofs/model_calls.md (2))."""
    sampler = S.Threshold(0.5, block_length=2, temperature=1.0)
    by_step = refimpl.expected_calls(DENOISERS["random"], sampler, 4, 3, prompt=FILLED_BLOCK, by_step=True)
    alone = refimpl.expected_calls(DENOISERS["random"], S.Threshold(0.5, temperature=1.0), 4, 3,
                                   prompt=np.array([3, 3, 3, 3]), by_step=True)
    assert len(by_step) == 3 and by_step[0] == by_step[2] == 1.0  # first call of each block
    assert 0 < by_step[1] < 1
    law = refimpl.exact_law(DENOISERS["random"], sampler, 4, 3, prompt=FILLED_BLOCK)
    assert law[:, :, 0, 1].sum() == pytest.approx(1.0, abs=1e-12)
    assert alone[0] == 1.0 and len(alone) == 4


@pytest.mark.parametrize("sampler, calls", [
    (S.LLaDA(4, temperature=1.0), 4), (S.LLaDA(6, block_length=2), 6), (S.Dream(5, "entropy", 1.0), 5),
    (S.RandomK(3), 2), (S.FirstHitting(), 4), (S.LeftToRight(), 4), (S.SemiAR(2, S.RandomK(1)), 4),
    (S.FixedOrder([[0, 1], [2, 3]]), 2), (S.Ancestral(steps=7), 7),
])
def test_samplers_that_call_the_model_every_step(sampler, calls):
    assert refimpl.expected_calls(DENOISERS["oracle"], sampler, 4, 3) == calls


def _calls_from_reveals(reveals, steps):
    """A second computation of the call probabilities: from the engine's reveal statistics
    {(masked before, revealed): probability} instead of the pattern masses and stay probabilities."""
    out, changed = [], 1.0
    for step, seen in zip(steps, reveals):
        eligible = np.asarray(step.eligible, dtype=bool)
        masked = sum(p for (before, _), p in seen.items() if eligible[list(before)].any())
        out.append({"always": 1.0, "if masked": masked, "if changed": changed}[step.calls])
        changed = sum(p for (_, revealed), p in seen.items() if revealed)
    return np.array(out)


@pytest.mark.parametrize("sampler, prompt", [
    (S.Ancestral(steps=5, cache=True), None), (S.Ancestral(sch.Cosine(), steps=7, cache=True), INFILL),
    (S.SemiAR(2, S.Ancestral(steps=3, cache=True)), None), (S.Threshold(0.5, 2, 1.0), FILLED_BLOCK),
    (S.Factor(0.5, temperature=1.0), PROMPT), (S.Dream(4, "maskgit_plus", 1.0, eps=0.3), None),
    (S.LLaDA(6, temperature=1.0), None), (S.LLaDA(6, block_length=2, temperature=1.0, remasking="random"), None),
    (S.LeftToRight(), INFILL),
    (S.Dream(3, "entropy", 1.0, alg_temp=0.5), None),
])
def test_call_probabilities_agree_with_the_reveal_statistics(sampler, prompt):
    """Call probabilities from pattern masses and stay probabilities (refimpl.engine.calls) against a second
    computation from the engine's reveal statistics, and each step's chance of revealing nothing per
    pattern against the same statistics (proofs/model_calls.md (1))."""
    result = engine_run(DENOISERS["random"], sampler, 4, 3, prompt=prompt, reveals=True)
    reveals = result.reveals
    steps = sampler.plan(np.full(4, True) if prompt is None else prompt == 3, np.full(4, True))
    law, calls = refimpl.engine.exact_law_and_calls(DENOISERS["random"], sampler, 4, 3, prompt=prompt)
    assert result.law.tobytes() == law.tobytes()
    np.testing.assert_allclose(calls, _calls_from_reveals(reveals, steps), rtol=0, atol=1e-12)
    for step, seen in zip(steps, reveals):  # each step's chance of revealing nothing, pattern by pattern
        for before in {masked for masked, _ in seen}:
            total = sum(p for (m, _), p in seen.items() if m == before)
            pattern = np.isin(np.arange(4), before)
            assert seen.get((before, ()), 0.0) / total == pytest.approx(step.stay_probability(pattern), abs=1e-12)


def test_ancestral_cache_flag_is_checked():
    with pytest.raises(InvalidParameterError, match="cache must be True or False"):
        S.Ancestral(cache="yes")


@pytest.mark.parametrize("sampler, prompt", [
    (S.Threshold(0.5, temperature=1.0), None), (S.Factor(1.0, block_length=2, temperature=1.0), None),
    (S.Threshold(0.5, block_length=2, temperature=1.0), FILLED_BLOCK), (S.Ancestral(steps=6, cache=True), INFILL),
    (S.SemiAR(2, S.Ancestral(steps=4, cache=True)), None), (S.LLaDA(4, temperature=1.0), None),
])
def test_refimpl_draws_count_the_calls_expected_calls_sums(sampler, prompt):
    """refimpl.engine.draw counts each row's calls by the same rules; the mean is the exact expectation
    (proofs/model_calls.md), and for Fast-dLLM on one block the step call probabilities are the NFE's
    survival function."""
    denoiser = DENOISERS["random"]
    job = refimpl.engine.problem(denoiser, sampler, 4, 3, prompt=prompt)
    calls = refimpl.engine.draw(job, N_SAMPLES, np.random.default_rng(8)).calls
    by_step = refimpl.expected_calls(denoiser, sampler, 4, 3, prompt=prompt, by_step=True)
    spread = calls.std(ddof=1)
    z = stats.norm.ppf(1 - FALSE_ALARM / 2)
    assert abs(calls.mean() - by_step.sum()) <= max(z * spread / np.sqrt(N_SAMPLES), 1e-12)
    if isinstance(sampler, S.Threshold) and prompt is None:  # one block: P(NFE >= t) = P(call at step t)
        survival = np.array([(calls >= t).mean() for t in range(1, 5)])
        observed = np.bincount(calls, minlength=5)[1:]
        expected = -np.diff(np.append(by_step, 0.0)) * N_SAMPLES
        assert survival[0] == 1.0 and np.all(np.diff(survival) <= 0)
        assert stats.chisquare(observed[expected > 0], expected[expected > 0]).pvalue > FALSE_ALARM


def test_the_deprecated_sample_calls_still_counts_and_warns():
    """sample(calls=) (before refimpl.engine.draw): the same counts added in, a DeprecationWarning, bad arrays refused."""
    job = refimpl.engine.problem(DENOISERS["oracle"], S.Threshold(0.5), 4, 3)
    expected = refimpl.engine.draw(job, 10, np.random.default_rng(0)).calls
    calls = np.ones(10, dtype=np.int64)
    with pytest.warns(DeprecationWarning, match="engine.draw"):
        refimpl.sample(DENOISERS["oracle"], S.Threshold(0.5), 10, np.random.default_rng(0), 4, 3, calls=calls)
    np.testing.assert_array_equal(calls, expected + 1)
    with pytest.warns(DeprecationWarning), pytest.raises(refimpl.InvalidTypeError, match="calls must be"):
        refimpl.sample(DENOISERS["oracle"], S.Threshold(0.5), 10, np.random.default_rng(0), 4, 3, calls=np.zeros(9, int))
    with pytest.warns(DeprecationWarning), pytest.raises(refimpl.InvalidTypeError, match="calls must be"):
        refimpl.sample(DENOISERS["oracle"], S.Threshold(0.5), 10, np.random.default_rng(0), 4, 3, calls=[0] * 10)
