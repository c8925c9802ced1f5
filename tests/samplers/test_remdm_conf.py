"""ReMDM's confidence schedule (``ReMDM(remasking="conf")``), exactly: a kernel on (sequence, scores) states.

A token's chance of being masked again is set by the model's probability of it at the step that revealed
it, so the state carries that score (refimpl.engine.scored).  Its exact law against refimpl's draws and
against ReMDM's ``remdm-conf`` update as its code reads (tests/originals.py ``remdm``, with its cache and
model-call count), with the oracle and a random denoiser; chi-square at false-alarm rate FALSE_ALARM,
seeded.  Remasking the most confident tokens instead is caught.  Closed forms: one generated position is
a two-state chain; the documented ``conf_sigma="rescale"`` with eta = 0 is MDLM's ancestral sampler (a second
engine), with eta = 1 the code's schedule; two generated positions over three steps, the paths by hand.
"""
import functools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.diffusion.schedules import Cosine, Linear
from refimpl.engine.calls import exact_law_and_calls

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

# (ReMDM's settings as the original takes them, the refimpl sampler, prompt): the original runs log-linear noise
CASES = [
    (dict(steps=4, sampler="remdm-conf"), S.ReMDM(4, "conf"), None),
    (dict(steps=8, sampler="remdm-conf"), S.ReMDM(8, "conf"), INFILL),
    (dict(steps=3, sampler="remdm-conf", eps=0.1, noise_removal=True), S.ReMDM(3, "conf", eps=0.1, noise_removal=True),
     None),
]
@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: settings_name(case[0], case[2]))
def test_the_original_update_agrees_with_the_exact_law_and_calls(case, which):
    settings, sampler, prompt = case
    original = with_calls(functools.partial(originals.remdm, **settings))
    assert_loop_agrees(original, sampler, DENOISERS[which], TABLE, 52, prompt, N_SAMPLES, FALSE_ALARM)


def test_masking_the_most_confident_tokens_again_is_caught():
    original = functools.partial(originals.remdm, steps=4, sampler="remdm-conf", most_confident=True)
    assert_slip_caught(original, S.ReMDM(4, "conf"), DENOISERS["oracle"], TABLE, 53, None, N_SAMPLES, FALSE_ALARM)


@pytest.mark.parametrize("schedule", [Linear(), Cosine()], ids=repr)
def test_one_generated_position_by_hand(schedule):
    """With one generated position its weight is 1 once it holds a token, so each step masks it again with
    sigma_max and, while masked, reveals it at MDLM's rate (sigma = 0 at a masked position): a two-state chain,
    by hand, with every reveal drawn from the denoiser at the prompt."""
    prompt = np.array([0, 2, 3, 1])
    for which in DENOISERS:
        conf = S.ReMDM(5, "conf", schedule=schedule)
        law, calls = exact_law_and_calls(DENOISERS[which], conf, L, V, prompt=prompt)
        # by hand: the position is masked (m) or holds a token (c); each step from t to s reveals it with
        # a = (alpha_s - alpha_t)/(1 - alpha_t) and masks it again with sigma_max; the token law is mu at the prompt
        m, changed, expected_calls = 1.0, 1.0, 0.0
        for step, (unmask, sigma_max) in enumerate(conf.rates()):
            expected_calls += 1.0 if step == 0 else changed
            revealed, remasked = m * unmask, (1 - m) * sigma_max
            changed = revealed + remasked  # the sequence changed: the next step calls the model (the cache)
            m = m - revealed + remasked
        mu = refimpl.denoisers.evaluate(DENOISERS[which], prompt[None], V)[0, 2]
        expected = np.zeros((V,) * L)
        expected[0, 2, :, 1] = (1 - m) * mu
        np.testing.assert_allclose(law, expected, atol=1e-15)
        assert m == pytest.approx(0.0, abs=1e-15)
        assert calls.sum() == pytest.approx(expected_calls, abs=1e-12)


def test_the_documented_schedule_with_eta_zero_is_mdlms_ancestral_sampler():
    for which in DENOISERS:
        documented = S.ReMDM(5, "conf", eta=0.0, conf_sigma="rescale", grid="float64")  # the ideal identity
        law, calls = exact_law_and_calls(DENOISERS[which], documented, L, V)
        mdlm = S.Ancestral(Linear(), 5, cache=True, grid="float64")
        expected, expected_calls = exact_law_and_calls(DENOISERS[which], mdlm, L, V)
        np.testing.assert_allclose(law, expected, atol=1e-15)
        np.testing.assert_allclose(calls, expected_calls, atol=1e-15)


def test_code_and_documented_schedules_differ_exactly():
    """The code shares out sigma_max; the paper's 'in conjunction with' cap or rescale shares out their sigma_t."""
    oracle = DENOISERS["oracle"]
    code = refimpl.exact_law(oracle, S.ReMDM(4, "conf"), L, V)
    documented = refimpl.exact_law(oracle, S.ReMDM(4, "conf", eta=1.0, conf_sigma="rescale"), L, V)
    np.testing.assert_allclose(code, documented, atol=1e-15)  # eta = 1: the same sigma_t
    capped = refimpl.exact_law(oracle, S.ReMDM(4, "conf", eta=0.2, conf_sigma="cap"), L, V)
    assert refimpl.tv(code, capped) > 0.01


def test_two_steps_by_hand():
    """Two steps from a prompt with two generated positions, enumerated over the paths by hand: step 1
    reveals each with a_1 (token ~ mu at the prompt, its score that probability), step 2 masks a clean one
    again with sigma_max * softmax(-scores) and reveals a masked one with a_2; the third step reveals the rest
    (alpha_s = 1)."""
    sampler = S.ReMDM(3, "conf")
    (a1, _), (a2, s2), (a3, s3) = sampler.rates()
    assert a3 == 1.0 and s3 == 0.0
    prompt = np.array([3, 0, 3, 2])
    oracle = DENOISERS["oracle"]
    mu = lambda z: refimpl.denoisers.evaluate(oracle, np.array(z)[None], V)[0]  # noqa: E731
    law = np.zeros((V,) * L)

    def finish(z, mass):  # the last step: every masked position revealed in parallel
        q = mu(z)
        free = [j for j in (0, 2) if z[j] == V]
        for values in np.ndindex(*([V] * len(free))):
            x = list(z)
            p = mass
            for j, v in zip(free, values):
                x[j] = v
                p *= q[j, v]
            law[tuple(x)] += p

    def second(z, scores, mass):
        q = mu(z)
        held = {j: scores[j] for j in (0, 2) if z[j] != V}
        total = sum(np.exp(-c) for c in held.values())
        options = []
        for j in (0, 2):
            if z[j] == V:
                options.append([(V, 1 - a2)] + [(v, a2 * q[j, v]) for v in range(V)])
            else:
                w = s2 * np.exp(-held[j]) / total
                options.append([(z[j], 1 - w), (V, w)])
        for (v0, p0) in options[0]:
            for (v2, p2) in options[1]:
                finish([v0, 0, v2, 2], mass * p0 * p2)

    q = mu(prompt)
    for v0 in range(V + 1):
        for v2 in range(V + 1):
            p0 = 1 - a1 if v0 == V else a1 * q[0, v0]
            p2 = 1 - a1 if v2 == V else a1 * q[2, v2]
            scores = {0: q[0, v0] if v0 < V else None, 2: q[2, v2] if v2 < V else None}
            second([v0, 0, v2, 2], scores, p0 * p2)
    np.testing.assert_allclose(refimpl.exact_law(oracle, sampler, L, V, prompt=prompt), law, atol=1e-15)


def test_too_many_states_are_refused_before_they_are_formed(monkeypatch):
    """8 steps over four masks would form tens of millions of (state, outcome) pairs (31 million at its fifth step,
    refused at the default limit after about 6 s); a lower limit shows the refusal comes before the pairs are formed."""
    from refimpl.engine import scored

    monkeypatch.setattr(scored, "MAX_ENTRIES", 5000)
    formed, successors = [], refimpl.samplers.steps.ConfidenceRemaskStep.successors

    def counted(self, z, scores, mu):
        formed.append(len(z))
        return successors(self, z, scores, mu)

    monkeypatch.setattr(refimpl.samplers.steps.ConfidenceRemaskStep, "successors", counted)
    with pytest.raises(InvalidParameterError, match=r"would form \d+ \(state, outcome\) pairs .* more than 5000"):
        refimpl.exact_law(DENOISERS["oracle"], S.ReMDM(8, "conf"), L, V)
    assert 0 < len(formed) < 8  # some steps ran, and the refused one formed nothing
