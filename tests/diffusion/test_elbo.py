"""Exact NELBO: its theorems and its equivalent forms, each against an independent computation."""
import itertools
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given
from hypothesis import strategies as st
from refimpl import denoisers
from refimpl.diffusion import elbo as nelbo
from refimpl.diffusion import schedules as S
from refimpl.testing.strategies import laws

from tests.helpers import random_denoiser, random_table

UNCLIPPED = [S.Linear(), S.Cosine(), S.Polynomial(0.5), S.Polynomial(3.0), S.LogLinear(0.0)]
Z_999 = 3.2905  # two-sided 99.9% normal quantile: each interval check below has false-alarm rate 1e-3


def brute_any_order(denoiser, table):
    """sum_k (1/k) E_{|M|=k} E_x sum_{i in M} -log mu(x with M masked)_{i, x_i}, by explicit loops."""
    vocab_size, length = table.shape[0], table.ndim
    total = 0.0
    for k in range(1, length + 1):
        subsets = list(itertools.combinations(range(length), k))
        for mask in subsets:
            for x in itertools.product(range(vocab_size), repeat=length):
                if table[x] == 0:
                    continue
                z = np.array(x)
                z[list(mask)] = vocab_size
                mu = denoiser(z[None])[0]
                total += table[x] * sum(-math.log(mu[i, x[i]]) for i in mask) / (k * len(subsets))
    return total


def brute_permutations(denoiser, table):
    """Any-order autoregressive loss averaged over all L! orders (Uria et al.; Ou et al.)."""
    vocab_size, length = table.shape[0], table.ndim
    orders = list(itertools.permutations(range(length)))
    total = 0.0
    for order in orders:
        for x in itertools.product(range(vocab_size), repeat=length):
            if table[x] == 0:
                continue
            for j in range(length):
                z = np.array(x)
                z[list(order[j:])] = vocab_size  # positions order[j:] not yet generated
                total += table[x] * -math.log(denoiser(z[None])[0, order[j], x[order[j]]]) / len(orders)
    return total


@given(laws(max_states=256))
def test_nelbo_of_the_oracle_is_the_entropy(table):
    """Checks proofs/nelbo.md, proofs/optimal_denoiser.md."""
    oracle = denoisers.oracle_denoiser(table)
    assert nelbo.nelbo(oracle, table) == pytest.approx(refimpl.entropy(table), abs=1e-10)


@given(laws(max_states=256, zeros=False), st.integers(0, 2**32 - 1), st.sampled_from([0.05, 0.5, 1.0]))
def test_nelbo_is_at_least_the_entropy_for_any_denoiser(table, seed, mix):
    """Checks proofs/nelbo.md, proofs/optimal_denoiser.md."""
    vocab_size, length = table.shape[0], table.ndim
    oracle = denoisers.oracle_denoiser(table)
    den = random_denoiser(np.random.default_rng(seed), vocab_size, length, oracle=oracle, mix=mix)
    assert nelbo.nelbo(den, table) >= refimpl.entropy(table) - 1e-12


@given(laws(max_states=81, zeros=False), st.integers(0, 2**32 - 1))
def test_equivalent_forms_agree(table, seed):
    """Checks proofs/nelbo.md."""
    vocab_size, length = table.shape[0], table.ndim
    den = random_denoiser(np.random.default_rng(seed), vocab_size, length)
    value = nelbo.nelbo(den, table)
    assert nelbo.nelbo_any_order(den, table) == pytest.approx(value, abs=1e-10)
    assert nelbo.nelbo_lambda(den, table) == pytest.approx(value, abs=1e-10)
    for schedule in UNCLIPPED:
        assert nelbo.nelbo(den, table, schedule=schedule) == pytest.approx(value, abs=1e-10)
        assert nelbo.nelbo_time_integral(den, table, schedule) == pytest.approx(value, abs=1e-10)
    assert brute_any_order(den, table) == pytest.approx(value, abs=1e-10)


def test_any_order_form_equals_the_average_over_generation_orders():
    """Checks proofs/nelbo.md."""
    rng = np.random.default_rng(3)
    table = random_table(rng, 2, 4, concentration=0.5)
    den = random_denoiser(rng, 2, 4)
    assert brute_permutations(den, table) == pytest.approx(nelbo.nelbo(den, table), abs=1e-10)


@pytest.mark.parametrize("schedule", [S.LogLinear(1e-3), S.Geometric()], ids=repr)
def test_clipped_schedules_match_quadrature(schedule):
    rng = np.random.default_rng(4)
    table = random_table(rng, 3, 3)
    den = random_denoiser(rng, 3, 3)
    assert nelbo.nelbo(den, table, schedule=schedule) == pytest.approx(
        nelbo.nelbo_time_integral(den, table, schedule), abs=1e-10)


@pytest.mark.parametrize("schedule", [S.Linear(), S.Cosine(), S.Polynomial(2.0)], ids=repr)
def test_discrete_nelbo_of_the_oracle_decreases_to_the_continuous_one(schedule):
    """Checks proofs/nelbo.md."""
    rng = np.random.default_rng(5)
    table = random_table(rng, 3, 4, concentration=0.3)
    oracle = denoisers.oracle_denoiser(table)
    continuous = refimpl.entropy(table)
    values = [nelbo.nelbo(oracle, table, schedule=schedule, steps=2**j) for j in range(11)]
    assert all(v >= continuous - 1e-12 for v in values)
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))  # nested grids refine
    assert values[0] > continuous + 1e-3  # one step really loses something for a coupled law
    gaps = [v - continuous for v in values]
    assert 0.4 < gaps[-1] / gaps[-2] < 0.6  # the gap is O(1/T): halving the step halves it
    assert values[-1] - continuous < 1e-2


def test_discrete_nelbo_converges_for_a_non_oracle_denoiser():
    """Checks proofs/nelbo.md."""
    rng = np.random.default_rng(6)
    table = random_table(rng, 2, 4)
    den = random_denoiser(rng, 2, 4)
    continuous = nelbo.nelbo(den, table)
    gaps = [abs(nelbo.nelbo(den, table, steps=t) - continuous) for t in (64, 256, 1024, 4096)]
    assert gaps[-1] < 1e-3 and all(b < a for a, b in zip(gaps, gaps[1:]))


def test_discrete_weights_match_the_kl_sum_written_out():
    """T-step NELBO = sum_j E_q(x_tj | x0) [(a_s - a_t)/(1 - a_t) sum_{i masked} -log mu], term by term."""
    rng = np.random.default_rng(7)
    table = random_table(rng, 2, 3)
    den = random_denoiser(rng, 2, 3)
    schedule, steps = S.Cosine(), 3
    total = 0.0
    grid = np.linspace(0, 1, steps + 1)
    for s, t in zip(grid[:-1], grid[1:]):
        a_s, a_t = float(schedule.alpha(s)), float(schedule.alpha(t))
        for x in itertools.product(range(2), repeat=3):
            for mask in itertools.product([False, True], repeat=3):
                if not any(mask):
                    continue
                z = np.where(mask, 2, x)
                q = a_t ** (3 - sum(mask)) * (1 - a_t) ** sum(mask)
                mu = den(z[None])[0]
                ce = sum(-math.log(mu[i, x[i]]) for i in range(3) if mask[i])
                total += table[x] * q * (a_s - a_t) / (1 - a_t) * ce
    assert nelbo.nelbo(den, table, schedule=schedule, steps=steps) == pytest.approx(total, abs=1e-12)


def test_nelbo_is_infinite_when_the_denoiser_excludes_a_data_token():
    table = random_table(np.random.default_rng(8), 2, 2)

    def stubborn(z):
        out = np.zeros(z.shape + (2,))
        out[..., 0] = 1.0  # never predicts token 1, which the law holds
        clean = z != 2
        out[clean] = np.eye(2)[z[clean]]
        return out

    assert nelbo.nelbo(stubborn, table) == np.inf


@pytest.mark.parametrize("form, schedule", [("time", S.Polynomial(2.0)), ("any_order", None)])
@pytest.mark.parametrize("which", ["oracle", "random"])
def test_monte_carlo_estimate_covers_the_exact_value(form, schedule, which):
    rng = np.random.default_rng(9)
    table = random_table(rng, 3, 3, concentration=0.5)
    den = denoisers.oracle_denoiser(table) if which == "oracle" else random_denoiser(rng, 3, 3)
    exact = nelbo.nelbo(den, table)
    estimate = nelbo.nelbo_monte_carlo(den, table, 20000, np.random.default_rng(10), schedule=schedule, form=form)
    low, high = estimate.interval(Z_999)
    assert low <= exact <= high
    assert estimate.stderr < 0.05 * exact


def test_monte_carlo_is_seeded():
    table = random_table(np.random.default_rng(1), 2, 3)
    oracle = denoisers.oracle_denoiser(table)
    a = nelbo.nelbo_monte_carlo(oracle, table, 500, np.random.default_rng(2), antithetic=True)
    b = nelbo.nelbo_monte_carlo(oracle, table, 500, np.random.default_rng(2), antithetic=True)
    assert a == b
