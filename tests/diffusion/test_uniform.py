"""The uniform forward process (issue #38, build 1) against independent computations: the law of x_t by summing
every x_0 and every per-position outcome, the Markov property, the posterior by Bayes' rule over explicit
enumerations, Monte Carlo by chi-square (false alarm 1e-4 each, seeded), on every schedule refimpl has."""
import itertools

import numpy as np
import pytest
import refimpl
from hypothesis import given
from hypothesis import strategies as st
from refimpl.diffusion import schedules, uniform

from tests.helpers import chi_square_pvalue, random_table

FALSE_ALARM = 1e-4
SCHEDULES = [schedules.Linear(), schedules.Cosine(), schedules.Polynomial(2.0)]


def brute_forward(table, alpha):
    """q_t(z) = sum over x_0 of p(x_0) prod_i (alpha [z_i = x_0^i] + (1 - alpha)/V), term by term."""
    vocab_size, length = table.shape[0], table.ndim
    out = np.zeros(table.shape)
    for z in itertools.product(range(vocab_size), repeat=length):
        for x0 in itertools.product(range(vocab_size), repeat=length):
            out[z] += table[x0] * np.prod([alpha * (a == b) + (1 - alpha) / vocab_size for a, b in zip(z, x0)])
    return out


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
@pytest.mark.parametrize("t", [0.0, 0.3, 0.9, 1.0])
def test_the_forward_law_is_every_x0_summed(schedule, t):
    table = random_table(np.random.default_rng(1), 3, 3, concentration=0.5)
    alpha = float(schedule.alpha(t))
    np.testing.assert_allclose(uniform.forward_law(table, alpha), brute_forward(table, alpha), atol=1e-15)
    if t == 1.0 and isinstance(schedule, schedules.Linear):  # alpha 0: every sequence equally likely
        np.testing.assert_allclose(uniform.forward_law(table, alpha), 1 / 27, atol=1e-15)


def test_a_sequences_probability_is_the_product_of_the_token_kernel():
    rng = np.random.default_rng(2)
    x0, z = rng.integers(0, 4, size=(50, 3)), rng.integers(0, 4, size=(50, 3))
    kernel = uniform.token_kernel(0.35, 4)
    np.testing.assert_allclose(uniform.sequence_probability(x0, z, 0.35, 4),
                               np.prod(kernel[x0, z], axis=1), atol=1e-15)
    np.testing.assert_allclose(kernel.sum(axis=1), 1.0, atol=1e-15)


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(2, 6))
def test_the_process_is_markov_with_the_ratio_of_alphas(a, b, vocab_size):
    """K(alpha_t) = K(alpha_s) K(alpha_t / alpha_s): from 0 to s, then from s to t."""
    alpha_s, alpha_t = max(a, b), min(a, b)
    composed = uniform.token_kernel(alpha_s, vocab_size) @ uniform.token_kernel(uniform.step_alpha(alpha_s, alpha_t),
                                                                               vocab_size)
    np.testing.assert_allclose(composed, uniform.token_kernel(alpha_t, vocab_size), atol=1e-14)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_the_posterior_is_bayes_rule_over_the_two_kernels(schedule):
    """q(x_s | x_t, x_0) = q(x_t | x_s) q(x_s | x_0) / q(x_t | x_0), each factor a kernel entry; and averaging it
    over q(x_t | x_0) gives back q(x_s | x_0)."""
    vocab_size, s, t = 3, 0.25, 0.7
    alpha_s, alpha_t = float(schedule.alpha(s)), float(schedule.alpha(t))
    step = uniform.token_kernel(alpha_t / alpha_s, vocab_size)
    from_0_s, from_0_t = uniform.token_kernel(alpha_s, vocab_size), uniform.token_kernel(alpha_t, vocab_size)
    x0, z = np.meshgrid(np.arange(vocab_size), np.arange(vocab_size), indexing="ij")
    post = uniform.posterior(z.reshape(1, -1), x0.reshape(1, -1), alpha_s, alpha_t, vocab_size)[0]  # (V*V, V)
    for k, (a, c) in enumerate(zip(x0.ravel(), z.ravel())):
        bayes = step[:, c] * from_0_s[a] / from_0_t[a, c]
        np.testing.assert_allclose(post[k], bayes, atol=1e-15)
    averaged = np.einsum("ac,acv->av", from_0_t, post.reshape(vocab_size, vocab_size, vocab_size))
    np.testing.assert_allclose(averaged, from_0_s, atol=1e-15)


def test_the_posterior_at_the_ends():
    """s = 0 (alpha_s 1): x_s is x_0; s = t: x_s is x_t."""
    x0, z = np.array([[0, 1, 2]]), np.array([[2, 1, 0]])
    np.testing.assert_allclose(uniform.posterior(z, x0, 1.0, 0.4, 3)[0], np.eye(3)[x0[0]], atol=1e-15)
    np.testing.assert_allclose(uniform.posterior(z, x0, 0.4, 0.4, 3)[0], np.eye(3)[z[0]], atol=1e-15)


def test_forward_and_posterior_draws_follow_their_laws():
    rng = np.random.default_rng(3)
    x0 = np.tile([[0, 2]], (20000, 1))
    drawn = uniform.sample_forward(x0, 0.3, rng, 3)
    for i in range(2):
        counts = np.bincount(drawn[:, i], minlength=3)
        assert chi_square_pvalue(counts, uniform.token_kernel(0.3, 3)[x0[0, i]]) > FALSE_ALARM
    z = np.tile([[1, 2]], (20000, 1))
    earlier = uniform.sample_posterior(z, x0, 0.8, 0.3, rng, 3)
    law = uniform.posterior(z[:1], x0[:1], 0.8, 0.3, 3)[0]
    for i in range(2):
        assert chi_square_pvalue(np.bincount(earlier[:, i], minlength=3), law[i]) > FALSE_ALARM


def test_one_time_per_row():
    drawn = uniform.sample_forward(np.zeros((2, 4), dtype=int), np.array([1.0, 0.0]), np.random.default_rng(0), 5)
    assert drawn[0].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("call, match", [
    (lambda: uniform.token_kernel(1.5, 3), "alpha_t must lie in"),
    (lambda: uniform.token_kernel(0.5, 1), "vocab_size"),
    (lambda: uniform.posterior([[0]], [[0]], 0.2, 0.5, 2), "alpha_s must be >= alpha_t"),
    (lambda: uniform.posterior([[3]], [[0]], 0.6, 0.5, 3), "masks \\(3\\) are not allowed"),  # no mask here
    (lambda: uniform.sample_forward([[0, 1]], [0.5, 0.5, 0.5], np.random.default_rng(0), 2), "one per row"),
    (lambda: uniform.forward_law(np.ones((2, 2)), 0.5), "sums to 4.0, not 1"),
])
def test_bad_input_is_one_clear_error(call, match):
    with pytest.raises(refimpl.RefimplError, match=match):
        call()
