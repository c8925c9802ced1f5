"""Anchored blocks with token shift (issue #37, rules R4 and R5): refimpl's exact laws and calls against sglang's
HierarchyBlock (with Fast-dLLM v2's temperature mode) and ShiftConfidence loops re-written from their code
(tests/originals.py), the token-shift quirk at position 0, one token per step against the one-at-a-time decoders."""
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


def greedy_agrees(loop, sampler, prompt, **settings):
    assert_point_mass_agrees(loop, sampler, models(), V, L, prompt, **settings)


@pytest.mark.parametrize("prompt", PROMPTS, ids=["none", "1", "2"])
@pytest.mark.parametrize("settings", [dict(), dict(threshold=0.5, block_length=2), dict(threshold=0.3, sub_block_length=2),
                                      dict(threshold=0.95, block_length=2, sub_block_length=1),
                                      dict(first_anchor=False, threshold=0.6)])
def test_hierarchy_blocks_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls(settings, prompt):
    loop_settings = {("bos_anchor" if k == "first_anchor" else k): v for k, v in settings.items()}
    greedy_agrees(originals.hierarchy_block, S.HierarchyBlock(**settings), prompt, **loop_settings)


@pytest.mark.parametrize("settings, prompt", [
    (dict(num_small_blocks=1), None), (dict(num_small_blocks=2, threshold=0.5), None),
    (dict(num_small_blocks=2, alg="entropy"), None), (dict(block_length=2, num_small_blocks=2, alg="confidence"), None),
    (dict(num_small_blocks=4, first_anchor=False, threshold=0.4), None),
    (dict(block_length=2, num_small_blocks=1, threshold=0.6), PROMPTS[2]),
    (dict(block_length=1, num_small_blocks=1), PROMPTS[1]),
])
def test_shift_confidences_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls(settings, prompt):
    loop_settings = {("bos_anchor" if k == "first_anchor" else k): v for k, v in settings.items()}
    greedy_agrees(originals.shift_confidence, S.ShiftConfidence(**settings), prompt, **loop_settings)


def loop(**settings):
    return with_calls(functools.partial(originals.hierarchy_block, **settings))


TABLE = refimpl.datasets.dirichlet(V, L, np.random.default_rng(7), concentration=0.5).table
MODEL = rt.perturbed_oracle(TABLE, mix=0.3, seed=7)


@pytest.mark.parametrize("settings, prompt", [
    (dict(threshold=0.5, sub_block_length=2, temperature=1.0, top_p=0.9), None),
    (dict(threshold=0.7, block_length=2, temperature=0.7), PROMPTS[2]),
    (dict(threshold=0.4, temperature=1.0, top_p=0.8), PROMPTS[1]),
])
def test_fast_dllm_v2s_temperature_mode_matches_the_exact_law_and_calls(settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded; a deliberately wrong temperature is rejected."""
    sampler = S.HierarchyBlock(**settings)
    rt.assert_sampler_matches(loop(**settings), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                              blind_spots="ignore")
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(**dict(settings, temperature=2 * settings["temperature"])), sampler, MODEL,
                                  TABLE, n=4000, seed=3,
                                  prompt=prompt, blind_spots="ignore")


def test_the_first_row_quirk_decodes_position_0_with_the_prediction_for_position_1():
    """Coupled pairs ("AB" or "CD"), no prompt: anchored, AB (A the argmax of p(x_0), lowest token on the tie); without
    the anchor, position 0 takes the row for position 1 — B — and the pair leaves the support (position 1 given B is
    the uniform of an impossible context: its argmax A)."""
    p = refimpl.datasets.coupled_pairs()
    oracle = refimpl.oracle_denoiser(p)
    for build in (S.HierarchyBlock, functools.partial(S.ShiftConfidence, num_small_blocks=1)):
        assert refimpl.exact_law(oracle, build(), 2, 4)[0, 1] == 1.0
        assert refimpl.exact_law(oracle, build(first_anchor=False), 2, 4)[1, 0] == 1.0


def test_one_token_per_step_is_the_one_at_a_time_decoder():
    """threshold 1 (no probability is above it): every call commits the sub-block's most probable masked position.
    In one block that is LLaDA's low-confidence decoder, one token per step, from the anchor (the argmax of p(x_0));
    ShiftConfidence's "confidence" rule is the same in any blocks."""
    for denoiser in models():
        anchor = int(np.argmax(denoiser(np.full((1, L), V))[0, 0]))
        llada = refimpl.exact_law(denoiser, S.LLaDA(L - 1, temperature=0.0), L, V, prompt=np.array([anchor, V, V, V]))
        np.testing.assert_allclose(refimpl.exact_law(denoiser, S.HierarchyBlock(1.0), L, V), llada, atol=1e-14)
        for block in (None, 2):
            np.testing.assert_allclose(
                refimpl.exact_law(denoiser, S.HierarchyBlock(1.0, block_length=block), L, V),
                refimpl.exact_law(denoiser, S.ShiftConfidence(block_length=block, num_small_blocks=1, alg="confidence"),
                                  L, V), atol=1e-14)


@pytest.mark.parametrize("build, settings", [
    (S.HierarchyBlock, dict(threshold=-1.0)), (S.HierarchyBlock, dict(block_length=0)),
    (S.HierarchyBlock, dict(top_p=0.0)), (S.HierarchyBlock, dict(temperature=-1.0)),
    (S.HierarchyBlock, dict(first_anchor="yes")), (S.ShiftConfidence, dict(alg="margin")),
    (S.ShiftConfidence, dict(num_small_blocks=0)), (S.ShiftConfidence, dict(tie="sideways")),
])
def test_bad_settings_are_one_clear_error(build, settings):
    with pytest.raises(refimpl.RefimplError):
        build(**settings)


@pytest.mark.parametrize("sampler, prompt, needle", [
    (S.HierarchyBlock(block_length=3), None, "tile the length"),
    (S.HierarchyBlock(sub_block_length=3), None, "tile the length"),
    (S.HierarchyBlock(), np.array([V, 1, V, V]), "prefix"),
    (S.ShiftConfidence(num_small_blocks=3), None, "multiple of num_small_blocks"),
    (S.ShiftConfidence(block_length=2, num_small_blocks=1), PROMPTS[1], "inside a block"),
])
def test_settings_that_do_not_fit_the_sequence_are_refused(sampler, prompt, needle):
    with pytest.raises(refimpl.RefimplError, match=needle):
        refimpl.exact_law(MODEL, sampler, L, V, prompt=prompt)
