"""Multi-block parallel decoding (issue #37, rule R3): refimpl's exact law and calls against sglang's
FullAttnMultiBlock loop and d3LLM's two multi-block loops, each re-written from its code (tests/originals.py:
sglang python/sglang/srt/dllm/algorithm/full_attn_multi_block.py at 26eb1bf; d3LLM e5bfcac)."""
import functools

import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl.samplers.multi_block import MultiBlock

from tests import originals

V, L = 3, 6
SETTINGS = [dict(threshold=0.4, block_length=2, block_add_threshold=0.1, decoded_token_threshold=0.95),
            dict(threshold=0.6, block_length=3, block_add_threshold=0.3, decoded_token_threshold=0.6),
            dict(threshold=0.8, block_length=2, block_add_threshold=0.0, decoded_token_threshold=0.5),
            dict(threshold=0.5, block_length=1, block_add_threshold=0.0, decoded_token_threshold=0.0),
            dict(threshold=0.2, block_length=3, block_add_threshold=0.5, decoded_token_threshold=1.0),
            dict(threshold=0.5, block_length=None, block_add_threshold=0.1, decoded_token_threshold=0.95)]
LOOPS = {"sglang": originals.sglang_full_attn_multi_block, "d3llm-dream": originals.d3llm_multi_block,
         "d3llm-llada": functools.partial(originals.d3llm_multi_block, llada=True)}


def law_with_a_sure_last_token(seed):
    """A random law whose last position is always token 0 (entropy 0 there from the start: far blocks matter)."""
    table = refimpl.datasets.dirichlet(V, L, np.random.default_rng(seed), concentration=0.3).table
    table = table * (np.arange(V) == 0)
    return table / table.sum()


def models():
    for seed in range(2):
        table = law_with_a_sure_last_token(seed)
        yield rt.perturbed_oracle(table, mix=0.2, seed=seed)
        yield refimpl.oracle_denoiser(refimpl.datasets.dirichlet(V, L, np.random.default_rng(seed),
                                                                 concentration=0.1).table)


def run(original, denoiser, n, rng, length, vocab_size, prompt, **settings):
    calls = np.zeros(n, dtype=np.int64)
    return LOOPS[original](denoiser, n, rng, length, vocab_size, prompt, calls=calls, **settings), calls


@pytest.mark.parametrize("original", list(LOOPS))
@pytest.mark.parametrize("settings", SETTINGS)
def test_the_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls(settings, original):
    for denoiser in models():
        x, calls = run(original, denoiser, 1, np.random.default_rng(0), L, V, None, **settings)
        sampler = MultiBlock(**settings, original=original)
        law = refimpl.exact_law(denoiser, sampler, L, V)
        assert law[tuple(x[0])] == pytest.approx(1.0, abs=1e-12)
        assert refimpl.expected_calls(denoiser, sampler, L, V) == calls[0]


def test_the_loops_differ_only_where_the_code_does():
    """sglang and d3LLM's Dream loop give the same output at block_add_threshold > 0 on every model here; at 0 sglang
    opens every block at the first call and d3LLM one per call, and on these laws (a sure last token) some outputs
    differ — refimpl's two originals follow each loop there."""
    differ = 0
    for settings in SETTINGS:
        for denoiser in models():
            outputs = {o: run(o, denoiser, 1, None, L, V, None, **settings)[0][0] for o in ("sglang", "d3llm-dream")}
            same = np.array_equal(*outputs.values())
            if settings["block_add_threshold"] > 0 or settings["block_length"] in (None, 3):
                assert same
            differ += not same
    assert differ > 0


def sampled(original, **settings):
    return lambda denoiser, n, rng, length, vocab_size, prompt: run(original, denoiser, n, rng, length, vocab_size,
                                                                    prompt, **settings)


@pytest.mark.parametrize("original, settings, prompt", [
    ("d3llm-dream", dict(threshold=0.6, block_length=2, block_add_threshold=0.5, decoded_token_threshold=0.5,
                         temperature=1.0), None),
    ("d3llm-llada", dict(threshold=0.5, block_length=2, block_add_threshold=0.0, decoded_token_threshold=1.0,
                         temperature=0.7), np.array([1, 2, V, V, V, V])),
])
def test_d3llms_temperature_modes_match_the_exact_law_and_calls(original, settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded; and a deliberately wrong threshold is rejected."""
    table = law_with_a_sure_last_token(5)
    model = rt.perturbed_oracle(table, mix=0.2, seed=5)
    sampler = MultiBlock(**settings, original=original)
    rt.assert_sampler_matches(sampled(original, **settings), sampler, model, table, n=3000, seed=4, prompt=prompt,
                              blind_spots="ignore")
    wrong = dict(settings, threshold=5.0)  # above ln V: every decodable position at once
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(sampled(original, **wrong), sampler, model, table, n=3000, seed=4, prompt=prompt,
                                  blind_spots="ignore")


def test_ties_the_forced_choice_in_closed_form():
    """Coupled pairs ("AB" or "CD"): both positions ln 2 > 0.4 at the start, so the forced choice is a tie of the two
    (tie probability 1, calls 2); with both below the threshold nothing is forced (no tie, one call); blocks of one
    leave a single forced candidate.  Greedy: A (the lowest token of the tied argmax), then B."""
    p = refimpl.datasets.coupled_pairs()
    oracle = refimpl.oracle_denoiser(p)
    assert refimpl.tie_probability(oracle, MultiBlock(), 2, 4) == 1.0
    assert refimpl.tie_probability(oracle, MultiBlock(threshold=0.7), 2, 4) == 0.0
    assert refimpl.expected_calls(oracle, MultiBlock(threshold=0.7), 2, 4) == 1.0
    assert refimpl.tie_probability(oracle, MultiBlock(block_length=1), 2, 4) == 0.0
    assert refimpl.exact_law(oracle, MultiBlock(), 2, 4)[0, 1] == 1.0  # the argmax A (lowest token), then B


@pytest.mark.parametrize("settings", [dict(threshold=-1.0), dict(block_add_threshold=1.5),
                                      dict(decoded_token_threshold=-0.1), dict(original="dream"),
                                      dict(temperature=1.0), dict(tie="sideways"), dict(block_length=0)])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        MultiBlock(**settings)


def test_a_block_length_that_does_not_divide_is_refused():
    with pytest.raises(refimpl.RefimplError, match="does not divide"):
        refimpl.exact_law(refimpl.oracle_denoiser(law_with_a_sure_last_token(0)), MultiBlock(block_length=4), L, V)
