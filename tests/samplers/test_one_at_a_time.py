"""Issue #37's acceptance: a one-token-per-step setting of each threshold rule equals the corresponding
one-at-a-time decoder exactly (the rules whose own test files do not already show it: JointThreshold, HierarchyBlock,
ShiftConfidence, Nemotron, DllmMDLM and InfoGain do)."""
import numpy as np
import refimpl
import refimpl.testing as rt
from refimpl import samplers as S

V, L = 3, 4


def models():
    for seed in range(3):
        table = refimpl.datasets.dirichlet(V, L, np.random.default_rng(seed), concentration=0.3).table
        yield rt.perturbed_oracle(table, mix=0.3, seed=seed)
        yield refimpl.oracle_denoiser(table)


def test_sglangs_low_confidence_above_one_is_llada_one_at_a_time():
    """No probability is above 1: the top-1 each call, LLaDA's low-confidence decoder with one token per step (per
    block too), at T = 0."""
    for denoiser in models():
        for block in (None, 2):
            np.testing.assert_allclose(
                refimpl.exact_law(denoiser, S.LowConfidence(1.0, block), L, V),
                refimpl.exact_law(denoiser, S.LLaDA(L, block_length=block, temperature=0.0), L, V), atol=1e-14)


def test_entropy_thresholds_at_zero_reveal_the_least_entropy_one_at_a_time():
    """No entropy is below 0: d3LLM's entropy threshold commits the least-entropy position each call, and so does
    multi-block decoding in one block (its forced choice) — the same one-at-a-time decoder, at any temperature."""
    for denoiser in models():
        for temperature in (0.0, 1.0):
            one = refimpl.exact_law(denoiser, S.EntropyThreshold(0.0, temperature=temperature), L, V)
            original = "sglang" if temperature == 0 else "d3llm-dream"
            multi = refimpl.exact_law(denoiser, S.MultiBlock(0.0, temperature=temperature, original=original), L, V)
            np.testing.assert_allclose(one, multi, atol=1e-14)
            assert refimpl.expected_calls(denoiser, S.EntropyThreshold(0.0, final_call=False), L, V) == L
