"""sglang's LowConfidence with its per-request sampling (issue #37, rules R12 and R14): refimpl's exact law and calls
against the loop re-written from its code (tests/originals.py), and the vLLM dllm-plugin's LLaDA2.0 default policy
as LowConfidence(0.01, final_call=False)."""
import functools

import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl import samplers as S

from tests import originals
from tests.helpers import assert_point_mass_agrees, perturbed_and_oracles, with_calls

V, L = 3, 4
PROMPTS = [None, np.array([1, V, V, V]), np.array([1, 2, V, V])]


def greedy_agrees(loop, sampler, prompt, **settings):
    assert_point_mass_agrees(loop, sampler, perturbed_and_oracles(V, L), V, L, prompt, **settings)


@pytest.mark.parametrize("prompt", PROMPTS, ids=["none", "1", "2"])
@pytest.mark.parametrize("settings", [dict(), dict(threshold=0.5, block_length=2), dict(threshold=0.3, final_call=False)])
def test_sglangs_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls(settings, prompt):
    greedy_agrees(originals.sglang_low_confidence, S.LowConfidence(**settings), prompt, **settings)


@pytest.mark.parametrize("prompt", PROMPTS, ids=["none", "1", "2"])
@pytest.mark.parametrize("settings", [dict(), dict(block_length=2), dict(threshold=0.6)])
def test_the_vllm_plugins_llada2_default_policy_is_low_confidence_without_the_final_call(settings, prompt):
    sampler = S.LowConfidence(settings.get("threshold", 0.01), settings.get("block_length"), final_call=False)
    greedy_agrees(originals.vllm_llada2_default, sampler, prompt, **settings)


TABLE = refimpl.datasets.dirichlet(V, L, np.random.default_rng(7), concentration=0.5).table
MODEL = rt.perturbed_oracle(TABLE, mix=0.3, seed=7)


def loop(**settings):
    return with_calls(functools.partial(originals.sglang_low_confidence, **settings))


@pytest.mark.parametrize("settings, prompt", [(dict(temperature=1.0, threshold=0.5), None),
                                              (dict(temperature=1.5, threshold=0.4, block_length=2), PROMPTS[2]),
                                              (dict(temperature=0.7, threshold=0.6), PROMPTS[1])])
def test_the_per_request_sampling_matches_the_exact_law_and_calls(settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded; committing on the draw's absolute probability instead
    (LLaDA2's generate) is rejected: the relative confidence is the rule."""
    sampler = S.LowConfidence(**settings)
    rt.assert_sampler_matches(loop(**settings), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                              blind_spots="ignore")
    absolute = S.JointThreshold(settings["threshold"], 1.5, 0, settings.get("block_length"),
                                temperature=settings["temperature"], original="hf")
    assert refimpl.tv(refimpl.exact_law(MODEL, sampler, L, V, prompt=prompt),
                      refimpl.exact_law(MODEL, absolute, L, V, prompt=prompt)) > 0.01
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(**settings), absolute, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                                  blind_spots="ignore")


def test_the_relative_confidence_is_greedys_at_the_argmax_and_grows_with_temperature():
    """sglang's own checks of ``DllmSamplingPlan.confidence`` (its unit test), on refimpl's formula: a draw of the
    argmax token keeps the argmax's probability; a runner-up's confidence rises with T."""
    from refimpl.samplers.steps.threshold import relative_confidence

    probs = np.array([0.8, 0.15, 0.05])
    cold, hot = relative_confidence(probs, 1.0), relative_confidence(probs, 2.0)
    assert cold[0] == hot[0] == 0.8
    assert cold[1] == pytest.approx(0.15 / 0.8) and hot[1] == pytest.approx((0.15 / 0.8) ** 0.5) and hot[1] > cold[1]
    assert relative_confidence(np.array([0.5, 0.45, 0.05]), 4.0)[1] == 0.5  # capped by the argmax's probability


@pytest.mark.parametrize("settings, prompt", [
    (dict(temperature=1.5, threshold=0.5, top_k=2), None),
    (dict(temperature=1.2, threshold=0.4, top_p=0.7, block_length=2), PROMPTS[1]),
    (dict(temperature=2.0, threshold=0.5, min_p=0.3, top_k=2, top_p=0.9), None),
])
def test_the_requests_top_k_top_p_and_min_p_match_the_exact_law(settings, prompt):
    """The draw through sglang's torch sampler (re-written in tests/originals.py) against the filtered law: chi-square
    and calls at alpha = 1e-3, seeded; the same loop without its filters is rejected."""
    sampler = S.LowConfidence(**settings)
    rt.assert_sampler_matches(loop(**settings), sampler, MODEL, TABLE, n=3000, seed=5, prompt=prompt,
                              blind_spots="ignore")
    plain = {k: v for k, v in settings.items() if k not in ("top_k", "top_p", "min_p")}
    with pytest.raises(AssertionError, match="do not follow the exact law"):
        rt.assert_sampler_matches(loop(**plain), sampler, MODEL, TABLE, n=3000, seed=5, prompt=prompt,
                                  blind_spots="ignore")


def test_the_filters_keep_what_sglangs_rules_keep():
    """By hand on one row (probabilities 0.5, 0.3, 0.15, 0.05): top-k 2 keeps the first two; top-p 0.7 keeps a token
    while the probability before it is at most 0.7 (0.5, 0.3; 0.15 follows 0.8); min-p 0.5 keeps >= 0.25; top_k 1
    is the greedy path."""
    from refimpl.samplers.kernels.tokens import sglang_filter

    row = np.array([0.15, 0.5, 0.05, 0.3])
    np.testing.assert_allclose(sglang_filter(row, top_k=2), [0, 0.625, 0, 0.375])
    np.testing.assert_allclose(sglang_filter(row, top_p=0.7), [0, 0.625, 0, 0.375])
    np.testing.assert_allclose(sglang_filter(row, top_p=0.85), [0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95])
    np.testing.assert_allclose(sglang_filter(row, min_p=0.5), [0, 0.625, 0, 0.375])
    assert sglang_filter(row) is row and sglang_filter(row, top_p=1.0, min_p=0.0) is row
    greedy = refimpl.exact_law(MODEL, S.LowConfidence(0.5), L, V)
    np.testing.assert_array_equal(refimpl.exact_law(MODEL, S.LowConfidence(0.5, temperature=1.0, top_k=1), L, V),
                                  greedy)


@pytest.mark.parametrize("settings", [dict(threshold=-1.0), dict(block_length=0), dict(final_call="no"),
                                      dict(temperature=-1.0), dict(tie="sideways"), dict(top_k=0), dict(top_p=0.0),
                                      dict(top_p=1.5), dict(min_p=-0.1)])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        S.LowConfidence(**settings)
