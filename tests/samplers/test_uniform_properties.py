"""Properties of every sampler without a mask over drawn settings and laws (issue #38; refimpl.testing's uniform
strategies): each exact law is a law and each expected call count lies in the budget; the samplers that read a model
told the time decode a product law exactly at every step count, correctors included."""
import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.samplers.discrete_ddim import DiscreteDDIM
from refimpl.samplers.uniform_ancestral import UniformAncestral
from refimpl.samplers.uniform_registry import law_and_calls
from refimpl.testing.strategies import laws, uniform_model_kinds, uniform_samplers


@settings(max_examples=40, deadline=None)
@given(st.data(), uniform_samplers(max_steps=4), laws(max_vocab=3, max_length=3, min_length=2, zeros=False))
def test_each_exact_law_is_a_law_and_its_calls_lie_in_the_budget(data, sampler, table):
    kind = data.draw(uniform_model_kinds(sampler))
    law, calls = law_and_calls(sampler, table, kind)
    assert law.shape == table.shape and np.all(law >= -1e-15) and law.sum() == pytest.approx(1.0, abs=1e-12)
    budget = len(sampler.alphas()) if hasattr(sampler, "alphas") else sampler.steps
    assert 1 - 1e-12 <= calls <= budget + 1e-12
    if getattr(sampler, "confidence_threshold", None) is None:  # no stop rule: every call is made
        assert calls == pytest.approx(budget, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(0, 2), st.sampled_from(("random", "duo")))
def test_a_product_law_is_decoded_exactly_at_every_step_count(seed, steps, sweeps, which):
    """Theorem 1.3 of proofs/uniform_step.md (every step's TC is 0 on a product law): Duo's steps with the
    leave-one-out posterior (alpha(1) = 0), and DiscreteDDIM at T = 1 with the posterior marginal — with corrector
    sweeps that pick positions at random, which keep q(x_s) (a Gibbs step)."""
    rng = np.random.default_rng(seed)
    table = refimpl.datasets.product(rng.dirichlet(np.ones(3), size=3)).table
    if which == "duo":
        law, _ = law_and_calls(UniformAncestral(steps, noise_eps=0.0), table, "told_loo")
    else:
        sampler = DiscreteDDIM(steps + sweeps, 1.0, corrector_steps=sweeps, corrector_selection="random")
        law, _ = law_and_calls(sampler, table, "told")
    np.testing.assert_allclose(law, table, atol=1e-12)
