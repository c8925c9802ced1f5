"""DiffusionGemma's renoising sampler (issue #38, rule R8): the exact law of the output argmax canvas and the exact
expected decoder calls against dllm's loop re-written in tests/originals.py (chi-square and a normal interval at
1e-3, seeded), a wrong setting rejected, the stop rule's edges and bad input."""
import functools

import numpy as np
import pytest
import refimpl
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from refimpl.samplers.renoise import Renoise
from scipy import stats

from tests import originals
from tests.helpers import random_table

V, L = 3, 3
TABLE = random_table(np.random.default_rng(9), V, L, concentration=0.3)
SHARP = uniform_oracle(TABLE, 0.9)  # confident answers: the stop rule fires
ALPHA = 1e-3


def loop_draws(sampler, model, n, seed):
    calls = np.zeros(n, dtype=np.int64)
    out = originals.renoise(model, n, np.random.default_rng(seed), L, V, calls=calls,
                            **{f.name: getattr(sampler, f.name) for f in sampler.__dataclass_fields__.values()})
    return out, calls


def chi_square_p(samples, law):
    counts = np.bincount(np.ravel_multi_index(tuple(samples.T), law.shape), minlength=law.size)
    expected = law.ravel() * len(samples)
    assert counts[expected == 0].sum() == 0, "a sample the exact law gives probability 0"
    keep = expected > 0
    return stats.chisquare(counts[keep], expected[keep]).pvalue


def calls_agree(calls, exact):
    if calls.std() == 0:
        return calls[0] == pytest.approx(exact, abs=1e-9)
    return abs(calls.mean() - exact) <= stats.norm.ppf(1 - ALPHA / 2) * calls.std(ddof=1) / np.sqrt(len(calls))


@pytest.mark.parametrize("sampler, model", [
    (Renoise(6, confidence_threshold=0.3), SHARP),
    (Renoise(5, entropy_bound=0.5, confidence_threshold=0.5, stability_threshold=0), SHARP),
    (Renoise(4, max_temperature=1.0, min_temperature=0.6), time_agnostic_oracle(TABLE)),
    (Renoise(5, confidence_threshold=None), SHARP),
    (Renoise(7, confidence_threshold=0.3, stability_threshold=2), SHARP),
    (Renoise(8, entropy_bound=0.5, confidence_threshold=0.5, stability_threshold=3), SHARP),
], ids=["s1", "s0", "agnostic", "no-stop", "s2", "s3"])
def test_dllms_loop_follows_the_exact_law_and_calls(sampler, model):
    law, calls = sampler.exact_law_and_calls(model, V, L)
    out, counted = loop_draws(sampler, model, 5000, 1)
    assert chi_square_p(out, law) > ALPHA and calls_agree(counted, calls)
    mine, my_calls = sampler.sample(model, 5000, np.random.default_rng(2), V, L)  # refimpl's own draws
    assert chi_square_p(mine, law) > ALPHA and calls_agree(my_calls, calls)


def test_the_check_can_fail():
    """The loop without its stop rule against the law with it: the calls tell them apart."""
    with_stop = Renoise(6, confidence_threshold=0.3)
    law, calls = with_stop.exact_law_and_calls(SHARP, V, L)
    _, counted = loop_draws(Renoise(6, confidence_threshold=None), SHARP, 3000, 3)
    assert calls < 5.5 and not calls_agree(counted, calls)


def test_the_stop_rule_at_its_edges():
    """A point-mass law (every answer certain) and no stability needed: one call, the point mass out; with the
    stability of s steps: s + 1 calls; a threshold no answer meets: every step."""
    sure = refimpl.datasets.product([[1.0, 0.0, 0.0]] * 3).table
    for threshold, expected in ((0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)):
        law, calls = Renoise(6, stability_threshold=threshold, confidence_threshold=0.01).exact_law_and_calls(
            uniform_oracle(sure, 0.5), V, L)
        assert calls == pytest.approx(expected, abs=1e-12) and law[0, 0, 0] == pytest.approx(1.0, abs=1e-12)
    law, calls = Renoise(6, confidence_threshold=0.0).exact_law_and_calls(SHARP, V, L)
    assert calls == pytest.approx(6.0, abs=1e-12) and law.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("settings, match", [
    (dict(steps=0), "steps"), (dict(entropy_bound=-0.1), "entropy_bound"),
    (dict(min_temperature=0.0), "min_temperature"), (dict(max_temperature=0.3), "min_temperature <= max"),
    (dict(stability_threshold=-1), "stability_threshold"), (dict(confidence_threshold=-1.0), "confidence_threshold"),
])
def test_bad_settings_are_one_clear_error(settings, match):
    with pytest.raises(refimpl.RefimplError, match=match):
        Renoise(**settings)


def test_a_space_too_large_is_refused_before_allocating():
    with pytest.raises(refimpl.MemoryLimitError, match="Renoise's exact law"):
        with refimpl.memory_limit(10**6):
            Renoise(2).exact_law_and_calls(functools.partial(np.full, (1, 1, 1), 1.0), 3, 6)
