"""Joint threshold decoding with editing (issue #37, rule R1): refimpl's exact law and calls against sglang's
JointThreshold in its base loop and LLaDA2.1's generate, each re-written from its code (tests/originals.py), the
training-posterior editing oracle against a brute-force posterior, tie rules against every path of the loop, and the
one-token-per-step setting against LLaDA's one-at-a-time decoder."""
import itertools

import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl import samplers as S
from refimpl.denoisers.substitution import substitution_oracle

from tests import originals
from tests.samplers.test_ties import RULES, exchangeable_table, rankings
from tests.samplers.test_ties_editing import drawn

V, L = 3, 4
GREEDY = [dict(), dict(threshold=0.8, edit_threshold=0.3, max_post_edit_steps=2, block_length=2),
          dict(threshold=0.95, edit_threshold=0.5, max_post_edit_steps=0), dict(threshold=0.3, max_post_edit_steps=1)]
HF_NAMES = {"edit_threshold": "editing_threshold", "max_post_edit_steps": "max_post_steps"}


def models():
    for seed in range(3):
        table = refimpl.datasets.dirichlet(V, L, np.random.default_rng(seed), concentration=0.2).table
        yield rt.perturbed_oracle(table, mix=0.3, seed=seed)
        yield refimpl.oracle_denoiser(table)


def hf_settings(settings):
    out = {HF_NAMES.get(k, k): v for k, v in settings.items()}
    out.setdefault("threshold", 0.5)
    out.setdefault("editing_threshold", 0.0)
    return out


def greedy_run(loop, denoiser, **settings):
    calls = np.zeros(1, dtype=np.int64)
    return loop(denoiser, 1, None, L, V, None, calls=calls, **settings)[0], calls[0]


@pytest.mark.parametrize("settings", GREEDY + [dict(penalty_lambda=1.5, max_post_edit_steps=1)])
def test_sglangs_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls(settings):
    for denoiser in models():
        x, calls = greedy_run(originals.sglang_joint_threshold, denoiser, **settings)
        sampler = S.JointThreshold(**settings)
        assert refimpl.exact_law(denoiser, sampler, L, V)[tuple(x)] == pytest.approx(1.0, abs=1e-12)
        assert refimpl.expected_calls(denoiser, sampler, L, V) == calls


@pytest.mark.parametrize("settings", GREEDY + [dict(num_to_transfer=2, threshold=0.99)])
def test_llada21_generates_greedy_code_is_the_same_point_mass_with_its_own_calls(settings):
    for denoiser in models():
        x, calls = greedy_run(originals.llada21_generate, denoiser, **hf_settings(settings))
        sampler = S.JointThreshold(**settings, original="hf")
        assert refimpl.exact_law(denoiser, sampler, L, V)[tuple(x)] == pytest.approx(1.0, abs=1e-12)
        assert refimpl.expected_calls(denoiser, sampler, L, V) == calls


def loop(**settings):
    def run(denoiser, n, rng, length, vocab_size, prompt, predict=None):
        calls = np.zeros(n, dtype=np.int64)
        x = originals.llada21_generate(denoiser, n, rng, length, vocab_size, prompt, calls=calls, predict=predict,
                                       **hf_settings(settings))
        return x, calls
    return run


TABLE = refimpl.datasets.dirichlet(V, L, np.random.default_rng(7), concentration=0.5).table
MODEL = rt.perturbed_oracle(TABLE, mix=0.3, seed=7)


@pytest.mark.parametrize("settings, prompt", [
    (dict(temperature=1.0, threshold=0.6, edit_threshold=0.5, max_post_edit_steps=3), None),
    (dict(temperature=0.7, threshold=0.9, edit_threshold=0.8, block_length=2, num_to_transfer=2), None),
    (dict(temperature=1.0, threshold=0.5, edit_threshold=0.6, max_post_edit_steps=2), np.array([2, V, V, V])),
])
def test_llada21s_temperature_mode_matches_the_exact_law_and_calls(settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded; a deliberately wrong edit threshold is rejected."""
    sampler = S.JointThreshold(**settings, original="hf")
    rt.assert_sampler_matches(loop(**settings), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                              blind_spots="ignore")
    wrong = dict(settings, edit_threshold=0.0)
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(**wrong), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                                  blind_spots="ignore")


def brute_force_posterior(table, rate):
    """predict(x) -> (n, L, V): p(x_j = v | every visible token seen through the substitution channel), by summing the
    law over every sequence — at masked and clean positions alike, written from the definition."""
    sequences = np.array(list(itertools.product(range(V), repeat=L)))
    weights = table.reshape(-1)

    def predict(z):
        out = np.zeros(z.shape + (V,))
        for b, row in enumerate(z):
            seen = row != V
            likelihood = np.where(sequences[:, seen] == row[seen], 1 - rate + rate / V, rate / V).prod(axis=1)
            joint = weights * likelihood
            for j in range(L):
                out[b, j] = np.bincount(sequences[:, j], weights=joint, minlength=V) / joint.sum()
        return out
    return predict


@pytest.mark.parametrize("settings", [dict(threshold=0.3, edit_threshold=0.3),
                                      dict(temperature=1.0, threshold=0.6, edit_threshold=0.4, max_post_edit_steps=3)])
def test_the_training_posterior_oracle_edits_as_a_brute_force_posterior(settings):
    """Against LLaDA2.1's loop reading a posterior summed from the law; the option changes the law here (against
    leave-one-out), and rate 1 (every token seen distrusted) is leave-one-out."""
    rate = 0.3
    predict = brute_force_posterior(TABLE, rate)
    sampler = S.JointThreshold(**settings, original="hf", substitution_rate=rate)
    oracle = substitution_oracle(TABLE, rate)
    if settings.get("temperature", 0.0) == 0:
        x, calls = greedy_run(lambda *a, **k: originals.llada21_generate(*a, predict=predict, **k), oracle,
                              **hf_settings(settings))
        assert refimpl.exact_law(oracle, sampler, L, V)[tuple(x)] == pytest.approx(1.0, abs=1e-12)
        assert refimpl.expected_calls(oracle, sampler, L, V) == calls
    else:
        run = loop(**settings)
        rt.assert_sampler_matches(lambda *a: run(*a, predict=predict), sampler, oracle, TABLE, n=4000, seed=5,
                                  blind_spots="ignore")
    laws = [refimpl.exact_law(oracle, S.JointThreshold(**settings, original="hf", substitution_rate=r), L, V)
            for r in (rate, None, 1.0)]
    assert refimpl.tv(laws[0], laws[1]) > 0.1 and refimpl.tv(laws[1], laws[2]) < 1e-12
    masked = np.array([[V, 1, V, 0], [V, V, V, V], [2, V, 1, V]])
    got = oracle(masked)
    np.testing.assert_allclose(got[masked == V], predict(masked)[masked == V], atol=1e-13)
    np.testing.assert_allclose(substitution_oracle(TABLE, 0.0)(masked), refimpl.oracle_denoiser(TABLE)(masked),
                               atol=1e-13)


def path_law(denoiser, sampler, tie, ties=False):
    """The law (or, with ``ties``, the mass of paths meeting a draw whose kept set the order of tied confidences
    changes) by following every path of LLaDA2.1's loop, one block, every draw at every position, the top-n commit's
    ties broken by ``tie``."""
    paths = {(tuple([V] * L), 0, False, False): 1.0}  # (x, post steps, finished, met a deciding tie)
    given = np.zeros(L, dtype=bool)
    while any(not done for _, _, done, _ in paths):
        after = {}
        for (x, post, done, tied), mass in paths.items():
            x = np.array(x)
            masked = [i for i in range(L) if x[i] == V]
            clean = [i for i in range(L) if x[i] != V and not given[i]]
            post += not masked
            if done or post > sampler.max_post_edit_steps:
                key = (tuple(x), post, True, tied)
                after[key] = after.get(key, 0.0) + mass
                continue
            mu = originals._every_position(denoiser, x[None], V)[0]
            for draw in itertools.product(*(drawn(mu[i:i + 1], sampler.temperature)[0] for i in masked + clean)):
                token = {i: v for i, (v, _, _) in zip(masked + clean, draw)}
                conf = {i: c for i, (_, _, c) in zip(masked + clean, draw)}
                p = float(np.prod([w for _, w, _ in draw]))
                edits = [j for j in clean if conf[j] > sampler.edit_threshold and token[j] != x[j]]
                options, decided = [(1.0, [])], False
                if masked:
                    confidence = [conf[i] for i in masked]
                    high = [a for a in range(len(masked)) if confidence[a] > sampler.threshold]
                    if len(high) >= sampler.num_to_transfer:
                        options = [(1.0, high)]
                    else:
                        take = min(sampler.num_to_transfer, len(masked))
                        options = [(w, ranked[:take]) for w, ranked in rankings(tie, confidence, masked)]
                        decided = len({tuple(sorted(r[:take])) for _, r in rankings("random", confidence, masked)}) > 1
                for weight, chosen in options:
                    new = x.copy()
                    for i in [masked[a] for a in chosen] + edits:
                        new[i] = token[i]
                    key = (tuple(new), post, not masked and not edits, tied or decided)
                    after[key] = after.get(key, 0.0) + mass * p * weight
        paths = after
    if ties:
        return sum(mass for (_, _, _, tied), mass in paths.items() if tied)
    out = np.zeros((V,) * L)
    for (x, _, _, _), mass in paths.items():
        out[x] += mass
    return out


@pytest.mark.parametrize("tie", RULES)
def test_each_tie_rule_follows_every_path_of_the_loop(tie):
    sampler = S.JointThreshold(threshold=0.6, edit_threshold=0.7, max_post_edit_steps=1, temperature=1.0, tie=tie)
    table = exchangeable_table(1)
    oracle = refimpl.oracle_denoiser(table)
    np.testing.assert_allclose(refimpl.exact_law(oracle, sampler, L, V), path_law(oracle, sampler, tie), atol=1e-13)
    if tie == "lowest":
        chance = refimpl.tie_probability(oracle, sampler, L, V)
        assert chance == pytest.approx(path_law(oracle, sampler, tie, ties=True), abs=1e-13) and chance > 0


def test_one_token_per_step_is_llada_one_at_a_time():
    """threshold 1 (no probability is above it) and edit threshold 1 (no edit): the top-1 each step, LLaDA's
    low-confidence decoder with one token per step, exactly (per block too)."""
    for denoiser in models():
        for block in (None, 2):
            one = S.JointThreshold(threshold=1.0, edit_threshold=1.0, block_length=block)
            llada = S.LLaDA(L, block_length=block, temperature=0.0)
            np.testing.assert_allclose(refimpl.exact_law(denoiser, one, L, V), refimpl.exact_law(denoiser, llada, L, V),
                                       atol=1e-14)


@pytest.mark.parametrize("settings", [dict(threshold=-0.1), dict(edit_threshold=-1.0), dict(max_post_edit_steps=-1),
                                      dict(num_to_transfer=0), dict(original="diffusers"), dict(substitution_rate=0.0),
                                      dict(substitution_rate=1.5), dict(penalty_lambda=-1.0), dict(tie="sideways"),
                                      dict(block_length=0)])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        S.JointThreshold(**settings)


def test_a_block_length_that_does_not_divide_is_refused():
    with pytest.raises(refimpl.RefimplError, match="does not divide"):
        refimpl.exact_law(MODEL, S.JointThreshold(block_length=3), L, V)
