"""The oracles of a model without a mask (issue #38, build 2) against independent computations: the posterior by
summing every x_0 with refimpl.diffusion.uniform.sequence_probability, the time integral by scipy's adaptive
quadrature of the agreement-count weights w(a) (SAMPLERS-2026.md section 1, "U"), and the training loss's minimum
(Gibbs) against perturbations."""
import itertools

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.diffusion import schedules
from refimpl.diffusion import uniform_oracles as U
from refimpl.diffusion.uniform import sequence_probability
from scipy import integrate

from tests.helpers import random_table


def space(vocab_size, length):
    return np.array(list(itertools.product(range(vocab_size), repeat=length)))


def test_the_time_conditioned_oracle_is_the_posterior_summed_over_every_x0():
    table = random_table(np.random.default_rng(4), 3, 3, concentration=0.5)
    grid = space(3, 3)
    mu = U.uniform_oracle(table, 0.4)(grid)
    for k, z in enumerate(grid):
        weight = table.ravel() * sequence_probability(grid, np.tile(z, (len(grid), 1)), 0.4, 3)
        for i in range(3):
            expected = np.bincount(grid[:, i], weights=weight, minlength=3) / weight.sum()
            np.testing.assert_allclose(mu[k, i], expected, atol=1e-14)


def agreement_weights(length, vocab_size, eps, target):
    """w(a) = int (1 - t + t/V)^a (t/V)^(L-a) rho(t) dt by scipy.integrate.quad, rho uniform on [eps, 1] ("all");
    for "noised" the scored position's factor is t/V and the others' as before, so a counts the other L-1."""
    others = length if target == "all" else length - 1
    extra = (lambda t: 1.0) if target == "all" else (lambda t: t / vocab_size)
    return [integrate.quad(lambda t: extra(t) * (1 - t + t / vocab_size) ** a * (t / vocab_size) ** (others - a),
                           eps, 1, epsabs=1e-15, epsrel=1e-13)[0] / (1 - eps) for a in range(others + 1)]


@pytest.mark.parametrize("target", ["all", "noised"])
@pytest.mark.parametrize("eps", [1e-3, 1e-4])
def test_the_time_agnostic_oracle_integrates_the_agreement_weights(target, eps):
    """Theorem 3 of proofs/uniform_step.md: the oracle is the data law weighted by w(a(x, z)), integrated apart."""
    vocab_size, length = 3, 3
    table = random_table(np.random.default_rng(5), vocab_size, length, concentration=0.5)
    grid = space(vocab_size, length)
    w = agreement_weights(length, vocab_size, eps, target)
    mu = U.time_agnostic_oracle(table, eps=eps, target=target)(grid)
    for k, z in enumerate(grid):
        for i in range(length):
            same = grid == z
            if target == "noised":
                same = np.delete(same, i, axis=1)
            weight = table.ravel() * np.array(w)[same.sum(axis=1)]
            expected = np.bincount(grid[:, i], weights=weight, minlength=vocab_size) / weight.sum()
            np.testing.assert_allclose(mu[k, i], expected, atol=1e-12)
    if target == "noised":  # z_i says nothing about x_0^i
        np.testing.assert_allclose(mu[0, 0], mu[np.flatnonzero((grid[:, 1:] == 0).all(axis=1))[-1], 0], atol=1e-15)


def test_default_nodes_are_exact_for_the_linear_schedule_and_converge_for_the_cosine():
    table = random_table(np.random.default_rng(6), 2, 4, concentration=0.5)
    exact = U.time_agnostic_joint(table)
    np.testing.assert_allclose(U.time_agnostic_joint(table, nodes=40), exact, atol=1e-15)
    np.testing.assert_allclose(U.time_agnostic_joint(table, schedules.Polynomial(2.0)),
                               U.time_agnostic_joint(table, schedules.Polynomial(2.0), nodes=40), atol=1e-15)
    cosine = U.time_agnostic_joint(table, schedules.Cosine())
    np.testing.assert_allclose(U.time_agnostic_joint(table, schedules.Cosine(), nodes=200), cosine, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(U.TARGETS), st.floats(0.01, 0.5))
def test_the_time_agnostic_oracle_has_the_lowest_training_loss(seed, target, mix):
    """Any other denoiser — the oracle mixed with a random one, or the time-conditioned oracle at one t — loses more
    (Theorem 3 of proofs/uniform_step.md: Gibbs' inequality per canvas and position)."""
    rng = np.random.default_rng(seed)
    table = random_table(rng, 2, 3, concentration=0.5)
    oracle = U.time_agnostic_oracle(table, target=target)
    best = U.training_loss(table, oracle, target=target)
    noise = rng.dirichlet(np.ones(2), size=(8, 3))

    def mixed(z):
        return (1 - mix) * oracle(z) + mix * noise[np.ravel_multi_index(tuple(np.asarray(z).T), (2, 2, 2))]

    assert U.training_loss(table, mixed, target=target) > best
    assert U.training_loss(table, U.uniform_oracle(table, 0.5), target=target) > best


def test_the_uniform_oracle_at_alpha_1_copies_its_input_and_at_0_is_the_marginal():
    table = random_table(np.random.default_rng(7), 3, 2, concentration=0.5)
    grid = space(3, 2)
    np.testing.assert_allclose(U.uniform_oracle(table, 1.0)(grid), np.eye(3)[grid], atol=1e-15)
    marginals = refimpl.marginals(table)
    np.testing.assert_allclose(U.uniform_oracle(table, 0.0)(grid), np.broadcast_to(marginals, (9, 2, 3)), atol=1e-15)


@pytest.mark.parametrize("call, match", [
    (lambda: U.uniform_oracle(np.full((2, 2), 0.25), 1.5), "alpha_t must lie in"),
    (lambda: U.time_agnostic_oracle(np.full((2, 2), 0.25), target="masked"), "target must be one of"),
    (lambda: U.time_agnostic_oracle(np.full((2, 2), 0.25), eps=1.0), "eps must lie in"),
    (lambda: U.time_agnostic_oracle(np.full((2, 2), 0.25), nodes=0), "nodes"),
    (lambda: U.uniform_oracle(np.full((2, 2), 0.25), 0.5)([[0, 2]]), "outside"),
])
def test_bad_input_is_one_clear_error(call, match):
    with pytest.raises(refimpl.RefimplError, match=match):
        call()
