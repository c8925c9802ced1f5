"""dllm's MDLM sampler with alpha-schedule step counts (issue #37, rule R13): refimpl's exact law and calls against
dllm's loop re-written from its code (tests/originals.py); steps that reveal nothing make no call."""
import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl import samplers as S
from refimpl.samplers.dllm_mdlm import alpha_counts

from tests import originals

V, L = 3, 4
TABLE = refimpl.datasets.dirichlet(V, L, np.random.default_rng(7), concentration=0.5).table
MODEL = rt.perturbed_oracle(TABLE, mix=0.3, seed=7)


def loop(**settings):
    settings = {("schedule" if k == "alpha_schedule" else k): v for k, v in settings.items()}

    def run(denoiser, n, rng, length, vocab_size, prompt):
        calls = np.zeros(n, dtype=np.int64)
        return originals.dllm_mdlm(denoiser, n, rng, length, vocab_size, prompt, calls=calls, **settings), calls
    return run


@pytest.mark.parametrize("settings, prompt", [
    (dict(steps=4, temperature=1.0), None), (dict(steps=8, block_length=2, temperature=0.7), None),
    (dict(steps=3, alpha_schedule="cosine", temperature=1.0), np.array([2, V, V, V])),
    (dict(steps=6, block_length=2, temperature=1.0, remasking="random"), np.array([1, V, V, V])),
])
def test_dllms_loop_matches_the_exact_law_and_calls(settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded; LLaDA's even split in its place is rejected where the
    counts differ."""
    sampler = S.DllmMDLM(**settings)
    rt.assert_sampler_matches(loop(**settings), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                              blind_spots="ignore")


@pytest.mark.parametrize("settings, prompt", [
    (dict(steps=4, temperature=1.0, stochastic=True), None),
    (dict(steps=4, block_length=2, temperature=0.7, stochastic=True, alpha_schedule="cosine"), None),
    (dict(steps=2, temperature=1.0, stochastic=True), np.array([2, V, V, V])),
])
def test_the_stochastic_counts_match_the_exact_law_and_calls(settings, prompt):
    """dllm's stochastic_transfer: Binomial counts, a call only for a nonzero one — chi-square and the calls check at
    alpha = 1e-3, seeded; the deterministic counts' law and calls are rejected for these samples."""
    sampler = S.DllmMDLM(**settings)
    rt.assert_sampler_matches(loop(**settings), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                              blind_spots="ignore")
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(**settings), S.DllmMDLM(**dict(settings, stochastic=False)), MODEL, TABLE,
                                  n=4000, seed=3, prompt=prompt, blind_spots="ignore")


def test_the_stochastic_calls_in_closed_form():
    """Two steps (linear: reveal probabilities 1/2, then 1) over four masks: P(the first count is 0) = 1/16 and
    P(it is 4) = 1/16, so E[calls] = 15/16 + 15/16."""
    assert refimpl.expected_calls(MODEL, S.DllmMDLM(2, temperature=1.0, stochastic=True), L, V) == pytest.approx(1.875)


def test_the_check_can_fail_llada_s_even_split_is_rejected():
    """Four masks over three steps: dllm's linear counts are [1, 1, 2] — in float32 the second step's keep ratio
    (1 - alpha(1/3)) / (1 - alpha(2/3)) is 0.50000006, so round(3 x 0.49999994) = 1, where exact arithmetic gives
    round(1.5) = 2 — and LLaDA's [2, 1, 1]."""
    assert alpha_counts(4, 3) == [1, 1, 2]
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(steps=3, temperature=1.0), S.LLaDA(3, temperature=1.0), MODEL, TABLE, n=4000,
                                  seed=3, blind_spots="ignore")


def test_the_greedy_code_is_a_point_mass_with_the_calls_of_the_nonzero_counts():
    for settings in (dict(steps=4), dict(steps=2), dict(steps=16, block_length=3), dict(steps=5, alpha_schedule="cosine")):
        calls = np.zeros(1, dtype=np.int64)
        x = originals.dllm_mdlm(MODEL, 1, None, L, V, None, calls=calls,
                                **{("schedule" if k == "alpha_schedule" else k): v for k, v in settings.items()})[0]
        sampler = S.DllmMDLM(**settings)
        assert refimpl.exact_law(MODEL, sampler, L, V)[tuple(x)] == pytest.approx(1.0, abs=1e-12)
        assert refimpl.expected_calls(MODEL, sampler, L, V) == calls[0]


def test_steps_that_reveal_nothing_are_skipped():
    """Linear alpha, one mask over two steps: the first count is round(0.5) = 0 (half to even), so one call; two
    masks over four steps: [0, 1, 0, 1] -> two calls; and the counts always sum to the masks."""
    assert alpha_counts(1, 2) == [1] and alpha_counts(2, 4) == [1, 1]
    for masks in range(1, 9):
        for steps in range(1, 12):
            for schedule in ("linear", "cosine"):
                counts = alpha_counts(masks, steps, schedule)
                assert sum(counts) == masks and len(counts) <= steps and all(k > 0 for k in counts)
    oracle = refimpl.oracle_denoiser(TABLE)
    assert refimpl.expected_calls(oracle, S.DllmMDLM(8), L, V) < 8


def test_with_as_many_steps_as_masks_and_the_linear_schedule_it_is_llada_one_at_a_time():
    """k_j = round(M_j / (S - j)) = 1 when S = M: LLaDA's one token per step (low confidence, any temperature)."""
    for temperature in (0.0, 1.0):
        np.testing.assert_allclose(refimpl.exact_law(MODEL, S.DllmMDLM(L, temperature=temperature), L, V),
                                   refimpl.exact_law(MODEL, S.LLaDA(L, temperature=temperature), L, V), atol=1e-14)


@pytest.mark.parametrize("settings", [dict(steps=0), dict(steps=2, alpha_schedule="cos"), dict(steps=2, remasking="top"),
                                      dict(steps=2, block_length=0), dict(steps=2, temperature=-1.0)])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        S.DllmMDLM(**settings)
