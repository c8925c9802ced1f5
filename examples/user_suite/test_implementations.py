"""A torch LLaDA sampler and a NumPy loss checked against refimpl; six tests fail on purpose (see README.md)."""
import functools

import pytest
import refimpl.testing as rt
from implementations import generate, mdlm_loss

LLADA = dict(steps=4, block_length=2, temperature=0.3)


def torch_sampler(slip=None, **settings):
    """The torch loop as refimpl.testing's sample_fn: refimpl's model as a torch model (logits over V+1 ids, the
    mask's logit 0), a torch.Generator seeded by the test."""
    return rt.from_torch_sampler(functools.partial(generate, slip=slip, **(settings or LLADA)))


def test_llada_generate_follows_refimpls_law(model, law):
    rt.assert_sampler_matches(torch_sampler(), rt.sampler("llada", **LLADA), model, law)


@pytest.mark.parametrize("slip", ["steps", "temperature_twice", "tempered_confidence", "block_boundary",
                                  "mask_column"])
def test_llada_generate_with_a_slip(model, law, slip):  # fails on purpose, naming the slip
    rt.assert_sampler_matches(torch_sampler(slip), rt.sampler("llada", **LLADA), model, law)


def test_one_block_cannot_see_the_block_boundary_slip(model, law):
    one_block = dict(steps=4, block_length=4, temperature=0.3)
    with pytest.warns(rt.BlindSpotWarning, match="block's end one position late"):
        rt.assert_sampler_matches(torch_sampler("block_boundary", **one_block), rt.sampler("llada", **one_block),
                                  model, law)


def test_mdlm_loss_is_the_nelbo(law):
    rt.assert_loss_matches_nelbo(mdlm_loss, law)


def test_mdlm_loss_without_its_weight(law):  # fails on purpose
    rt.assert_loss_matches_nelbo(functools.partial(mdlm_loss, weighted=False), law)
