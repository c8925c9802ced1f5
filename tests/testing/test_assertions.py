"""refimpl.testing's assertions: they pass on correct input, fail with messages that name what differs
(checked against independent computations), and refuse bad input."""
import re

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.laws import datasets, space
from refimpl.testing import (
                             assert_calls_match,
                             assert_denoiser_optimal,
                             assert_laws_close,
                             assert_sampler_matches,
                             assert_samples_match,
                             fixed_mlp,
                             perturbed_oracle,
                             random_denoiser,
)

TABLE = datasets.dirichlet(3, 3, np.random.default_rng(5), concentration=0.5).table
ORACLE = refimpl.oracle_denoiser(TABLE)


def refimpl_sampler(denoiser, n, rng, length, vocab_size, prompt):
    return refimpl.sample(denoiser, S.LLaDA(3, temperature=1.0), n, rng, length, vocab_size, prompt)


def test_laws_close_passes_on_equal_laws_and_names_the_sequences_that_differ_most():
    assert_laws_close(TABLE, TABLE.copy())
    other = TABLE.copy().ravel()
    other[[4, 9]] += [0.02, -0.02 + 0.0]
    other[9] = max(other[9], 0.0)
    other /= other.sum()
    other = other.reshape(TABLE.shape)
    with pytest.raises(AssertionError) as error:
        assert_laws_close(other, TABLE, atol=1e-6)
    biggest = np.argsort(-np.abs(other - TABLE).ravel())[:2]
    lines = str(error.value).splitlines()
    for k in biggest:
        shown = " ".join(map(str, space.decode(int(k), 3, 3)))  # token ids, as a torch user sees them
        assert any(line.strip().startswith(shown + ":") for line in lines)
    assert f"TV = {0.5 * np.abs(other - TABLE).sum():.6g}" in str(error.value)
    assert_laws_close(other, TABLE, tv=0.05)
    with pytest.raises(AssertionError, match="TV = .* > tv = 0.001"):
        assert_laws_close(other, TABLE, tv=1e-3)


def test_denoiser_optimal_passes_for_the_oracle_and_names_the_worst_partial_sequence_otherwise():
    assert_denoiser_optimal(ORACLE, TABLE)
    assert_denoiser_optimal(refimpl.denoisers.tabulate(ORACLE, 3, 3), TABLE)
    bad = perturbed_oracle(TABLE, mix=0.1, seed=3)
    z = space.partial_sequences(3, 3)
    worst, where = -1.0, None
    for row in z:  # independent: the conditionals of the law at every reachable partial sequence
        clean = row != 3
        if TABLE[tuple(np.where(clean, row, slice(None)))].sum() == 0:
            continue
        deviation = np.abs(bad(row[None])[0] - refimpl.conditional_marginals(TABLE, row)).max()
        if deviation > worst:
            worst, where = deviation, row
    with pytest.raises(AssertionError) as error:
        assert_denoiser_optimal(bad, TABLE)
    message = str(error.value)
    shown = float(re.search(r"largest error ([0-9.e+-]+)", message).group(1))
    assert abs(shown - worst) <= 1e-5 * worst
    assert "[" + " ".join("M" if t == 3 else str(t) for t in where) + "]" in message  # token ids, as the CLI prints them
    assert "NELBO" in message and "H(p)" in message


def test_samples_from_the_law_pass_and_samples_from_another_law_fail_naming_the_outputs():
    rng = np.random.default_rng(0)
    cells = space.clean_sequences(3, 3)
    good = cells[rng.choice(27, size=20000, p=TABLE.ravel())]
    fit = assert_samples_match(good, TABLE)
    assert fit.samples == 20000 and 0 < fit.detectable_tv < 0.05
    q = 0.8 * TABLE.ravel() + 0.2 * np.eye(27)[26]  # 20% moved to 2 2 2 (CCC)
    bad = cells[rng.choice(27, size=20000, p=q)]
    with pytest.raises(AssertionError) as error:
        assert_samples_match(bad, TABLE)
    message = str(error.value)
    over = message.split("most over-represented:\n")[1].splitlines()[0]
    assert over.strip().startswith("2 2 2:") and "detects any deviation of TV >=" in message


def test_a_sample_where_the_law_is_zero_fails_at_once():
    table = np.array([[0.5, 0.0], [0.0, 0.5]])
    samples = np.array([[0, 0]] * 50 + [[1, 1]] * 49 + [[0, 1]])
    with pytest.raises(AssertionError, match=r"1 samples fall where the exact law is 0[\s\S]*0 1: observed 1, expected 0.0"):
        assert_samples_match(samples, table)
    with pytest.raises(AssertionError, match=r"1 samples fall where the exact law is 0[\s\S]*AB: observed 1, expected 0.0"):
        assert_samples_match(samples, table, letters=True)


def test_sampler_matches_passes_for_refimpls_own_sampler_and_checks_calls():
    fit = assert_sampler_matches(refimpl_sampler, S.LLaDA(3, temperature=1.0), ORACLE, TABLE, seed=1)
    assert fit.samples == 20000

    def with_calls(denoiser, n, rng, length, vocab_size, prompt):
        return refimpl_sampler(denoiser, n, rng, length, vocab_size, prompt), np.full(n, 3)

    assert_sampler_matches(with_calls, S.LLaDA(3, temperature=1.0), ORACLE, TABLE, seed=1)

    def too_many_calls(denoiser, n, rng, length, vocab_size, prompt):
        return refimpl_sampler(denoiser, n, rng, length, vocab_size, prompt), np.full(n, 4)

    with pytest.raises(AssertionError, match="mean 4 over 20000 sequences.*makes 3 on average"):
        assert_sampler_matches(too_many_calls, S.LLaDA(3, temperature=1.0), ORACLE, TABLE, seed=1)


def test_sampler_matches_fails_for_a_different_rule_naming_the_sampler():
    def random_remasking(denoiser, n, rng, length, vocab_size, prompt):
        return refimpl.sample(denoiser, S.LLaDA(3, temperature=1.0, remasking="random"), n, rng, length, vocab_size)

    with pytest.raises(AssertionError, match=r"as LLaDA[\s\S]*most over-represented"):
        assert_sampler_matches(random_remasking, S.LLaDA(3, temperature=1.0), fixed_mlp(3, 3, seed=2), TABLE)


def test_calls_match_against_the_exact_expectation_of_a_cached_loop():
    sampler = S.Ancestral(steps=6, cache=True)
    exact = refimpl.expected_calls(ORACLE, sampler, length=3, vocab_size=3)
    rng = np.random.default_rng(4)
    floor = np.floor(exact)
    assert_calls_match(floor + (rng.random(20000) < exact - floor), sampler, ORACLE, 3, 3)
    with pytest.raises(AssertionError, match="detects a difference of"):
        assert_calls_match(floor + (rng.random(20000) < exact - floor + 0.05), sampler, ORACLE, 3, 3)


@pytest.mark.parametrize("call", [
    lambda: assert_laws_close(TABLE, np.ones((2, 2)) / 4), lambda: assert_laws_close(TABLE, TABLE, atol=-1),
    lambda: assert_laws_close("x", TABLE), lambda: assert_denoiser_optimal(ORACLE, TABLE, tolerance=-1),
    lambda: assert_denoiser_optimal(lambda z: np.ones((1, 1, 1)), TABLE),
    lambda: assert_samples_match([[0, 1, 2]], TABLE, alpha=0), lambda: assert_samples_match([[0, 1, 2]], TABLE, top=0),
    lambda: assert_sampler_matches("fn", S.FirstHitting(), ORACLE, TABLE),
    lambda: assert_sampler_matches(refimpl_sampler, S.FirstHitting(), ORACLE, TABLE, n=0),
    lambda: assert_sampler_matches(refimpl_sampler, "LLaDA", ORACLE, TABLE),
    lambda: random_denoiser(1, 3), lambda: random_denoiser(3, 3, sharpness=-1), lambda: perturbed_oracle(TABLE, mix=2),
    lambda: fixed_mlp(3, 3, hidden=(0,)),
])
def test_bad_input_raises_a_clear_error(call):
    with pytest.raises(refimpl.RefimplError):
        call()


def _returning(row):
    def sample_fn(denoiser, n, rng, length, vocab_size, prompt):
        return np.tile(np.asarray(row), (n, 1))

    return sample_fn


@pytest.mark.parametrize("call, message", [
    (lambda: assert_samples_match([[0, 1, 5]], TABLE),
     r"tokens outside 0..2 in 1 of 1 rows \(e.g. 5\); e.g. row 0: \[0 1 <5>\]"),
    (lambda: assert_samples_match(np.zeros((0, 3), int), TABLE), r"shape \(0, 3\); expected \(n, 3\)"),
    (lambda: assert_samples_match([[0, 3, 1], [1, 1, 1], [3, 3, 0]], TABLE),
     r"leave masks \(id 3\) in 2 of 3 rows, at positions \[0, 1\] \(counted from 0\); e.g. row 0: \[0 M 1\]"),
    (lambda: assert_samples_match(np.zeros((4, 3)), TABLE), r"hold dtype float64, shape \(4, 3\); expected integers"),
    (lambda: assert_samples_match([[0, 1], [1, 0]], TABLE), r"shape \(2, 2\); expected \(n, 3\)"),
    (lambda: assert_sampler_matches(_returning([[0, 3, 2]]), S.FirstHitting(), ORACLE, TABLE, n=50),
     r"the samples sample_fn returned leave masks \(id 3\) in 50 of 50 rows, at positions \[1\]"),
    (lambda: assert_sampler_matches(lambda *a: np.zeros((3, 3), int), S.FirstHitting(), ORACLE, TABLE, n=50),
     r"have shape \(3, 3\); expected \(50, 3\): 50 rows of 3 token ids"),
    (lambda: assert_sampler_matches(lambda *a: (1, 2, 3), S.FirstHitting(), ORACLE, TABLE),
     "returns samples or \\(samples, calls\\), got a tuple of 3"),
    (lambda: assert_sampler_matches(lambda *a: "samples", S.FirstHitting(), ORACLE, TABLE), "hold dtype <U7"),
    (lambda: assert_calls_match([1.0, np.nan], S.FirstHitting(), ORACLE, 3, 3), "finite counts >= 0"),
    (lambda: assert_calls_match([[1.0]], S.FirstHitting(), ORACLE, 3, 3), "finite counts >= 0"),
    (lambda: assert_calls_match(["a"], S.FirstHitting(), ORACLE, 3, 3), "must be numbers"),
])
def test_a_broken_implementations_output_fails_as_an_assertion_that_says_how(call, message):
    """What the implementation under test returned is its output, not the test author's argument: AssertionError,
    naming how many rows, which positions (from 0), an example row in token ids (M for a mask)."""
    with pytest.raises(AssertionError, match=message):
        call()
