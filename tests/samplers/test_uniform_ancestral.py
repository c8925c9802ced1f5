"""UDLM/Duo ancestral steps for uniform noise (issue #38, build 4): the exact law against Duo's loop re-written in
tests/originals.py (chi-square at 1e-3, seeded), calls, the forward marginals reached exactly on a product law by
the form matching its model (and missed by the other), and the factorisation barrier on the coupled pairs."""
import dataclasses

import numpy as np
import pytest
import refimpl
from refimpl.diffusion import uniform
from refimpl.diffusion.uniform_elbo import loo_oracle
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from refimpl.samplers.uniform_ancestral import UniformAncestral

from tests import originals
from tests.helpers import random_table
from tests.samplers.test_discrete_ddim import chi_square_p

V, L = 3, 3
TABLE = random_table(np.random.default_rng(12), V, L, concentration=0.5)
ALPHA = 1e-3
PRODUCT = refimpl.datasets.product([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]).table


@pytest.mark.parametrize("steps, removal, told", [(3, "ancestral", True), (4, "greedy", True), (2, "none", False)])
def test_duos_loop_follows_the_exact_law_with_its_calls(steps, removal, told):
    sampler = UniformAncestral(steps, noise_removal=removal)
    model = [loo_oracle(TABLE, a) for a in sampler.alphas()] if told else time_agnostic_oracle(TABLE)
    law = sampler.exact_law(model, V, L)
    calls = np.zeros(6000, dtype=np.int64)
    samples = originals.duo_ancestral(model, 6000, np.random.default_rng(3), L, V, steps=steps, noise_removal=removal,
                                      calls=calls)
    assert np.all(calls == sampler.expected_calls())
    assert chi_square_p(samples, law) > ALPHA
    assert chi_square_p(sampler.sample(model, 6000, np.random.default_rng(4), V, L), law) > ALPHA  # refimpl's draw
    other = dataclasses.replace(sampler, form="mixture").exact_law(model, V, L)  # the other form: the check can fail
    assert refimpl.tv(law, other) > 0.05 and chi_square_p(samples, other) < ALPHA


@pytest.mark.parametrize("steps", [1, 2, 5])
@pytest.mark.parametrize("form, model, other", [("duo", loo_oracle, uniform_oracle),
                                                ("mixture", uniform_oracle, loo_oracle)])
def test_on_a_product_law_each_step_reaches_the_forward_marginal_exactly(steps, form, model, other):
    """A product law's reverse process factorises over positions, so steps with the model their form reads reach
    q(x_eps) = the forward law at alpha(eps) exactly (here eps = 0.3, Duo's alpha with noise_eps 0: alpha = 0.7);
    the other model counts z_i twice or not at all and misses it after more than one step (Theorem 1.3 of
    proofs/uniform_step.md: every step's TC is 0 on a product law)."""
    sampler = UniformAncestral(steps, eps=0.3, noise_eps=0.0, noise_removal="none", form=form)
    target = uniform.forward_law(PRODUCT, 0.7)
    law = sampler.exact_law([model(PRODUCT, a) for a in sampler.alphas()], V, L)
    np.testing.assert_allclose(law, target, atol=1e-13)
    wrong = sampler.exact_law([other(PRODUCT, a) for a in sampler.alphas()], V, L)
    assert (refimpl.tv(wrong, target) > 1e-3) == (steps > 1)  # one step from alpha 0: z carries nothing


def exact_step(table, alpha_t, alpha_s):
    """(V^L, V^L): the exact reverse step r(y | z) = sum_x p(x | z) prod_i q(y_i | z_i, x_i), summed here over every
    x0 with refimpl.diffusion.uniform.posterior per position."""
    vocab_size, length = table.shape[0], table.ndim
    grid = np.indices((vocab_size,) * length).reshape(length, -1).T
    out = np.zeros((len(grid), len(grid)))
    for a, z in enumerate(grid):
        given = table.ravel() * np.prod(uniform.token_kernel(alpha_t, vocab_size)[grid, z], axis=1)  # p(x) q(z | x)
        for b, x in enumerate(grid):
            if given[b] > 0:
                each = uniform.posterior(z[None], x[None], alpha_s, alpha_t, vocab_size)[0]  # (L, V)
                out[a] += given[b] / given.sum() * np.prod(each[np.arange(length), grid], axis=1)
    return out, grid


def test_a_step_loses_exactly_its_conditional_total_correlation():
    """Theorem 1.1-1.2 of proofs/uniform_step.md: Duo's step with the leave-one-out posterior has the exact step's
    per-position marginals, and its KL against the exact joint step is that step's TC given the canvas; a model of
    the other kind loses more."""
    alpha_t, alpha_s = 0.3, 0.6
    exact, grid = exact_step(TABLE, alpha_t, alpha_s)
    sampler = UniformAncestral(1, noise_removal="none")
    step = sampler._step(alpha_t, alpha_s)
    factors = step(loo_oracle(TABLE, alpha_t)(grid), grid)
    wrong = step(uniform_oracle(TABLE, alpha_t)(grid), grid)
    for a in range(len(grid)):
        joint = exact[a].reshape((V,) * L)
        marginals = [joint.sum(axis=tuple(j for j in range(L) if j != i)) for i in range(L)]
        np.testing.assert_allclose(factors[a], marginals, atol=1e-13)
        product = np.einsum("a,b,c->abc", *factors[a])
        assert refimpl.kl(joint, product) == pytest.approx(refimpl.total_correlation(joint), abs=1e-12)
        assert refimpl.kl(joint, np.einsum("a,b,c->abc", *wrong[a])) > refimpl.total_correlation(joint) + 1e-6


def test_the_chains_loss_is_at_most_the_sum_of_its_steps_losses():
    """Theorem 1.3 of proofs/uniform_step.md: from the forward law at alpha 0, N Duo steps with the matching model
    lose at most the sum over steps of the expected TC of the exact step given the canvas."""
    sampler = UniformAncestral(3, noise_eps=0.0)
    law = sampler.exact_law([loo_oracle(TABLE, a) for a in sampler.alphas()], V, L)
    alphas = sampler.alphas() + [1.0]
    bound = 0.0
    for alpha_t, alpha_s in zip(alphas[:-1], alphas[1:]):
        exact, _ = exact_step(TABLE, alpha_t, alpha_s)
        before = uniform.forward_law(TABLE, alpha_t).ravel()
        bound += sum(w * refimpl.total_correlation(row.reshape((V,) * L)) for w, row in zip(before, exact) if w > 0)
    loss = refimpl.kl(TABLE, law)
    assert 0 < loss <= bound + 1e-12


def test_with_the_noise_removal_a_product_law_comes_out_exactly():
    sampler = UniformAncestral(4, noise_eps=0.0)
    law = sampler.exact_law([loo_oracle(PRODUCT, a) for a in sampler.alphas()], V, L)
    np.testing.assert_allclose(law, PRODUCT, atol=1e-13)


def test_on_the_coupled_pairs_the_factorised_steps_lose_coupling_that_more_steps_recover():
    """One step from pure noise draws both positions from their marginals at once: AD and CB get 1/4 each before
    the noise removal; the loss shrinks with the number of steps but every finite count leaves some."""
    p = refimpl.datasets.coupled_pairs().table
    kls = []
    for steps in (1, 4, 16):
        sampler = UniformAncestral(steps, noise_eps=0.0)
        law = sampler.exact_law([loo_oracle(p, a) for a in sampler.alphas()], 4, 2)
        kls.append(refimpl.kl(p, law))
    assert kls[0] > kls[1] > kls[2] > 0
    one = UniformAncestral(1, eps=0.5, noise_eps=0.0, noise_removal="none")
    law = one.exact_law([loo_oracle(p, 0.0)], 4, 2)
    marginals = uniform.forward_law(p, 0.5).sum(axis=1), uniform.forward_law(p, 0.5).sum(axis=0)
    np.testing.assert_allclose(law, np.outer(*marginals), atol=1e-14)  # the product of the noised marginals


@pytest.mark.parametrize("settings", [dict(steps=0), dict(eps=1.0), dict(noise_eps=-0.1), dict(form="exact"),
                                      dict(noise_removal="argmax"), dict(temperature=-1.0)])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        UniformAncestral(**settings)


def test_one_denoiser_per_call_or_a_clear_error():
    with pytest.raises(refimpl.RefimplError, match="one denoiser per call"):
        UniformAncestral(3).exact_law([time_agnostic_oracle(TABLE)] * 3, V, L)  # 3 steps + the noise removal


def test_a_space_too_large_is_refused_before_allocating():
    import functools

    with pytest.raises(refimpl.MemoryLimitError, match="a uniform-state step at V=3, L=6"):
        with refimpl.memory_limit(10**6):
            UniformAncestral(2).exact_law(functools.partial(np.full, (1, 1, 1), 1.0), 3, 6)
