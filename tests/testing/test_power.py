"""Power and false alarms of the sampling assertions at their default sizes, by seeded repeated runs.

Power: at the TV the assertion states it detects (probability >= 0.99), a law at exactly that TV on the
tested cells, deviating in the hardest way for a chi-square test (mass moved in proportion to p from one
half of the law to the other), is detected in R = 2000 runs often enough that the 99.9% Clopper-Pearson
lower bound of the detection rate is >= 0.99 (at most 7 misses).  False alarms: on correct input the
assertion fails in no more runs than a binomial(R, alpha) exceeds with probability 1e-3.
"""
import numpy as np
import pytest
from refimpl.interop.goodness import MIN_EXPECTED, POWER, mean_test
from refimpl.laws import space
from refimpl.testing import ALPHA, SAMPLES, assert_calls_match, assert_samples_match
from scipy import stats

from tests.helpers import sampler_law_and_denoisers

RUNS = 2000
MAX_MISSES = 7  # the most misses out of RUNS whose 99.9% Clopper-Pearson lower bound is still >= POWER
LAW = sampler_law_and_denoisers()[0]  # V = 3, L = 4, Dirichlet(0.4): 81 cells, some pooled at n = 20000
CELLS = space.clean_sequences(3, 4)


def test_the_miss_bound_is_the_clopper_pearson_bound():
    upper_miss_rate = stats.beta.ppf(0.999, MAX_MISSES + 1, RUNS - MAX_MISSES)
    assert upper_miss_rate <= 1 - POWER < stats.beta.ppf(0.999, MAX_MISSES + 2, RUNS - MAX_MISSES - 1)


def hardest_deviation(p, n, tv):
    """q with TV(q, p) = tv on the tested cells (the pooled cells moved as one), mass moved in proportion
    to p from one half of the law (by probability) to the other."""
    p = p.ravel()
    pooled = p * n < MIN_EXPECTED
    units = [[i] for i in np.flatnonzero(~pooled)] + ([list(np.flatnonzero(pooled))] if pooled.any() else [])
    order = np.random.default_rng(0).permutation(len(units))
    half, mass = [], 0.0
    for u in order:
        if mass >= 0.5:
            break
        half += units[u]
        mass += p[units[u]].sum()
    up = np.zeros(len(p), dtype=bool)
    up[half] = True
    q = np.where(up, p * (1 + tv / mass), p * (1 - tv / (1 - mass)))
    assert abs(0.5 * np.abs(q - p).sum() - tv) < 1e-12 and np.all(q >= 0)
    return q


def draws(q, rng):
    return np.repeat(CELLS, rng.multinomial(SAMPLES, q), axis=0)


def detects(samples):
    try:
        assert_samples_match(samples, LAW)
    except AssertionError:
        return True
    return False


def test_chi_square_detects_its_stated_tv_with_probability_at_least_0_99():
    stated = assert_samples_match(draws(LAW.ravel(), np.random.default_rng(1)), LAW).detectable_tv
    q = hardest_deviation(LAW, SAMPLES, stated)
    rng = np.random.default_rng(2)
    misses = sum(not detects(draws(q, rng)) for _ in range(RUNS))
    assert misses <= MAX_MISSES, f"{misses} misses in {RUNS} runs at TV {stated:.4g}"


@pytest.mark.parametrize("alpha", [ALPHA, 0.05])
def test_chi_square_fails_correct_samples_at_no_more_than_its_rate(alpha):
    rng = np.random.default_rng(3)
    alarms = 0
    for _ in range(RUNS):
        try:
            assert_samples_match(draws(LAW.ravel(), rng), LAW, alpha=alpha)
        except AssertionError:
            alarms += 1
    assert alarms <= stats.binom.ppf(1 - 1e-3, RUNS, alpha), f"{alarms} false alarms in {RUNS} runs at alpha {alpha}"


CALLS = np.array([3.0, 4.0, 5.0, 6.0])  # a cached loop's calls per sequence, and their probabilities
CALL_PROBS = np.array([0.1, 0.4, 0.3, 0.2])


def test_calls_test_detects_its_stated_shift_with_probability_at_least_0_99():
    """assert_calls_match (and assert_sampler_matches' calls) decide by interop.goodness.mean_test."""
    expected = float(CALLS @ CALL_PROBS)
    rng = np.random.default_rng(5)
    stated = mean_test(rng.choice(CALLS, SAMPLES, p=CALL_PROBS), expected, ALPHA).detectable_shift
    misses = sum(not mean_test(rng.choice(CALLS, SAMPLES, p=CALL_PROBS) + stated, expected, ALPHA).rejects(ALPHA)
                 for _ in range(RUNS))
    assert misses <= MAX_MISSES, f"{misses} misses in {RUNS} runs at a shift of {stated:.4g} calls"


def test_calls_test_fails_correct_calls_at_no_more_than_its_rate():
    expected = float(CALLS @ CALL_PROBS)
    rng = np.random.default_rng(6)
    alarms = sum(mean_test(rng.choice(CALLS, SAMPLES, p=CALL_PROBS), expected, 0.05).rejects(0.05) for _ in range(RUNS))
    assert alarms <= stats.binom.ppf(1 - 1e-3, RUNS, 0.05)


def test_the_calls_check_raises_no_more_false_alarms_than_its_rate_when_nearly_every_sequence_makes_one_call():
    """Issue #36's smallest case: V = 2, L = 4, a law near a point mass, the oracle, Threshold(0.5, T = 1): the exact
    E[calls] is about 1.00032, so at n = 5000 about one sample in five has every sequence at one call.  The old rule
    (all equal: the mean must equal E) failed those; the exact test for equal counts (at most ``most`` calls per
    sequence) must not, and the normal test must hold its rate on the rest: 1000 seeded samples (benchmarks/power.py
    runs the assertion itself 1000 times), alarms within
    what binomial(1000, 1e-3) exceeds with probability 1e-3."""
    import refimpl

    table = np.full((2,) * 4, 1.5e-4 / 15)
    table[0, 0, 0, 0] = 1 - 1.5e-4
    oracle, sampler = refimpl.oracle_denoiser(table), refimpl.samplers.Threshold(0.5, temperature=1.0)
    job = refimpl.problem(oracle, sampler, 4, 2)
    exact = refimpl.run(job).expected_calls
    least, most = refimpl.engine.calls.call_range(job)  # the range of calls, as assert_calls_match reads it
    assert 1.0002 < exact < 1.0005 and (least, most) == (1, 4)
    assert_calls_match(np.ones(5000), sampler, oracle, 4, 2)  # the assertion itself, on the degenerate sample
    alarms = degenerate = 0
    for seed in range(1000):
        calls = refimpl.engine.draw(job, 5000, np.random.default_rng([36, seed])).calls
        if np.all(calls == calls[0]):
            degenerate += 1
            assert calls[0] != exact  # where the old rule raised its false alarm
        alarms += mean_test(calls, exact, ALPHA, upper=most, lower=least).rejects(ALPHA)  # assert_calls_match's decision
    assert degenerate >= 100 and alarms <= stats.binom.ppf(1 - 1e-3, 1000, ALPHA), (degenerate, alarms)


@pytest.mark.slow
def test_every_sampling_assertion_holds_its_false_alarm_rate_over_1000_runs_and_names_the_slips(tmp_path, monkeypatch):
    """benchmarks/power.py at 1000 runs: every false-alarm count within its binomial bound; every usual slip of the
    user suite's setting detected in every run and named alone in at least 99% of them."""
    from benchmarks import power
    from benchmarks.common import RESULTS_ENV

    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    assert power.main(["--runs", "1000"]) == 0
    import json
    result = json.loads((tmp_path / "power.json").read_text())
    assert all(row["ok"] for row in result["false_alarms"]), result["false_alarms"]
    assert all(row["detected"] == row["runs"] and row["named alone"] >= 0.99 * row["runs"]
               for row in result["power"]), result["power"]


def test_the_exact_test_for_equal_counts_is_conservative_for_every_law_with_that_mean():
    """n equal counts c from a law on {0..upper} with mean mu: their probability P(C = c)^n is at most the p-value
    (1 - |mu - c| / max(c, upper - c))^n, for random laws with that mean (and equal to it for the two-point law)."""
    rng = np.random.default_rng(7)
    upper, c, n = 4, 1, 5000
    for _ in range(200):
        law = rng.dirichlet(np.full(upper + 1, 0.3))
        law = 0.999 * np.eye(upper + 1)[c] + 0.001 * law  # mostly c
        mu = float(law @ np.arange(upper + 1))
        p_value = mean_test(np.full(n, float(c)), mu, ALPHA, upper=upper).p_value
        assert law[c] ** n <= p_value * (1 + 1e-9)
    q = 0.00032 / 3  # the two-point law: q on 4, 1 - q on 1, mean 1 + 3q — the bound is attained
    assert mean_test(np.full(n, 1.0), 1 + 3 * q, ALPHA, upper=4).p_value == pytest.approx((1 - q) ** n, rel=1e-9)


def test_the_calls_test_holds_its_rate_for_a_rare_second_call_at_the_default_size():
    """Issue #36's case at n = 20000 (calls 1, or 2 with probability 3.2e-4; 6.4 rare rows expected): the normal
    test alone, its standard error from the sample, failed every sample with a single rare row (p ~ 7e-8), about 1 in
    100; with the range [1, 4] the empirical Bernstein bound must also reject.  1000 seeded samples, alarms within
    what binomial(1000, 1e-3) exceeds with probability 1e-3; and the sample with one rare row passes."""
    q, n = 3.2e-4, 20000
    rng = np.random.default_rng(8)
    alarms = 0
    for _ in range(1000):
        calls = np.ones(n)
        calls[: rng.binomial(n, q)] = 2.0
        alarms += mean_test(calls, 1 + q, ALPHA, upper=4, lower=1).rejects(ALPHA)
    assert alarms <= stats.binom.ppf(1 - 1e-3, 1000, ALPHA), alarms
    one = np.ones(n)
    one[0] = 2.0
    assert mean_test(one, 1 + q, ALPHA).rejects(ALPHA) and not mean_test(one, 1 + q, ALPHA, upper=4, lower=1).rejects(ALPHA)
