import numpy as np
import pytest
import refimpl
from hypothesis import given
from hypothesis import strategies as st
from refimpl.diffusion import forward
from refimpl.laws import space
from refimpl.testing.strategies import laws

from tests.helpers import chi_square_pvalue, random_table

FALSE_ALARM = 1e-3  # per chi-square test below


def test_token_kernel_and_sequence_probability():
    kernel = forward.token_kernel(0.3, 3)
    np.testing.assert_allclose(kernel.sum(axis=1), 1.0)
    x0 = space.clean_sequences(3, 2)
    for z in space.partial_sequences(3, 2):
        got = forward.sequence_probability(x0, np.broadcast_to(z, x0.shape), 0.3, 3)
        expected = [kernel[a, z[0]] * kernel[b, z[1]] for a, b in x0]
        np.testing.assert_allclose(got, expected, rtol=1e-14)


@given(laws(max_states=81), st.floats(0, 1))
def test_forward_law_equals_kernel_applied_to_each_axis(table, alpha):
    vocab_size = table.shape[0]
    kernel = forward.token_kernel(alpha, vocab_size)
    expected = table
    for axis in range(table.ndim):
        expected = np.moveaxis(np.tensordot(expected, kernel, axes=([axis], [0])), -1, axis)
    got = forward.forward_law(table, alpha)
    np.testing.assert_allclose(got, expected, atol=1e-15)
    assert got.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.15, 0.6])
def test_sampled_xt_matches_exact_law(alpha):
    rng = np.random.default_rng(11)
    table = random_table(rng, 2, 3, concentration=1.0)
    x0 = space.decode(rng.choice(8, size=40000, p=table.ravel()), 2, 3)
    z = forward.sample_forward(x0, alpha, rng, 2)
    counts = np.bincount(space.encode(z, 2, partial=True), minlength=27)
    assert chi_square_pvalue(counts, forward.forward_law(table, alpha).ravel()) > FALSE_ALARM


def step_transition(z_s, z_t, alpha_s, alpha_t, vocab_size):
    """q(z_t | z_s) for s < t, per position: clean stays clean w.p. alpha_t/alpha_s; mask absorbs."""
    prob = 1.0
    for a, b in zip(z_s, z_t):
        if a == vocab_size:
            prob *= 1.0 if b == vocab_size else 0.0
        elif b == vocab_size:
            prob *= 1 - alpha_t / alpha_s
        else:
            prob *= alpha_t / alpha_s if a == b else 0.0
    return prob


@pytest.mark.parametrize("alpha_s, alpha_t", [(0.9, 0.4), (0.5, 0.0), (1.0, 0.3)])
def test_posterior_is_bayes_on_the_exact_joint(alpha_s, alpha_t):
    vocab_size, length = 2, 3
    partials = space.partial_sequences(vocab_size, length)
    for x0 in space.clean_sequences(vocab_size, length):
        x0b = np.broadcast_to(x0, partials.shape)
        prior_s = forward.sequence_probability(x0b, partials, alpha_s, vocab_size)  # q(z_s | x0)
        for z_t in partials:
            joint = np.array([prior_s[k] * step_transition(z_s, z_t, alpha_s, alpha_t, vocab_size)
                              for k, z_s in enumerate(partials)])
            if joint.sum() == 0:
                continue
            bayes = joint / joint.sum()
            per_position = forward.posterior(z_t[None], x0[None], alpha_s, alpha_t, vocab_size)[0]
            ours = np.array([np.prod([per_position[i, z_s[i]] for i in range(length)]) for z_s in partials])
            np.testing.assert_allclose(ours, bayes, atol=1e-14)


def test_reverse_kernel_carries_clean_and_never_remasks_into_data():
    rng = np.random.default_rng(0)
    z = np.array([[0, 3, 2, 3]])
    mu = rng.dirichlet(np.ones(3), size=(1, 4))
    mu[0, 0], mu[0, 2] = np.eye(3)[0], np.eye(3)[2]
    kernel = forward.reverse_kernel(z, mu, 0.7, 0.2, 3)
    np.testing.assert_allclose(kernel.sum(-1), 1.0)
    np.testing.assert_array_equal(kernel[0, 0], np.eye(4)[0])
    unmask = (0.7 - 0.2) / (1 - 0.2)
    np.testing.assert_allclose(kernel[0, 1], np.append(unmask * mu[0, 1], 1 - unmask))
    # with the true x0 as the denoiser the model step equals the posterior
    x0 = np.array([[0, 1, 2, 0]])
    np.testing.assert_allclose(forward.reverse_kernel(z, np.eye(3)[x0], 0.7, 0.2, 3),
                               forward.posterior(z, x0, 0.7, 0.2, 3))
    draws = forward.sample_reverse_step(np.repeat(z, 20000, axis=0), np.repeat(mu, 20000, axis=0), 0.7, 0.2, rng, 3)
    counts = np.bincount(draws[:, 1], minlength=4)
    assert chi_square_pvalue(counts, kernel[0, 1]) > FALSE_ALARM


def test_bad_alphas():
    with pytest.raises(refimpl.InvalidParameterError, match="alpha_s must be >= alpha_t"):
        forward.posterior([[2, 2]], [[0, 1]], 0.2, 0.5, 2)
    with pytest.raises(refimpl.InvalidParameterError, match="alpha_t must lie in"):
        forward.token_kernel(1.5, 2)
    with pytest.raises(refimpl.InvalidParameterError, match="disagrees"):
        forward.posterior([[1, 2]], [[0, 1]], 0.5, 0.2, 2)
