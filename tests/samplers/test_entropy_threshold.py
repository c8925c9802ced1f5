"""Entropy threshold decoding (issue #37, rule R2): refimpl's exact law and calls against sglang's EntropyThreshold
loop re-written from its code (tests/originals.py: sglang python/sglang/srt/dllm/algorithm/entropy_threshold.py at
26eb1bf), with d3LLM's temperature mode."""
import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl.samplers.entropy_threshold import EntropyThreshold

from tests import originals

V, L = 3, 4
LAW = refimpl.datasets.dirichlet(V, L, np.random.default_rng(11), concentration=0.5).table
MODEL = rt.perturbed_oracle(LAW, mix=0.3, seed=2)


def sglang_loop(denoiser, n, rng, length, vocab_size, prompt, **settings):
    """The original's loop (tests/originals.py), with each row's model calls."""
    calls = np.zeros(n, dtype=np.int64)
    return originals.sglang_entropy_threshold(denoiser, n, rng, length, vocab_size, prompt, calls=calls,
                                              **settings), calls


def loop(**settings):
    return lambda denoiser, n, rng, length, vocab_size, prompt: sglang_loop(denoiser, n, rng, length, vocab_size,
                                                                            prompt, **settings)


@pytest.mark.parametrize("settings", [dict(), dict(threshold=0.5), dict(threshold=0.6, block_length=2),
                                      dict(threshold=0.3, comparison="<=", final_call=False)])
def test_the_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls(settings):
    x, calls = sglang_loop(MODEL, 1, None, L, V, None, **settings)
    sampler = EntropyThreshold(**settings)
    law = refimpl.exact_law(MODEL, sampler, L, V)
    assert law[tuple(x[0])] == pytest.approx(1.0, abs=1e-12)
    assert refimpl.expected_calls(MODEL, sampler, L, V) == calls[0]


@pytest.mark.parametrize("settings", [dict(temperature=1.0), dict(threshold=0.5, block_length=2, temperature=0.7)])
def test_d3llms_temperature_mode_matches_the_exact_law_and_calls(settings):
    """Chi-square and the calls check at alpha = 1e-3, seeded; and a deliberately wrong threshold is rejected."""
    rt.assert_sampler_matches(loop(**settings), EntropyThreshold(**settings), MODEL, LAW, n=3000, seed=4,
                              blind_spots="ignore")
    wrong = dict(settings, threshold=5.0)  # above ln V: every masked position at once
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(**wrong), EntropyThreshold(**settings), MODEL, LAW, n=3000, seed=4,
                                  blind_spots="ignore")


def test_strict_and_non_strict_differ_where_an_entropy_equals_the_threshold():
    """Coupled pairs: both positions have entropy ln 2 at the start, then 0.  At threshold ln 2, "<" commits one
    (the lowest position), then the other: 2 steps + 1 call; "<=" commits both: 1 + 1; and the tie between the
    two positions decides the first step under "<" (tie probability 1)."""
    p = refimpl.datasets.coupled_pairs()
    oracle = refimpl.oracle_denoiser(p)
    strict, loose = EntropyThreshold(float(np.log(2))), EntropyThreshold(float(np.log(2)), comparison="<=")
    assert refimpl.expected_calls(oracle, strict, 2, 4) == 3.0 and refimpl.expected_calls(oracle, loose, 2, 4) == 2.0
    assert refimpl.tie_probability(oracle, strict, 2, 4) == 1.0
    np.testing.assert_allclose(refimpl.exact_law(oracle, strict, 2, 4), refimpl.exact_law(oracle, loose, 2, 4))


@pytest.mark.parametrize("settings", [dict(threshold=-1.0), dict(comparison="=="), dict(final_call="yes"),
                                      dict(tie="sideways"), dict(temperature=-1.0)])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        EntropyThreshold(**settings)
    with pytest.raises(refimpl.RefimplError, match="does not divide"):
        refimpl.exact_law(MODEL, EntropyThreshold(block_length=3), L, V)


def test_the_codes_epsilon_decides_an_entropy_at_the_threshold():
    """Coupled pairs at threshold ln 2: both positions' entropy is exactly ln 2, not below it, so the exact entropy
    commits one per step (2 steps + 1 call); sglang's -sum p log(p + 1e-8) is ln 2 - 2e-8 and commits both at once
    (1 + 1), as its loop re-written in tests/originals.py does; MultiBlock likewise with the codes' 1e-12."""
    p = refimpl.datasets.coupled_pairs()
    oracle = refimpl.oracle_denoiser(p)
    threshold = float(np.log(2))
    assert refimpl.expected_calls(oracle, EntropyThreshold(threshold), 2, 4) == 3.0
    coded = EntropyThreshold(threshold, entropy_epsilon=1e-8)
    assert refimpl.expected_calls(oracle, coded, 2, 4) == 2.0
    x, calls = sglang_loop(oracle, 1, None, 2, 4, None, threshold=threshold)
    assert calls[0] == 2 and refimpl.exact_law(oracle, coded, 2, 4)[tuple(x[0])] == 1.0
    from refimpl.samplers.multi_block import MultiBlock
    assert refimpl.expected_calls(oracle, MultiBlock(threshold), 2, 4) == 2.0
    assert refimpl.expected_calls(oracle, MultiBlock(threshold, entropy_epsilon=1e-12), 2, 4) == 1.0
