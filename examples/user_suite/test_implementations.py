"""Four implementations checked against refimpl; two fail on purpose (see README.md)."""
import functools

import refimpl.testing as rt
from implementations import generate, mdlm_loss

LLADA = dict(steps=3, block_length=3, temperature=0.5)


def sampler_under_test(tempered_confidence):
    def sample_fn(model, n, rng, length, vocab_size, prompt):
        return generate(model, n, rng, length, vocab_size, tempered_confidence=tempered_confidence, **LLADA)
    return sample_fn


def test_llada_generate_follows_refimpls_law(model, law):
    rt.assert_sampler_matches(sampler_under_test(False), rt.sampler("llada", **LLADA), model, law)


def test_llada_generate_ranking_by_tempered_probabilities(model, law):  # fails on purpose
    rt.assert_sampler_matches(sampler_under_test(True), rt.sampler("llada", **LLADA), model, law)


def test_mdlm_loss_is_the_nelbo(law):
    rt.assert_loss_matches_nelbo(mdlm_loss, law)


def test_mdlm_loss_without_its_weight(law):  # fails on purpose
    rt.assert_loss_matches_nelbo(functools.partial(mdlm_loss, weighted=False), law)
