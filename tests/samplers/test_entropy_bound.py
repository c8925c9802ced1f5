"""The EB-Sampler (refimpl.samplers.EntropyBound), exactly: its exact law against refimpl's draws and
against the original's loop (tests/originals.py ``eb_sampler``), with the oracle and a random denoiser
(chi-square at false-alarm rate FALSE_ALARM, seeded); slips caught; closed forms: gamma = 0 reveals one
token per step (the lowest-entropy one: top-1 by negative entropy), an unbounded gamma reveals every
masked position in one call (the product of the marginals, KL = TC(p) with the oracle)."""
import functools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.interop.verify import verify_sampler
from refimpl.laws import metrics, quantities
from refimpl.samplers.steps import FixedCount, TopKStep, entropy_bound_accepts

from tests import originals
from tests.helpers import engine_run, sampler_law_and_denoisers, settings_name, with_calls

TABLE, DENOISERS = sampler_law_and_denoisers()
V, L = 3, 4
FALSE_ALARM = 1e-3
N_SAMPLES = 20000
PROMPT = np.array([2, 3, 3, 3])

SETTINGS = [
    (dict(gamma=0.0), None),
    (dict(gamma=0.5, temperature=1.0), None),
    (dict(gamma=1.0, block_length=2, temperature=0.7), None),
    (dict(gamma=0.8, temperature=1.0, tempered_entropy=True), PROMPT),
    (dict(gamma=2.0, temperature=0.0), PROMPT),
]



@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("case", SETTINGS, ids=lambda case: settings_name(*case))
def test_the_original_loop_agrees_with_the_exact_law_and_calls(case, which):
    settings, prompt = case
    original = with_calls(functools.partial(originals.eb_sampler, **settings))
    result = verify_sampler(original, S.EntropyBound(**settings), DENOISERS[which], TABLE, n=N_SAMPLES, seed=32,
                            prompt=prompt, alpha=FALSE_ALARM)
    assert result["samples_where_exact_law_is_zero"] == 0
    assert result["passed"], result


@pytest.mark.parametrize("slip", [dict(highest_first=True), dict(bound_includes_largest=True)],
                         ids=["entropy-ranked-the-wrong-way", "bound-includes-the-largest"])
def test_a_slip_is_caught(slip):
    settings = dict(gamma=0.9, temperature=1.0)
    original = functools.partial(originals.eb_sampler, **settings, **slip)
    result = verify_sampler(original, S.EntropyBound(**settings), DENOISERS["oracle"], TABLE, n=N_SAMPLES, seed=33,
                            alpha=FALSE_ALARM)
    assert not result["passed"] and result["p_value"] < 1e-6, result


class LowestEntropyFirst:
    """One position per step, the lowest-entropy one: TopKStep(k = 1) by negative entropy."""

    def __init__(self, temperature):
        self.temperature = temperature

    def plan(self, masked, region):
        return [TopKStep(tuple(region), FixedCount(1), self.temperature, "neg_entropy") for _ in range(int(masked.sum()))]


@pytest.mark.parametrize("which", ["oracle", "random"])
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_gamma_zero_reveals_one_token_per_step(which, temperature):
    denoiser = DENOISERS[which]
    result = engine_run(denoiser, S.EntropyBound(0.0, temperature=temperature), L, V, reveals=True)
    law, reveals = result.law, result.reveals
    assert all(len(revealed) == 1 for step in reveals for (_, revealed), mass in step.items() if mass > 0)
    np.testing.assert_allclose(law, refimpl.exact_law(denoiser, LowestEntropyFirst(temperature), L, V), atol=1e-15)
    assert refimpl.expected_calls(denoiser, S.EntropyBound(0.0, temperature=temperature), L, V) == pytest.approx(L)


def test_an_unbounded_gamma_reveals_everything_at_once():
    law = refimpl.exact_law(DENOISERS["oracle"], S.EntropyBound(1e9, temperature=1.0), L, V)
    marginals = [TABLE.sum(axis=tuple(a for a in range(L) if a != i)) for i in range(L)]
    np.testing.assert_allclose(law, functools.reduce(np.multiply.outer, marginals), atol=1e-15)
    assert metrics.kl(TABLE, law) == pytest.approx(quantities.total_correlation(TABLE), rel=1e-10)
    assert refimpl.expected_calls(DENOISERS["oracle"], S.EntropyBound(1e9, temperature=1.0), L, V) == 1.0


def test_the_acceptance_rule_against_a_direct_reading():
    rng = np.random.default_rng(4)
    for _ in range(200):
        entropy = rng.choice([0.0, 0.125, 0.25, 0.5, 0.875], size=6)  # ties on purpose; sums exact in binary
        candidates = rng.random(6) < 0.7
        gamma = rng.choice([0.0, 0.125, 0.375, 1.0])
        chosen = entropy_bound_accepts(entropy, candidates, gamma)
        order = sorted(np.flatnonzero(candidates), key=lambda j: (entropy[j], j))
        expected, total = set(), 0.0
        for j in order:  # accept while the entropies before this one sum to at most gamma
            if total > gamma:
                break
            expected.add(j)
            total += entropy[j]
        assert set(np.flatnonzero(chosen)) == expected


@pytest.mark.parametrize("settings, message", [
    (dict(gamma=-0.1), "gamma must be a finite number >= 0"),
    (dict(gamma=float("inf")), "gamma must be a finite number >= 0"),
    (dict(gamma="a lot"), "gamma must be a finite number >= 0"),
    (dict(gamma=0.1, tempered_entropy="yes"), "tempered_entropy must be True or False"),
    (dict(gamma=0.1, block_length=0), "block_length"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(InvalidParameterError, match=message):
        S.EntropyBound(**settings)
