"""Self-speculation (issue #37, rule R6): LinearSpec's law is greedy autoregressive decoding exactly (a property over
random laws), and its calls are those of sglang's LinearSpec loop re-written from its code (tests/originals.py)."""
import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.samplers.speculative import LinearSpec

from tests import originals


def greedy_ar(denoiser, length, vocab_size, prompt):
    """The greedy autoregressive path: position by position, the argmax of the model's answer with that position and
    every later one masked (lowest token on ties)."""
    z = np.full(length, vocab_size) if prompt is None else np.array(prompt)
    for i in range(length):
        if z[i] == vocab_size:
            hidden = z.copy()
            hidden[i:] = vocab_size
            z[i] = int(np.argmax(np.asarray(denoiser(hidden[None]))[0, i]))
    return tuple(z)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), vocab=st.integers(2, 3), length=st.integers(1, 5), block=st.integers(1, 5),
       concentration=st.sampled_from((0.1, 0.5, 2.0)), prompted=st.integers(0, 2), oracle=st.booleans())
def test_linear_spec_is_greedy_autoregressive_decoding(seed, vocab, length, block, concentration, prompted, oracle):
    table = refimpl.datasets.dirichlet(vocab, length, np.random.default_rng(seed), concentration=concentration).table
    denoiser = refimpl.oracle_denoiser(table) if oracle else rt.perturbed_oracle(table, mix=0.4, seed=seed)
    prompt = None
    if prompted and prompted < length:
        prompt = np.full(length, vocab)
        prompt[:prompted] = np.random.default_rng(seed + 1).integers(0, vocab, prompted)
    law = refimpl.exact_law(denoiser, LinearSpec(block), length, vocab, prompt=prompt)
    assert law[greedy_ar(denoiser, length, vocab, prompt)] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("block", [None, 1, 2, 3])
@pytest.mark.parametrize("prompt", [None, np.array([1, 3, 3, 3, 3]), np.array([0, 2, 3, 3, 3])], ids=["0", "1", "2"])
def test_calls_are_sglangs_two_per_round(block, prompt):
    """Against the loop: its output and its calls (2 per round) equal refimpl's point mass and expected calls."""
    vocab, length = 3, 5
    for seed in range(4):
        table = refimpl.datasets.dirichlet(vocab, length, np.random.default_rng(seed), concentration=0.3).table
        for denoiser in (refimpl.oracle_denoiser(table), rt.perturbed_oracle(table, mix=0.3, seed=seed)):
            calls = np.zeros(1, dtype=np.int64)
            x = originals.linear_spec(denoiser, 1, None, length, vocab, prompt, block_length=block, calls=calls)[0]
            sampler = LinearSpec(block)
            assert refimpl.exact_law(denoiser, sampler, length, vocab, prompt=prompt)[tuple(x)] == 1.0
            assert refimpl.expected_calls(denoiser, sampler, length, vocab, prompt=prompt) == calls[0]


def test_the_calls_check_can_fail():
    """The loop's calls with one block against refimpl's with blocks of 2 (a wrong setting): they differ on some
    model of the ones above (a round cannot cross a block's end)."""
    vocab, length = 3, 5
    differ = 0
    for seed in range(4):
        table = refimpl.datasets.dirichlet(vocab, length, np.random.default_rng(seed), concentration=0.3).table
        for denoiser in (refimpl.oracle_denoiser(table), rt.perturbed_oracle(table, mix=0.3, seed=seed)):
            calls = np.zeros(1, dtype=np.int64)
            originals.linear_spec(denoiser, 1, None, length, vocab, None, calls=calls)
            differ += refimpl.expected_calls(denoiser, LinearSpec(2), length, vocab) != calls[0]
    assert differ > 0


def test_the_monte_carlo_side_follows_the_rounds():
    """refimpl.sample (the step's draw, reading the model through ``model=``) gives the greedy path and the calls."""
    vocab, length = 3, 5
    table = refimpl.datasets.dirichlet(vocab, length, np.random.default_rng(9), concentration=0.3).table
    model = rt.perturbed_oracle(table, mix=0.3, seed=9)
    for block in (None, 2):
        job = refimpl.problem(model, LinearSpec(block), length, vocab)
        out = refimpl.engine.draw(job, 3, np.random.default_rng(0))
        assert {tuple(x) for x in out.sequences.tolist()} == {greedy_ar(model, length, vocab, None)}
        assert (out.calls == refimpl.expected_calls(model, LinearSpec(block), length, vocab)).all()


def test_coupled_pairs_accept_the_whole_draft():
    """"AB" or "CD": the seed A; the draft at position 1 given A is B, and the causal row agrees: one round."""
    oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    assert refimpl.expected_calls(oracle, LinearSpec(), 2, 4) == 2.0
    assert refimpl.exact_law(oracle, LinearSpec(), 2, 4)[0, 1] == 1.0


@pytest.mark.parametrize("settings", [dict(block_length=0), dict(block_length="two")])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        LinearSpec(**settings)


def test_an_infilling_prompt_is_refused():
    oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    with pytest.raises(refimpl.RefimplError, match="prefix"):
        refimpl.exact_law(oracle, LinearSpec(), 2, 4, prompt=np.array([4, 1]))
