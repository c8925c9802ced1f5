"""Nemotron-Labs-Diffusion's diffusion mode (issue #37, rule R7): refimpl's exact laws and calls against dllm's
NemotronDiffusionSampler and sglang's FastDiffuser loops re-written from their code (tests/originals.py), with the
anchor sampled at temperature as dllm does; FastDiffuser's schedule is LLaDA's decoder exactly."""
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


def models():
    return perturbed_and_oracles(V, L)


@pytest.mark.parametrize("prompt", PROMPTS, ids=["none", "1", "2"])
@pytest.mark.parametrize("original, loop, settings", [
    ("dllm", originals.nemotron_diffusion, dict()), ("dllm", originals.nemotron_diffusion, dict(threshold=None)),
    ("dllm", originals.nemotron_diffusion, dict(threshold=0.5, block_length=1)),
    ("fastdiffuser", originals.fastdiffuser, dict(threshold=0.9)),
    ("fastdiffuser", originals.fastdiffuser, dict(threshold=None)),
    ("fastdiffuser", originals.fastdiffuser, dict(threshold=None, max_steps=2, block_length=2)),
    ("fastdiffuser", originals.fastdiffuser, dict(threshold=0.4, block_length=2, max_steps=3)),
])
def test_the_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls(original, loop, settings, prompt):
    assert_point_mass_agrees(loop, S.Nemotron(**settings, original=original), models(), V, L, prompt, **settings)


TABLE = refimpl.datasets.dirichlet(V, L, np.random.default_rng(7), concentration=0.5).table
MODEL = rt.perturbed_oracle(TABLE, mix=0.3, seed=7)


def loop(original, **settings):
    code = originals.nemotron_diffusion if original == "dllm" else originals.fastdiffuser
    return with_calls(functools.partial(code, **settings))


@pytest.mark.parametrize("original, settings, prompt", [
    ("dllm", dict(temperature=1.0, threshold=0.6, block_length=2), None),
    ("dllm", dict(temperature=0.7, threshold=None), PROMPTS[1]),
    ("fastdiffuser", dict(temperature=1.0, threshold=0.5, block_length=2), None),
])
def test_the_temperature_modes_match_the_exact_law_and_calls(original, settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded (dllm's anchor sampled too); a deliberately wrong
    temperature is rejected."""
    sampler = S.Nemotron(**settings, original=original)
    rt.assert_sampler_matches(loop(original, **settings), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                              blind_spots="ignore")
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(original, **dict(settings, temperature=2 * settings["temperature"])), sampler,
                                  MODEL, TABLE, n=4000, seed=3, prompt=prompt, blind_spots="ignore")


def test_the_sampled_anchor_is_the_difference_from_a_greedy_anchor():
    """At T > 0 dllm draws the anchor from softmax(logits / T): with blocks of one position every token is an
    anchor, so the law is ancestral sampling at T — p itself at T = 1 on the oracle."""
    oracle = refimpl.oracle_denoiser(TABLE)
    law = refimpl.exact_law(oracle, S.Nemotron(temperature=1.0, block_length=1), L, V)
    np.testing.assert_allclose(law, TABLE, atol=1e-13)


@pytest.mark.parametrize("block", [None, 2])
def test_fastdiffusers_schedule_is_llada_and_one_token_per_step_is_llada_one_at_a_time(block):
    """FastDiffuser's even split over max_steps per block is LLaDA's schedule (steps = max_steps per block), at any
    temperature; a threshold above 1 commits one token per call: LLaDA with one step per token."""
    blocks = 1 if block is None else L // block
    size = L if block is None else block
    for denoiser in models():
        for temperature in (0.0, 1.0):
            fast = S.Nemotron(None, block, temperature, "fastdiffuser", max_steps=size)
            llada = S.LLaDA(size * blocks, block_length=block, temperature=temperature)
            np.testing.assert_allclose(refimpl.exact_law(denoiser, fast, L, V), refimpl.exact_law(denoiser, llada, L, V),
                                       atol=1e-14)
        one = S.Nemotron(1.5, block, 0.0, "fastdiffuser")
        np.testing.assert_allclose(refimpl.exact_law(denoiser, one, L, V),
                                   refimpl.exact_law(denoiser, S.LLaDA(L, block_length=block, temperature=0.0), L, V),
                                   atol=1e-14)


@pytest.mark.parametrize("settings", [dict(threshold=-0.5), dict(block_length=0), dict(original="hf"),
                                      dict(max_steps=2), dict(temperature=-1.0), dict(tie="sideways")])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        S.Nemotron(**settings)


@pytest.mark.parametrize("sampler, prompt, needle", [
    (S.Nemotron(block_length=3), None, "tile"), (S.Nemotron(), np.array([V, 1, V, V]), "prefix"),
    (S.Nemotron(0.9, original="fastdiffuser", max_steps=2), None, "max_steps"),
])
def test_settings_that_do_not_fit_are_refused(sampler, prompt, needle):
    with pytest.raises(refimpl.RefimplError, match=needle):
        refimpl.exact_law(MODEL, sampler, L, V, prompt=prompt)
