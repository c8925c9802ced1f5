"""The continuous-time uniform NELBO (issue #38, build 3): the leave-one-out oracle attains H(p) on random laws and
schedules (to quadrature accuracy), a perturbed one and the cross-entropy optimum (the posterior marginal) do not;
the leave-one-out oracle against a brute-force sum and against the posterior marginal with diffusers' logit shift."""
import itertools

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.diffusion import schedules
from refimpl.diffusion.uniform_elbo import continuous_nelbo, loo_oracle
from refimpl.diffusion.uniform_oracles import UniformDenoiser, uniform_oracle

from tests.helpers import random_table


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(2, 2), (2, 3), (3, 2), (3, 3)]),
       st.sampled_from(["linear", "cosine"]))
def test_the_leave_one_out_oracle_attains_the_entropy_and_nothing_else_does(seed, space, schedule):
    """Checks proofs/uniform_nelbo.md (3): L(rho) = H(p); a perturbed rho and the posterior marginal do not beat it."""
    vocab_size, length = space
    rng = np.random.default_rng(seed)
    table = random_table(rng, vocab_size, length, concentration=0.5)
    chosen = schedules.Linear() if schedule == "linear" else schedules.Cosine()
    entropy = refimpl.entropy(table)
    best = continuous_nelbo(table, lambda a: loo_oracle(table, a), chosen)
    assert best == pytest.approx(entropy, abs=1e-8)
    noise = rng.dirichlet(np.ones(vocab_size), size=(vocab_size ** length, length))

    def perturbed(alpha):
        rho = loo_oracle(table, alpha).table
        return UniformDenoiser(0.9 * rho + 0.1 * noise.reshape(rho.shape))

    assert continuous_nelbo(table, perturbed, chosen) > entropy + 1e-6
    assert continuous_nelbo(table, lambda a: uniform_oracle(table, a), chosen) > entropy - 1e-8


def test_cross_entropys_optimum_is_not_the_nelbos_on_coupled_pairs():
    """The posterior marginal p(x_0^i | z) — what cross-entropy training reaches — loses 0.41 nats against the NELBO's
    optimum on "AB" or "CD" (64 nodes; the two agree only where z_i carries no information).  Checks
    proofs/uniform_nelbo.md (3)."""
    p = refimpl.datasets.coupled_pairs().table
    gap = continuous_nelbo(p, lambda a: uniform_oracle(p, a)) - refimpl.entropy(p)
    assert 0.4 < gap < 0.42


def test_the_leave_one_out_oracle_is_the_sum_over_every_x0_without_position_i():
    vocab_size, length, alpha = 3, 3, 0.35
    table = random_table(np.random.default_rng(3), vocab_size, length, concentration=0.5)
    grid = np.array(list(itertools.product(range(vocab_size), repeat=length)))
    rho = loo_oracle(table, alpha)(grid)
    kernel = alpha * np.eye(vocab_size) + (1 - alpha) / vocab_size
    for k, z in enumerate(grid):
        for i in range(length):
            others = [j for j in range(length) if j != i]
            weight = table.ravel() * np.prod(kernel[grid[:, others], z[others]], axis=1)
            np.testing.assert_allclose(rho[k, i], np.bincount(grid[:, i], weights=weight, minlength=3) / weight.sum(),
                                       atol=1e-14)


def test_the_leave_one_out_oracle_is_the_marginal_with_diffusers_logit_shift():
    """log rho = log pi - log(1 + V alpha / (1 - alpha)) at the observed token, renormalised
    (DiscreteDDIMScheduler._to_loo_logits, diffusers 0.42.1).  Checks proofs/uniform_nelbo.md (1)."""
    vocab_size, length, alpha = 4, 2, 0.6
    table = random_table(np.random.default_rng(4), vocab_size, length, concentration=0.5)
    grid = np.array(list(itertools.product(range(vocab_size), repeat=length)))
    pi = uniform_oracle(table, alpha)(grid)
    shifted = np.log(pi) - np.log1p(vocab_size * alpha / (1 - alpha)) * np.eye(vocab_size)[grid]
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(loo_oracle(table, alpha)(grid), expected, atol=1e-14)


def test_bad_input_is_one_clear_error():
    with pytest.raises(refimpl.RefimplError, match="alpha_t"):
        loo_oracle(np.full((2, 2), 0.25), -0.1)
    with pytest.raises(refimpl.RefimplError, match="nodes"):
        continuous_nelbo(np.full((2, 2), 0.25), lambda a: loo_oracle(np.full((2, 2), 0.25), a), nodes=0)


def test_the_t_step_nelbo_of_the_leave_one_out_oracle_is_the_entropy_plus_every_steps_total_correlation():
    """The T-step NELBO with the leave-one-out oracle is H(p) plus the expected conditional total correlation of
    each exact reverse step (proofs/uniform_step.md, Theorem 1.3, with equality on the path): the steps' TCs summed
    from the exact steps enumerated apart (tests/samplers/test_uniform_ancestral.exact_step)."""
    from refimpl.diffusion import uniform
    from refimpl.diffusion.uniform_elbo import steps_nelbo

    from tests.samplers.test_uniform_ancestral import exact_step

    table = random_table(np.random.default_rng(3), 3, 3, concentration=0.5)
    for steps in (1, 3):
        alphas = 1.0 - np.arange(steps + 1) / steps  # the linear schedule on t_k = k / T
        gap = 0.0
        for alpha_s, alpha_t in zip(alphas[:-1], alphas[1:]):
            exact, _ = exact_step(table, float(alpha_t), float(alpha_s))
            before = uniform.forward_law(table, float(alpha_t)).ravel()
            gap += sum(w * refimpl.total_correlation(row.reshape(3, 3, 3)) for w, row in zip(before, exact) if w > 0)
        nelbo = steps_nelbo(table, lambda a: loo_oracle(table, a), steps)
        assert nelbo - refimpl.entropy(table) == pytest.approx(gap, abs=1e-12)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.floats(0.05, 0.5))
def test_the_t_step_nelbo_is_least_at_the_leave_one_out_oracle_and_falls_towards_the_entropy(seed, steps, mix):
    """Every other model told the time — the leave-one-out oracle mixed with random answers, or the posterior
    marginal (cross-entropy's optimum) — has a larger T-step NELBO; doubling T brings the oracle's closer to H(p);
    on a product law it is H(p) at every T."""
    from refimpl.diffusion.uniform_elbo import steps_nelbo

    rng = np.random.default_rng(seed)
    table = random_table(rng, 2, 3, concentration=0.5)
    noise = rng.dirichlet(np.ones(2), size=(8, 3))
    best = steps_nelbo(table, lambda a: loo_oracle(table, a), steps)

    def mixed(a):
        rho = loo_oracle(table, a)
        return lambda z: (1 - mix) * rho(z) + mix * noise[np.ravel_multi_index(tuple(np.asarray(z).T), (2, 2, 2))]

    assert steps_nelbo(table, mixed, steps) > best
    if steps > 1:
        assert steps_nelbo(table, lambda a: uniform_oracle(table, a), steps) > best
    entropy = refimpl.entropy(table)
    assert entropy - 1e-12 <= steps_nelbo(table, lambda a: loo_oracle(table, a), 2 * steps) <= best + 1e-12
    product = refimpl.datasets.product(rng.dirichlet(np.ones(2), size=3)).table
    assert steps_nelbo(product, lambda a: loo_oracle(product, a), steps) == pytest.approx(refimpl.entropy(product),
                                                                                           abs=1e-12)
