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
    (dict(steps=4, position_temperature=0.5, original="dllm"), None),
    (dict(steps=3, block_length=1, threshold=0.0, original="dllm"), np.array([2, V, V, V])),
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


def test_dllms_port_has_the_same_law_and_its_own_calls():
    """The port computes the same law; it calls the model at every iteration (the bypass's too) and once more to look
    ahead, never at a block's start: coupled pairs cost 3 calls with or without the bypass."""
    oracle = refimpl.oracle_denoiser(refimpl.datasets.coupled_pairs())
    assert refimpl.expected_calls(oracle, S.InfoGain(2, original="dllm"), 2, 4) == 3.0
    assert refimpl.expected_calls(oracle, S.InfoGain(2, threshold=0.0, original="dllm"), 2, 4) == 3.0
    np.testing.assert_allclose(refimpl.exact_law(MODEL, S.InfoGain(4, original="dllm"), L, V),
                               refimpl.exact_law(MODEL, S.InfoGain(4), L, V), atol=1e-15)


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


def path_law(denoiser, sampler, tie):
    """The law by following every path: per iteration (one block, T = 0) the bypass, else every sequence of the N - 1
    candidate draws (each position with its softmax(c / tau) probability), candidate 0 by ``tie`` among the most
    confident ("random": each tied one equally likely), repeats dropped, the lookahead scores computed from the
    denoiser, the first best — written from the sampler's description, not from refimpl's closed form."""
    import itertools

    def entropy(row):
        row = row[row > 0]
        return float(-(row * np.log(row)).sum())

    def score(z, pos, token):
        ahead = z.copy()
        ahead[pos] = token
        left = [i for i in range(L) if ahead[i] == V]
        mu = np.asarray(denoiser(ahead[None]))[0]
        h_next = sum(entropy(mu[i]) for i in left) / (len(left) + 1e-10)
        own = entropy(np.asarray(denoiser(z[None]))[0, pos]) if sampler.variant == "info_gain" else 0.0
        return -own - h_next

    paths = {tuple([V] * L): 1.0}
    for _ in range(L):
        after = {}
        for z, mass in paths.items():
            z = np.array(z)
            at = [i for i in range(L) if z[i] == V]
            if not at:
                after[tuple(z)] = after.get(tuple(z), 0.0) + mass
                continue
            mu = np.asarray(denoiser(z[None]))[0]
            conf = {i: mu[i].max() for i in at}
            token = {i: int(np.argmax(mu[i])) for i in at}
            top = [i for i in at if conf[i] == max(conf.values())]
            firsts = {"lowest": [(1.0, top[0])], "highest": [(1.0, top[-1])],
                      "random": [(1.0 / len(top), i) for i in top]}[tie]
            weights = np.exp(np.array([conf[i] for i in at]) / sampler.position_temperature)
            pi = dict(zip(at, weights / weights.sum()))
            for w0, first in firsts:
                for draws in itertools.product(at, repeat=sampler.candidates - 1):
                    p = w0 * float(np.prod([pi[d] for d in draws]))
                    found = []
                    for c in (first,) + draws:
                        if c not in found:
                            found.append(c)
                    scores = [score(z, c, token[c]) for c in found]
                    pick = found[int(np.argmax(scores))]
                    new = z.copy()
                    new[pick] = token[pick]
                    after[tuple(new)] = after.get(tuple(new), 0.0) + mass * p
        paths = after
    out = np.zeros((V,) * L)
    for z, mass in paths.items():
        out[z] += mass
    return out


@pytest.mark.parametrize("tie", ["lowest", "highest", "random"])
def test_each_tie_rule_follows_every_path_of_candidate_draws(tie):
    """On an exchangeable law (confidences and scores tie), the closed form under each tie rule against every path of
    three candidates; the tie probability is positive there."""
    from tests.samplers.test_ties import exchangeable_table

    oracle = refimpl.oracle_denoiser(exchangeable_table(1))
    sampler = S.InfoGain(4, candidates=3, position_temperature=0.5, threshold=0.0, tie=tie)
    np.testing.assert_allclose(refimpl.exact_law(oracle, sampler, L, V), path_law(oracle, sampler, tie), atol=1e-12)
    lookum = S.InfoGain(4, candidates=3, position_temperature=0.5, threshold=0.0, variant="lookum", tie=tie)
    np.testing.assert_allclose(refimpl.exact_law(MODEL, lookum, L, V), path_law(MODEL, lookum, tie), atol=1e-12)
    assert refimpl.tie_probability(oracle, sampler, L, V) > 0
