"""The Info-Gain and LookUM lookahead samplers (issue #37, rule R10): refimpl's exact law (candidate positions drawn
i.i.d., repeats dropped, the best lookahead score, in closed form) and calls against the sampler's loop re-written
from its code (tests/originals.py), and the cost against the number of candidates."""
import functools

import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl import samplers as S

from tests import originals
from tests.helpers import with_calls

V, L = 3, 4
TABLE = refimpl.datasets.dirichlet(V, L, np.random.default_rng(7), concentration=0.5).table
MODEL = rt.perturbed_oracle(TABLE, mix=0.3, seed=7)


def loop(**settings):
    return with_calls(functools.partial(originals.info_gain, **settings))


@pytest.mark.parametrize("settings, prompt", [
    (dict(steps=4, threshold=0.0), None), (dict(steps=4, candidates=3, position_temperature=0.5), None),
    (dict(steps=4, block_length=2, variant="lookum", threshold=0.0, position_temperature=1.0), None),
    (dict(steps=3, threshold=0.5, candidates=4), np.array([2, V, V, V])),
])
def test_the_loop_matches_the_exact_law_and_calls(settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded."""
    rt.assert_sampler_matches(loop(**settings), S.InfoGain(**settings), MODEL, TABLE, n=1500, seed=3, prompt=prompt,
                              blind_spots="ignore")


def test_the_check_can_fail_the_other_score_is_rejected():
    """LookUM's samples against Info-Gain's law (TV 0.66 here; the position temperature moves it by 0.02 only)."""
    settings = dict(steps=4, threshold=0.0, position_temperature=0.3, candidates=4)
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(**dict(settings, variant="lookum")), S.InfoGain(**settings), MODEL, TABLE,
                                  n=1500, seed=3, blind_spots="ignore")


def test_one_candidate_is_greedy_confidence_decoding_and_the_variants_differ():
    """candidates = 1 takes the most confident position each step with its argmax: LLaDA one at a time at T = 0; more
    candidates make the law random; info_gain and lookum score differently."""
    one = S.InfoGain(4, candidates=1, threshold=0.0)
    np.testing.assert_allclose(refimpl.exact_law(MODEL, one, L, V),
                               refimpl.exact_law(MODEL, S.LLaDA(4, temperature=0.0), L, V), atol=1e-14)
    many = refimpl.exact_law(MODEL, S.InfoGain(4, threshold=0.0, position_temperature=1.0), L, V)
    assert np.count_nonzero(many > 1e-12) > 1
    lookum = refimpl.exact_law(MODEL, S.InfoGain(4, threshold=0.0, position_temperature=1.0, variant="lookum"), L, V)
    assert refimpl.tv(many, lookum) > 1e-3


def test_the_bypass_costs_no_call():
    """Coupled pairs: after A (or C) the other position has probability 1, so the bypass fills it from the logits held:
    the block's call and one lookahead; without the bypass one more."""
    oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    assert refimpl.expected_calls(oracle, S.InfoGain(2), 2, 4) == 2.0
    assert refimpl.expected_calls(oracle, S.InfoGain(2, threshold=0.0), 2, 4) == 3.0


@pytest.mark.parametrize("settings", [dict(steps=0), dict(steps=4, candidates=0), dict(steps=4, variant="gain"),
                                      dict(steps=4, position_temperature=-1.0), dict(steps=4, threshold=-0.1),
                                      dict(steps=4, tie="sideways")])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        S.InfoGain(**settings)


def test_too_few_steps_are_refused():
    with pytest.raises(refimpl.RefimplError, match="leave masks"):
        refimpl.exact_law(MODEL, S.InfoGain(2), L, V)
