"""LLaDA 2.x block refinement with editing (refimpl.samplers.LLaDA2), exactly: a kernel that replaces clean
tokens, on a loop whose stops depend on the path (parked mass).

Its exact law against refimpl's draws and against diffusers' ``LLaDA2Pipeline`` loop as its code reads
(tests/originals.py ``llada2``, with its model-call count), with the oracle and a random denoiser; chi-square
at false-alarm rate FALSE_ALARM, seeded.  The confidence taken from softmax(logits) instead of the tempered
law is caught.  Closed forms: an editing threshold above 1 (nothing can be edited) with one commit per step is
Fast-dLLM's threshold rule — the same law, and one more model call exactly when a block finishes early; a
threshold above 1 without editing is LLaDA's low-confidence top-k; the code's edit rule and the documented
one differ, exactly.
"""
import functools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError

from tests import originals
from tests.helpers import (
    assert_loop_agrees,
    assert_slip_caught,
    sampler_law_and_denoisers,
    settings_name,
    with_calls,
)

TABLE, DENOISERS = sampler_law_and_denoisers()
V, L = 3, 4
FALSE_ALARM = 1e-3
N_SAMPLES = 20000
INFILL = np.array([3, 1, 3, 3])

CASES = [  # (the original's settings = the sampler's, prompt)
    (dict(steps=4, threshold=0.5, editing_threshold=0.4, max_post_steps=3, temperature=1.0), None),
    (dict(steps=2, block_length=2, threshold=0.3, editing_threshold=0.3, temperature=0.7), INFILL),
    (dict(steps=4, threshold=0.9, editing_threshold=None, temperature=0.0), None),
    (dict(steps=3, threshold=0.5, editing_threshold=0.2, temperature=1.0, edit_rule="intent"), INFILL),
    (dict(steps=4, threshold=0.6, editing_threshold=0.5, max_post_steps=1, temperature=0.0), None),
    (dict(steps=2, threshold=0.8, editing_threshold=0.3, temperature=1.5, minimal_topk=2), None),
]


@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: settings_name(*case))
def test_the_pipeline_loop_agrees_with_the_exact_law_and_calls(case, which):
    settings, prompt = case
    original = with_calls(functools.partial(originals.llada2, **settings))
    assert_loop_agrees(original, S.LLaDA2(**settings), DENOISERS[which], TABLE, 52, prompt, N_SAMPLES, FALSE_ALARM)


def test_the_untempered_confidence_is_caught():
    settings = dict(steps=4, threshold=0.5, editing_threshold=0.3, temperature=0.4)
    original = functools.partial(originals.llada2, **settings, untempered_confidence=True)
    assert_slip_caught(original, S.LLaDA2(**settings), DENOISERS["random"], TABLE, 53, None, N_SAMPLES, FALSE_ALARM)


def test_the_code_and_the_documented_edit_rule_differ_exactly():
    """Editing while masks remain (the code) against only after they are resolved (the docstrings): both exact,
    each against its own original loop above; here their distance, and that it vanishes without editing."""
    for which, denoiser in DENOISERS.items():
        laws = {rule: refimpl.exact_law(denoiser, S.LLaDA2(steps=4, threshold=0.4, editing_threshold=0.3,
                                                           temperature=1.0, edit_rule=rule), L, V)
                for rule in ("code", "intent")}
        assert refimpl.tv(laws["code"], laws["intent"]) > 0.01, which
        off = [refimpl.exact_law(denoiser, S.LLaDA2(steps=4, threshold=0.4, editing_threshold=None, temperature=1.0,
                                                    edit_rule=rule), L, V) for rule in ("code", "intent")]
        np.testing.assert_array_equal(off[0], off[1])


@pytest.mark.parametrize("temperature", [0.0, 1.0])
@pytest.mark.parametrize("block_length", [None, 2])
def test_an_editing_threshold_above_one_is_fast_dllms_threshold_rule(temperature, block_length):
    """One commit per step (steps = block length) and no edit possible: commit everything above the threshold,
    at least the most confident — Fast-dLLM's rule (its confidence is the untempered probability, the same at
    T = 0 and 1; >= against >, the same away from ties).  The loop makes one more call, the post iteration,
    exactly when a block finishes before its last scheduled step: E[calls] = Fast-dLLM's + sum over blocks of
    P(block done early) = 1 - P(the block's last step is called)."""
    size = L if block_length is None else block_length
    llada2 = S.LLaDA2(steps=size, block_length=block_length, threshold=0.45, editing_threshold=1.5,
                      temperature=temperature)
    fast = S.Threshold(threshold=0.45, block_length=block_length, temperature=temperature)
    for which, denoiser in DENOISERS.items():
        law, calls = refimpl.engine.calls.exact_law_and_calls(denoiser, llada2, L, V)
        expected, by_step = refimpl.engine.calls.exact_law_and_calls(denoiser, fast, L, V)
        np.testing.assert_allclose(law, expected, atol=1e-15, err_msg=which)
        last_steps = by_step.reshape(L // size, size)[:, -1]  # called iff the block still held a mask
        assert calls.sum() == pytest.approx(by_step.sum() + np.sum(1.0 - last_steps), abs=1e-12)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_a_threshold_above_one_without_editing_is_lladas_top_k(temperature):
    """threshold > 1 forces the top n_i commits; with editing off that is LLaDA's low-confidence remasking with
    the same per-block schedule (two blocks of two, two steps each: one token per step), law and calls."""
    llada2 = S.LLaDA2(steps=2, block_length=2, threshold=2.0, editing_threshold=None, temperature=temperature)
    llada = S.LLaDA(steps=4, block_length=2, temperature=temperature)
    for which, denoiser in DENOISERS.items():
        law, calls = refimpl.engine.calls.exact_law_and_calls(denoiser, llada2, L, V)
        expected, expected_calls = refimpl.engine.calls.exact_law_and_calls(denoiser, llada, L, V)
        np.testing.assert_allclose(law, expected, atol=1e-15, err_msg=which)
        assert calls.sum() == pytest.approx(expected_calls.sum(), abs=1e-12)


def test_editing_changes_the_law_and_the_oracle_edits_toward_the_data():
    """With the oracle and threshold 0, the first of two scheduled steps commits all four tokens from one call's
    marginals (the product of marginals); the block is done early, so post iterations follow: editing off, the
    product stays; editing on, the law moves, and its KL to the data is lower."""
    oracle = DENOISERS["oracle"]
    plain = refimpl.exact_law(oracle, S.LLaDA2(steps=2, threshold=0.0, editing_threshold=None, temperature=1.0), L, V)
    product = refimpl.exact_law(oracle, S.RandomK([L]), L, V)
    np.testing.assert_allclose(plain, product, atol=1e-15)
    edited = refimpl.exact_law(oracle, S.LLaDA2(steps=2, threshold=0.0, editing_threshold=0.01, temperature=1.0,
                                                max_post_steps=4), L, V)
    assert refimpl.tv(plain, edited) > 0.01
    assert refimpl.kl(TABLE, edited) < refimpl.kl(TABLE, plain)


@pytest.mark.parametrize("settings, message", [
    (dict(threshold=-0.1), "threshold"),
    (dict(threshold=float("nan")), "threshold"),
    (dict(editing_threshold=float("inf")), "editing_threshold"),
    (dict(editing_threshold="half"), "editing_threshold"),
    (dict(max_post_steps=-1), "max_post_steps"),
    (dict(steps=0), "steps"),
    (dict(minimal_topk=0), "minimal_topk"),
    (dict(edit_rule="docs"), "edit_rule"),
    (dict(temperature=-1.0), "temperature"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(InvalidParameterError, match=message):
        S.LLaDA2(**settings)


def test_bad_plans_are_refused():
    oracle = DENOISERS["oracle"]
    with pytest.raises(InvalidParameterError, match="does not divide the length 4"):
        refimpl.exact_law(oracle, S.LLaDA2(block_length=3), L, V)
    with pytest.raises(InvalidParameterError, match="leaves no step for 4 masked positions"):
        refimpl.exact_law(oracle, S.LLaDA2(minimal_topk=5), L, V)
    with pytest.raises(InvalidParameterError, match="cannot run inside another sampler's region"):
        refimpl.exact_law(oracle, S.SemiAR(2, S.LLaDA2()), L, V)
