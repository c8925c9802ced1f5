"""ReMDM (refimpl.samplers.ReMDM), exactly: a kernel on partial sequences whose masks may grow.

Its exact law against refimpl's draws and against ReMDM's own update as its code reads (tests/originals.py
``remdm``, with its cache and model-call count), with the oracle and a random denoiser; chi-square at
false-alarm rate FALSE_ALARM, seeded.  The unmasking probability without (1 - sigma_t) is caught.  Closed
forms: sigma = 0 is MDLM's ancestral sampler; every step keeps the forward marginal — a position is masked
after the step to s with probability 1 - alpha_s, whatever the denoiser (ReMDM's design) — checked on the
exact pattern probabilities; the remasking kernel alone against a sum over the remasked sets by hand.
"""
import dataclasses
import functools
import itertools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.diffusion.schedules import Cosine, FromFunctions, Geometric, Linear
from refimpl.samplers.steps import IndependentStep, RemaskStep

from tests import originals
from tests.helpers import (
    assert_loop_agrees,
    assert_slip_caught,
    engine_run,
    sampler_law_and_denoisers,
    settings_name,
    with_calls,
)

TABLE, DENOISERS = sampler_law_and_denoisers()
V, L = 3, 4
FALSE_ALARM = 1e-3
N_SAMPLES = 20000
INFILL = np.array([3, 1, 3, 3])

# (ReMDM's settings as the original takes them, the refimpl sampler, prompt)
CASES = [
    (dict(steps=6, sampler="remdm-cap", eta=0.3), S.ReMDM(6, "cap", eta=0.3), None),
    (dict(steps=5, sampler="remdm-rescale", eta=0.6), S.ReMDM(5, "rescale", eta=0.6), INFILL),
    (dict(steps=10, sampler="remdm-loop", eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6),
     S.ReMDM(10, "loop", eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6), None),
    (dict(steps=4, sampler="remdm-cap", eta=0.5, eps=0.1, noise_removal=True),
     S.ReMDM(4, "cap", eta=0.5, eps=0.1, noise_removal=True), None),
    (dict(steps=4, sampler="remdm-rescale", eta=1.0), S.ReMDM(4, "rescale", eta=1.0), None),
]



@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: settings_name(case[0], case[2]))
def test_the_original_update_agrees_with_the_exact_law_and_calls(case, which):
    settings, sampler, prompt = case
    original = with_calls(functools.partial(originals.remdm, **settings))
    assert_loop_agrees(original, sampler, DENOISERS[which], TABLE, 42, prompt, N_SAMPLES, FALSE_ALARM)


def test_the_unmasking_probability_without_one_minus_sigma_is_caught():
    settings = dict(steps=5, sampler="remdm-rescale", eta=0.8)
    original = functools.partial(originals.remdm, **settings, without_sigma=True)
    assert_slip_caught(original, S.ReMDM(5, "rescale", eta=0.8), DENOISERS["oracle"], TABLE, 43, None, N_SAMPLES,
                       FALSE_ALARM)


@pytest.mark.parametrize("schedule", [Linear(), Cosine()], ids=repr)
@pytest.mark.parametrize("remasking", ["cap", "rescale"])
def test_sigma_zero_is_mdlms_ancestral_sampler(remasking, schedule):
    for which in DENOISERS:
        remdm = S.ReMDM(5, remasking, eta=0.0, schedule=schedule)
        mdlm = S.Ancestral(schedule=schedule, steps=5, cache=True)
        law, calls = refimpl.engine.calls.exact_law_and_calls(DENOISERS[which], remdm, L, V)
        expected, expected_calls = refimpl.engine.calls.exact_law_and_calls(DENOISERS[which], mdlm, L, V)
        np.testing.assert_allclose(law, expected, atol=1e-15)
        np.testing.assert_allclose(calls, expected_calls, atol=1e-15)


@pytest.mark.parametrize("sampler", [case[1] for case in CASES[:3]] + [S.ReMDM(5, "cap", eta=0.4, schedule=Cosine())],
                         ids=repr)
def test_every_step_keeps_the_forward_marginal(sampler):
    """P(position i masked after the step to s) = 1 - alpha_s for every i, with any denoiser: ReMDM's
    unmasking probability is chosen so that remasking and unmasking balance (on the ideal grid)."""
    sampler = dataclasses.replace(sampler, grid="float64")
    alphas = []
    for t, s in zip(*(lambda g: (g[:-1], g[1:]))(np.linspace(1.0, sampler.eps, sampler.steps + 1))):
        alphas.append(sampler.step_alphas(float(t), float(s))[1])
    for which in DENOISERS:
        masked_after = []
        engine_run(DENOISERS[which], sampler, L, V,
                           before_step=lambda step, patterns, probs: masked_after.append(probs @ patterns))
        np.testing.assert_allclose(np.array(masked_after[1:]), 1.0 - np.array(alphas[:len(masked_after) - 1])[:, None]
                                   * np.ones(L), atol=1e-12)


class RemaskThenReveal:
    """Mask every position of a clean prompt again with probability r, then reveal everything at once."""

    def __init__(self, remask):
        self.remask = remask

    def plan(self, masked, region):
        everything = (True,) * len(masked)
        return [RemaskStep(everything, 0.0, self.remask), IndependentStep(everything, (1.0,) * len(masked))]


def test_the_remask_kernel_against_a_closed_form():
    """From a clean x: with probability r^|R| (1 - r)^(L - |R|) the set R is masked again, then revealed in
    one parallel step from the oracle's conditionals given x outside R: a sum over R, by hand."""
    x, r = np.array([0, 2, 1, 0]), 0.35
    oracle = DENOISERS["oracle"]
    law = refimpl.exact_law(oracle, RemaskThenReveal(r), L, V, prompt=x)
    expected = np.zeros((V,) * L)
    for size in range(L + 1):
        for chosen in itertools.combinations(range(L), size):
            z = x.copy()
            z[list(chosen)] = V
            mu = refimpl.denoisers.evaluate(oracle, z[None], V)[0]
            block = np.ones(())
            for i in range(L):
                block = np.multiply.outer(block, mu[i] if i in chosen else np.eye(V)[x[i]])
            expected += r**size * (1 - r) ** (L - size) * block
    np.testing.assert_allclose(law, expected, atol=1e-15)
    assert law[tuple(x)] > (1 - r) ** L  # kept, or masked and redrawn to the same tokens


@pytest.mark.parametrize("settings, message", [
    (dict(eta=-0.1), "eta"),
    (dict(eta=1.5), "eta"),
    (dict(remasking="conf", conf_sigma="min"), "conf_sigma"),
    (dict(remasking="cap", conf_sigma="cap"), "conf_sigma applies to remasking='conf' only"),
    (dict(remasking="loop", t_on=0.2, t_off=0.5), "t_off < t_on"),
    (dict(remasking="loop", eta=0.5, alpha_on=0.9), r"more than \(1 - alpha_on\)/alpha_on"),
    (dict(remasking="loop", steps=8, t_off=0.05), "the last step"),
    (dict(eps=0.1), "noise_removal=True"),
    (dict(schedule=Geometric()), r"ends at alpha\(0.0\) = 0.9999"),
    (dict(noise_removal=1), "noise_removal must be True or False"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(InvalidParameterError, match=message):
        S.ReMDM(**{"steps": 10, **settings})


def test_a_schedule_that_reaches_alpha_one_early_is_refused():
    early = FromFunctions(lambda t: np.clip(2.0 * (1.0 - np.asarray(t, dtype=float)), 0.0, 1.0),
                          lambda t: np.where(np.asarray(t, dtype=float) > 0.5, -2.0, 0.0))
    with pytest.raises(InvalidParameterError, match="reaches alpha = 1 at t = 0.5, before the last step"):
        S.ReMDM(4, "cap", eta=0.1, schedule=early)
