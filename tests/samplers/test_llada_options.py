"""LLaDA's ``generate`` options (cfg_scale, logits_eos_inf, confidence_eos_eot_inf), exactly.

Each setting's exact law is checked against refimpl's own draws and against LLaDA's loop as its code reads
(tests/originals.py ``llada``, which also counts its model evaluations: two per step with guidance), with
the oracle and with a random denoiser; chi-square at false-alarm rate FALSE_ALARM, seeded.  A plausible slip
in each option must fail the same test.  Closed forms: cfg_scale = 0 is plain LLaDA; guidance without a
prompt changes nothing but the cost; logits_eos_inf is plain LLaDA on the model renormalised without eos.
"""
import functools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.denoisers.guidance import guided_probabilities
from refimpl.interop.verify import verify_sampler

from tests import originals
from tests.helpers import sampler_law_and_denoisers, samples_pvalue, settings_name, with_calls

TABLE, DENOISERS = sampler_law_and_denoisers()
V, L = 3, 4
FALSE_ALARM = 1e-3
N_SAMPLES = 20000
PROMPT = np.array([2, 3, 3, 3])
LONG_PROMPT = np.array([2, 0, 3, 3])

# (the original's settings, prompt): the refimpl sampler takes the same settings
SETTINGS = [
    (dict(steps=3, temperature=1.0, cfg_scale=1.0), PROMPT),
    (dict(steps=3, block_length=1, temperature=0.7, cfg_scale=2.0), PROMPT),
    (dict(steps=2, temperature=0.0, cfg_scale=0.5), LONG_PROMPT),
    (dict(steps=3, temperature=1.0, cfg_scale=1.5, remasking="random"), PROMPT),
    (dict(steps=3, temperature=1.0, logits_eos_inf=True, eos=0), PROMPT),
    (dict(steps=4, temperature=0.0, logits_eos_inf=True, eos=1), None),
    (dict(steps=2, temperature=0.8, cfg_scale=1.0, logits_eos_inf=True, eos=2), LONG_PROMPT),
    (dict(steps=4, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1), None),
    (dict(steps=3, temperature=0.0, confidence_eos_eot_inf=True, eos=0, eot=1), PROMPT),
    (dict(steps=4, block_length=2, temperature=0.5, confidence_eos_eot_inf=True, eos=2, eot=0), None),
    (dict(steps=4, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1, intent=True), None),
    (dict(steps=3, temperature=0.0, confidence_eos_eot_inf=True, eos=0, eot=1, intent=True), PROMPT),
    (dict(steps=4, block_length=2, temperature=0.7, confidence_eos_eot_inf=True, eos=1, eot=2, intent=True), None),
]


def sampler_for(settings):
    settings = dict(settings)
    intent = settings.pop("intent", False)
    return S.LLaDA(**settings, eos_rule="intent" if intent else "code")



@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", SETTINGS, ids=lambda case: settings_name(*case))
def test_each_option_samples_its_exact_law(case, which):
    settings, prompt = case
    sampler, denoiser = sampler_for(settings), DENOISERS[which]
    law, p_value = samples_pvalue(denoiser, sampler, L, V, N_SAMPLES, 21, prompt)
    assert law.sum() == pytest.approx(1.0, abs=1e-12)
    assert p_value > FALSE_ALARM


@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", SETTINGS, ids=lambda case: settings_name(*case))
def test_the_original_loop_agrees_with_the_exact_law_and_calls(case, which):
    settings, prompt = case
    original = with_calls(functools.partial(originals.llada, **settings))
    result = verify_sampler(original, sampler_for(settings), DENOISERS[which], TABLE, n=N_SAMPLES, seed=22,
                            prompt=prompt, alpha=FALSE_ALARM)
    assert result["samples_where_exact_law_is_zero"] == 0
    assert result["passed"], result
    passes = 2 if settings.get("cfg_scale", 0) > 0 else 1
    assert result["calls_expected"] == passes * settings["steps"] == result["calls_mean"]


@pytest.mark.parametrize("slip, settings, prompt", [
    (dict(guide_probabilities=True), dict(steps=3, temperature=1.0, cfg_scale=2.0), PROMPT),
    (dict(intent=True), dict(steps=4, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1), None),
    (dict(intent=False), dict(steps=4, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1, intent=True), None),
], ids=["guidance-on-probabilities", "intent-for-code", "code-for-intent"])
def test_a_slip_in_an_option_is_caught(slip, settings, prompt):
    original = functools.partial(originals.llada, **{**settings, **slip})
    result = verify_sampler(original, sampler_for(settings), DENOISERS["oracle"], TABLE, n=N_SAMPLES, seed=23,
                            prompt=prompt, alpha=FALSE_ALARM)
    assert not result["passed"] and result["p_value"] < 1e-6, result


def test_guidance_follows_the_formula_and_vanishes_at_scale_zero():
    rng = np.random.default_rng(3)
    cond, un = rng.dirichlet(np.ones(5), size=(4, 3)), rng.dirichlet(np.ones(5), size=(4, 3))
    for scale in (0.0, 0.5, 3.0):
        logits = np.log(un) + (scale + 1) * (np.log(cond) - np.log(un))  # LLaDA's line, then a softmax
        expected = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        np.testing.assert_allclose(guided_probabilities(cond, un, scale), expected, rtol=1e-12)
    np.testing.assert_allclose(guided_probabilities(cond, un, 0.0), cond, rtol=1e-14)
    # exact zeros: cond = 0 stays 0; un = 0 < cond takes the limit un -> 0+ (those tokens share everything)
    cond0, un0 = np.array([0.0, 0.3, 0.7]), np.array([0.2, 0.0, 0.8])
    np.testing.assert_allclose(guided_probabilities(cond0, un0, 1.0), [0.0, 1.0, 0.0])


def test_cfg_scale_zero_is_plain_llada_and_guidance_without_a_prompt_only_costs():
    denoiser = DENOISERS["oracle"]
    for prompt in (None, PROMPT):
        plain, calls = refimpl.engine.calls.exact_law_and_calls(denoiser, S.LLaDA(3, temperature=1.0), L, V, prompt)
        zero, zero_calls = refimpl.engine.calls.exact_law_and_calls(
            denoiser, S.LLaDA(3, temperature=1.0, cfg_scale=0.0), L, V, prompt)
        np.testing.assert_array_equal(zero, plain)
        np.testing.assert_array_equal(zero_calls, calls)
    # continuity at 0 and no effect without a prompt (the unconditional call sees the same sequence)
    tiny = refimpl.exact_law(denoiser, S.LLaDA(3, temperature=1.0, cfg_scale=1e-9), L, V, prompt=PROMPT)
    plain = refimpl.exact_law(denoiser, S.LLaDA(3, temperature=1.0), L, V, prompt=PROMPT)
    assert np.abs(tiny - plain).max() < 1e-7
    unprompted = S.LLaDA(4, temperature=1.0, cfg_scale=2.0)
    np.testing.assert_allclose(refimpl.exact_law(denoiser, unprompted, L, V),
                               refimpl.exact_law(denoiser, S.LLaDA(4, temperature=1.0), L, V), atol=1e-14)
    assert refimpl.expected_calls(denoiser, unprompted, L, V) == 8.0
    guided = refimpl.exact_law(denoiser, S.LLaDA(3, temperature=1.0, cfg_scale=2.0), L, V, prompt=PROMPT)
    assert 0.5 * np.abs(guided - plain).sum() > 0.05  # with a prompt it does change the law


def test_logits_eos_inf_is_llada_on_the_model_without_eos():
    eos = 1

    def without_eos(z):  # an independent re-normalisation of the model's answers at masked positions
        mu = refimpl.denoisers.evaluate(DENOISERS["random"], z, V)
        masked = np.asarray(z) == V
        kept = mu * (np.arange(V) != eos)
        with np.errstate(invalid="ignore"):  # (clean positions holding eos: their one-hot row is kept)
            return np.where(masked[..., None], kept / kept.sum(axis=-1, keepdims=True), mu)

    for temperature in (0.0, 1.0):
        law = refimpl.exact_law(DENOISERS["random"], S.LLaDA(3, temperature=temperature, logits_eos_inf=True, eos=eos),
                                L, V, prompt=PROMPT)
        expected = refimpl.exact_law(without_eos, S.LLaDA(3, temperature=temperature), L, V, prompt=PROMPT)
        np.testing.assert_allclose(law, expected, atol=1e-14)
        assert law[:, eos].sum() + law[:, :, eos].sum() + law[:, :, :, eos].sum() == pytest.approx(0.0, abs=1e-15)


def test_the_code_and_the_documented_intent_differ_exactly():
    """The confidence line's effect (code) against its docstring (intent): different laws, each exact."""
    tv = {}
    for which in DENOISERS:
        for temperature in (0.5, 1.0):
            laws = [refimpl.exact_law(DENOISERS[which], S.LLaDA(4, temperature=temperature, confidence_eos_eot_inf=True,
                                                                  eos=0, eot=1, eos_rule=rule), L, V)
                    for rule in ("code", "intent")]
            tv[which, temperature] = 0.5 * np.abs(laws[0] - laws[1]).sum()
    assert min(tv.values()) > 0.01, tv


@pytest.mark.parametrize("settings, message", [
    (dict(cfg_scale=-0.5), "cfg_scale must be a finite number >= 0"),
    (dict(cfg_scale=float("nan")), "cfg_scale must be a finite number >= 0"),
    (dict(logits_eos_inf=True), "logits_eos_inf needs the token id eos"),
    (dict(confidence_eos_eot_inf=True, eos=0), "confidence_eos_eot_inf needs the token id eot"),
    (dict(logits_eos_inf=True, eos=-1), "eos"),
    (dict(logits_eos_inf=1, eos=0), "logits_eos_inf must be True or False"),
    (dict(confidence_eos_eot_inf=True, eos=0, eot=1, eos_rule="docs"), "eos_rule"),
])
def test_bad_options_are_refused(settings, message):
    with pytest.raises(InvalidParameterError, match=message):
        S.LLaDA(2, **settings)


@pytest.mark.parametrize("settings", [dict(logits_eos_inf=True, eos=3), dict(confidence_eos_eot_inf=True, eos=0, eot=7)])
def test_token_ids_outside_the_vocabulary_are_refused(settings):
    with pytest.raises(InvalidParameterError, match=r"is not a token id of a vocabulary of size 3 \(0..2\)"):
        refimpl.exact_law(DENOISERS["oracle"], S.LLaDA(2, **settings), L, V)
    with pytest.raises(InvalidParameterError, match="is not a token id"):
        refimpl.sample(DENOISERS["oracle"], S.LLaDA(2, **settings), 5, np.random.default_rng(0), L, V)
